package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/storetest"
)

// A few checks on the standard testing package (the module's go.sum lacks
// testify's dependencies); the conformance suite has its own.
func noErr(t testing.TB, err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", fmt.Sprint(what...), err)
	}
}

func errContains(t testing.TB, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("want an error containing %q, got %v", sub, err)
	}
}

func check(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

func testBox(t testing.TB) *seal.Box {
	t.Helper()
	key, err := seal.ParseKey(seal.GenerateKey())
	noErr(t, err)
	box, err := seal.New(key)
	noErr(t, err)
	return box
}

func openTest(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "herald.db")
	}
	if o.Box == nil {
		o.Box = testBox(t)
	}
	s, err := Open(context.Background(), o)
	noErr(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}

func TestOpenRequiresBox(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "x.db")})
	errContains(t, err, "Box")
}

// Reopening runs no migration twice and keeps the data; the WAL mode and
// the pragmas are in force on both pools.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	box := testBox(t)
	s, err := Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "keep", URL: "https://example.com", SigningSecret: "whsec_x"}
	noErr(t, s.CreateWebhook(t.Context(), w))
	noErr(t, s.Close())

	s, err = Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	defer s.Close()
	got, err := s.GetWebhook(t.Context(), w.ID)
	noErr(t, err)
	check(t, got.SigningSecret.Reveal() == "whsec_x", "signing secret lost")

	var n int
	noErr(t, s.r.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
	entries, _ := migrations.ReadDir("migrations")
	check(t, n == len(entries), "%d migrations recorded, want %d (each once)", n, len(entries))
	for _, tc := range []struct {
		db           *sql.DB
		pragma, want string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "5000"},
		{s.r, "journal_mode", "wal"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", "5000"},
	} {
		var v string
		noErr(t, tc.db.QueryRow("PRAGMA "+tc.pragma).Scan(&v), tc.pragma)
		check(t, strings.ToLower(v) == tc.want, "PRAGMA %s = %s, want %s", tc.pragma, v, tc.want)
	}
	_, err = s.r.Exec(`DELETE FROM tokens`)
	check(t, err != nil, "the read pool wrote")

	// A key that does not match the database's secrets is reported, not
	// silently turned into empty secrets.
	noErr(t, s.Close())
	s, err = Open(t.Context(), Options{Path: path, Box: testBox(t)})
	noErr(t, err)
	defer s.Close()
	_, err = s.GetWebhook(t.Context(), w.ID)
	errContains(t, err, "cannot decrypt")
}

// Webhooks stored before migration 0004 retry 4xx answers, as they did.
func TestRetryClientErrorsMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	box := testBox(t)
	s, err := Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "old", URL: "https://example.com", SigningSecret: "whsec_x"}
	noErr(t, s.CreateWebhook(t.Context(), w))
	// Back to the schema before 0004, with the row in it.
	_, err = s.w.Exec(`ALTER TABLE webhooks DROP COLUMN retry_client_errors`)
	noErr(t, err)
	_, err = s.w.Exec(`DELETE FROM schema_migrations WHERE version = 4`)
	noErr(t, err)
	noErr(t, s.Close())

	s, err = Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	defer s.Close()
	got, err := s.GetWebhook(t.Context(), w.ID)
	noErr(t, err)
	check(t, got.RetryClientErrors, "an existing webhook has retry_client_errors false after the migration")
}

// Webhooks stored before migration 0011 send the Standard Webhooks headers,
// as they did.
func TestStandardHeadersMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	box := testBox(t)
	s, err := Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "old", URL: "https://example.com", SigningSecret: "whsec_x"}
	noErr(t, s.CreateWebhook(t.Context(), w))
	// Back to the schema before 0011, with the row in it.
	_, err = s.w.Exec(`ALTER TABLE webhooks DROP COLUMN standard_headers`)
	noErr(t, err)
	_, err = s.w.Exec(`DELETE FROM schema_migrations WHERE version = 11`)
	noErr(t, err)
	noErr(t, s.Close())

	s, err = Open(t.Context(), Options{Path: path, Box: box})
	noErr(t, err)
	defer s.Close()
	got, err := s.GetWebhook(t.Context(), w.ID)
	noErr(t, err)
	check(t, got.StandardHeaders, "an existing webhook has standard_headers false after the migration")
}

// Paths are passed to SQLite as URIs: characters that mean something in a
// URI must not change which file is opened.
func TestOddPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data dir #1?x=%20")
	noErr(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "herald.db")
	s := openTest(t, Options{Path: path})
	noErr(t, s.CreateToken(t.Context(), &herald.Token{ID: "tok_1", Name: "n", Role: herald.RoleViewer, Hash: "h"}))
	_, err := s.TokenByHash(t.Context(), "h")
	noErr(t, err)
	_, err = os.Stat(path)
	noErr(t, err, "the database is at the path given")
}

// A database migrated by a newer Herald is refused.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	s := openTest(t, Options{Path: path})
	_, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`)
	noErr(t, err)
	noErr(t, s.Close())
	_, err = Open(t.Context(), Options{Path: path, Box: testBox(t)})
	errContains(t, err, "newer")
}

// The hot queries use the indexes meant for them (a regression here turns a
// claim into a table scan, which only shows at scale).
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	for _, tc := range []struct {
		name, query, want string
	}{
		{"webhooks with due rows", sqlDueHooks, "deliveries_due (hook>?)"},
		{"due rows of a webhook", sqlDueOf, "deliveries_due (hook=? AND due_at<?)"},
		{"lease", sqlLease, "SEARCH deliveries USING PRIMARY KEY (id=?)"},
		{"next due", sqlNextDue, "deliveries_due (hook=?)"},
		{"delete webhook's open rows", `SELECT id FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying') AND hook = 1`,
			"deliveries_due (hook=?)"},
		{"complete", completeSQL(2), "SEARCH deliveries USING PRIMARY KEY (id=?)"},
		{"log by webhook", `SELECT d.id FROM deliveries d WHERE d.hook = ` + hooksTable.sqlNumOf("'w'") + ` AND d.id < x'00' ORDER BY d.id DESC LIMIT 5`, "deliveries_webhook"},
		{"list", `SELECT ` + deliveryColumns + ` WHERE d.id < x'00' ORDER BY d.id DESC LIMIT 5`, "SEARCH d USING PRIMARY KEY (id<?)"},
		{"log by state", `SELECT d.id FROM deliveries d WHERE d.state = 'failed' AND d.state IN ` + store.IndexedStates + ` ORDER BY d.id DESC LIMIT 5`, "deliveries_state"},
		{"count held", `SELECT count(*) FROM deliveries WHERE state = 'held' AND state IN ` + store.IndexedStates, "deliveries_state"},
		{"count pending", `SELECT count(*) FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying')`, "deliveries_due"},
		{"status", `SELECT st.event_type, d.state FROM delivery_status st JOIN deliveries d ON d.id = st.delivery_id
			WHERE st.webhook_id = 'w' ORDER BY st.event_type`, "SEARCH st USING PRIMARY KEY (webhook_id=?)"},
		{"event", `SELECT d.id FROM deliveries d WHERE d.event_seq IN (SELECT seq FROM events WHERE id = 'e')`, "deliveries_event"},
		{"counts", `SELECT hook, sum(succeeded) FROM delivery_counts WHERE minute >= 5 GROUP BY hook, minute`,
			"SEARCH delivery_counts USING PRIMARY KEY (minute>?)"},
		{"prune's scan", `SELECT id, created_at FROM deliveries WHERE id > x'00' ORDER BY id`, "SEARCH deliveries USING PRIMARY KEY (id>?)"},
	} {
		args := make([]any, strings.Count(tc.query, "?"))
		for i := range args {
			args[i] = 1
		}
		rows, err := s.w.Query(`EXPLAIN QUERY PLAN `+tc.query, args...)
		noErr(t, err, tc.name)
		var plan strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			noErr(t, rows.Scan(&id, &parent, &unused, &detail))
			plan.WriteString(detail + "\n")
		}
		noErr(t, rows.Close())
		check(t, strings.Contains(plan.String(), tc.want), "%s: plan does not use %s:\n%s", tc.name, tc.want, plan.String())
		check(t, !strings.Contains(plan.String(), "TEMP B-TREE"), "%s: plan sorts:\n%s", tc.name, plan.String())
	}
}

// Secrets never reach the database file or its WAL in clear, while the
// non-secret fields of the same webhook do (so the scan reads real data).
func TestSecretsNotInClear(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	s := openTest(t, Options{Path: path})
	ctx := t.Context()

	planted := map[string]string{
		"password":         "planted-password-7f3a",
		"token":            "planted-token-91bc",
		"header value":     "planted-header-value-c2d4",
		"key PEM":          "-----BEGIN PRIVATE KEY-----\nplanted-key-pem-5e6f\n-----END PRIVATE KEY-----",
		"challenge secret": "planted-challenge-a8b0",
		"signing secret":   "whsec_planted-signing-3c1d",
		"previous secret":  "whsec_planted-previous-77e2",
	}
	w := &herald.Webhook{
		ID: herald.NewID("wh"), Name: "visible-name-0b9e", Project: "p", URL: "https://visible-url.example.com",
		Enabled: true, Auth: herald.Auth{
			Type: herald.AuthMTLS, Username: "visible-user", Password: herald.Secret(planted["password"]),
			Token: herald.Secret(planted["token"]), HeaderName: "X-Key", HeaderValue: herald.Secret(planted["header value"]),
			CertPEM: "visible-cert", KeyPEM: herald.Secret(planted["key PEM"]),
		},
		ChallengeSecret: herald.Secret(planted["challenge secret"]),
		SigningSecret:   herald.Secret(planted["signing secret"]),
		CreatedAt:       time.Now(), UpdatedAt: time.Now(),
	}
	noErr(t, s.CreateWebhook(ctx, w))
	// Rotation: the update writes the secrets a second time.
	w.PreviousSecret, w.PreviousSecretUntil = w.SigningSecret, time.Now().Add(time.Hour)
	w.SigningSecret = "whsec_planted-rotated-19aa"
	planted["rotated secret"] = w.SigningSecret.Reveal()
	noErr(t, s.UpdateWebhook(ctx, w))
	got, err := s.GetWebhook(ctx, w.ID)
	noErr(t, err)
	check(t, got.Auth.Password.Reveal() == planted["password"], "password lost")

	check := func(stage string) {
		t.Helper()
		var all []byte
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(path + suffix)
			if os.IsNotExist(err) {
				continue
			}
			noErr(t, err)
			all = append(all, b...)
		}
		check(t, bytes.Contains(all, []byte("visible-name-0b9e")), "%s: the scan does not see the webhook row", stage)
		check(t, bytes.Contains(all, []byte("visible-user")), "%s: the scan does not see the auth column", stage)
		for name, secret := range planted {
			for _, needle := range []string{secret, strings.TrimPrefix(secret, "whsec_")} {
				check(t, !bytes.Contains(all, []byte(needle)), "%s: %s found in clear", stage, name)
			}
		}
		check(t, !bytes.Contains(all, []byte("********")), "%s: the mask is stored", stage)
	}
	check("in the WAL")
	noErr(t, s.Close())
	check("after checkpoint")
}

func TestRequestParts(t *testing.T) {
	t.Parallel()
	storetest.RequestParts(t, func(t *testing.T) store.Store { return openTest(t, Options{}) },
		func(s store.Store, table string) int {
			var n int
			if err := s.(*Store).r.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		})
}
