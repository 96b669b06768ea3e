package upgradetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/postgres"
	"github.com/herald-hq/herald/internal/store/sqlite"
	"github.com/herald-hq/herald/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the fixtures under testdata (only from a commit whose newest migration is 0012)")

// t0 is the fixture's "now" while it is written: fixed, so that nothing in
// the fixture depends on when it was made.
var t0 = time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// fixtureNode is the node whose leases the fixture's in-flight rows hold: it
// stopped with them, and the leases expired long ago.
const fixtureNode = "fixture-node"

// TestGenerateFixtures writes the fixtures with the store code of this
// commit. It runs only with -update.
func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("writes the fixtures; run with -args -update")
	}
	for _, dir := range []string{"../sqlite/migrations", "../postgres/migrations"} {
		if v := newestMigration(t, dir); v != fixtureVersion {
			t.Fatalf("%s: newest migration is %04d; the fixtures are of version %04d and can only be written by a commit at that version", dir, v, fixtureVersion)
		}
	}
	key := seal.GenerateKey()
	if err := os.WriteFile(keyFixture, []byte(key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	box, _ := fixtureBox(t)
	t.Run("sqlite", func(t *testing.T) { generateSQLite(t, box) })
	t.Run("postgres", func(t *testing.T) { generatePostgres(t, box) })
}

func generateSQLite(t *testing.T, box *seal.Box) {
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.db")
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: path, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st)
	writeGolden(t, st, "sqlite")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Compact the file and move everything out of the WAL, so that the one
	// file is the whole database.
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Fatalf("the WAL still holds %d bytes", fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 300<<10 {
		t.Fatalf("fixture is %d bytes; keep it under 300 KiB", len(b))
	}
	if err := os.WriteFile(sqliteFixture, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", sqliteFixture, len(b))
}

func generatePostgres(t *testing.T, box *seal.Box) {
	dsn := testenv.PostgresDSN(t)
	schema := testenv.PostgresSchema(t, "herald_upgrade_")
	st, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn, Schema: schema, Box: box, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st)
	writeGolden(t, st, "postgres")
	st.Close()

	// pg_dump writes what the server has; it must be of the server's major
	// version (an older one refuses, a newer one may emit syntax the server
	// lacks).
	out, err := exec.Command("pg_dump", "--version").Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	m := regexp.MustCompile(`\) (\d+)\.`).FindSubmatch(out)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	var server int
	err = conn.QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int / 10000`).Scan(&server)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || string(m[1]) != fmt.Sprint(server) {
		t.Fatalf("pg_dump is %q, the server is version %d: use the pg_dump of the server's version", strings.TrimSpace(string(out)), server)
	}
	dump, err := exec.Command("pg_dump", "--schema="+schema, "--column-inserts", "--no-owner", "--no-privileges",
		"--no-comments", "--no-publications", "--no-subscriptions", "--no-security-labels", dsn).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(string(dump), "\n") {
		// psql meta-commands (\restrict since 15.14) are not SQL.
		if strings.HasPrefix(l, `\`) {
			continue
		}
		lines = append(lines, l)
	}
	text := strings.ReplaceAll(strings.Join(lines, "\n"), schema, schemaToken)
	header := "-- Herald schema version 0012 with the upgrade fixture's rows (internal/store/upgradetest).\n" +
		"-- Written by TestGenerateFixtures with pg_dump; " + schemaToken + " is the schema name.\n"
	if err := os.WriteFile(postgresFixture, []byte(header+text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeGolden records what st reads back now.
func writeGolden(t *testing.T, st store.Store, name string) {
	rb, err := read(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(rb, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile(name), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fill writes the fixture's content through the store, as a running
// Herald would have:
//
//	webhook "signed" (project alpha): a1 succeeded, a2 failed after two
//	  attempts, a3 retrying and a4 pending (both leased by fixtureNode when
//	  the switch went off), a5 held after two attempts, a6 held (ingested
//	  before the switch went off), a7 held (ingested after).
//	webhook "ordered" (project beta, ordered): b1 succeeded, b2 retrying
//	  (leased), b3, b4 and b5 held.
func fill(t *testing.T, st store.Store) {
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	signed := &herald.Webhook{
		ID: "wh_fixture_signed", Name: "signed", Project: "alpha", URL: "http://127.0.0.1:9/alpha?sig=%5Bx%5D",
		Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"image.*"},
		Conditions: []herald.Condition{{Label: "env", Operator: herald.OpIn, Values: []string{"prod", "stage"}}},
		Severity:   herald.SeverityPresetAll, Language: "en", Format: herald.FormatStandard,
		Headers:         map[string]string{"X-Team": "infra"},
		Auth:            herald.Auth{Type: herald.AuthBasic, Username: "herald", Password: "basic-password"},
		SecretHeaders:   map[string]herald.Secret{"X-Api-Key": "api-key-value"},
		ChallengeSecret: "challenge-value", MaxAttempts: 8, Timeout: herald.Duration(5 * time.Second),
		RetryClientErrors: true, StandardHeaders: true,
		SigningSecret: "whsec_Zml4dHVyZS1jdXJyZW50LXNlY3JldA==", PreviousSecret: "whsec_Zml4dHVyZS1wcmV2aW91cy1zZWNyZXQ=",
		PreviousSecretUntil: at(24 * time.Hour),
		CreatedAt:           at(-24 * time.Hour), UpdatedAt: at(-time.Hour),
	}
	ordered := &herald.Webhook{
		ID: "wh_fixture_ordered", Name: "ordered", Project: "beta", URL: "http://127.0.0.1:9/beta",
		Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"*"},
		Severity: herald.SeverityPresetAll, Language: "zh-CN", Format: herald.FormatStandard,
		Auth: herald.Auth{Type: herald.AuthNone}, MaxAttempts: 8, Ordered: true,
		RetryClientErrors: false, StandardHeaders: true,
		SigningSecret: "whsec_Zml4dHVyZS1vcmRlcmVkLXNlY3JldA==",
		CreatedAt:     at(-24 * time.Hour), UpdatedAt: at(-24 * time.Hour),
	}
	must(st.CreateWebhook(ctx, signed))
	must(st.CreateWebhook(ctx, ordered))

	event := func(id, project string, received time.Time) *herald.Event {
		return &herald.Event{
			ID: id, Type: "image.push", Project: project, Source: "registry", Subject: "library/nginx:" + id,
			Severity: herald.SeverityWarning, Labels: map[string]string{"env": "prod"},
			Data:    json.RawMessage(`{"repo":"library/nginx","tag":"` + id + `","note":"告警 ✓"}`),
			Message: "image pushed", OccurredAt: received.Add(-time.Second), ReceivedAt: received,
		}
	}
	ingest := func(now time.Time, hook string, evs ...*herald.Event) {
		t.Helper()
		items := make([]store.IngestItem, len(evs))
		for i, ev := range evs {
			items[i] = store.IngestItem{Event: ev, WebhookIDs: []string{hook}}
		}
		_, err := st.Ingest(ctx, store.IngestParams{Items: items, Now: now})
		must(err)
	}
	byEvent := map[string]*store.Claimed{}
	claim := func(now time.Time, lease time.Duration, exclude ...string) {
		t.Helper()
		cs, err := st.ClaimDeliveries(ctx, store.ClaimParams{Now: now, Limit: 100, LeaseToken: fixtureNode + "-1",
			LeaseFor: lease, ExcludeWebhooks: exclude})
		must(err)
		for _, c := range cs {
			byEvent[c.Event.ID] = c
		}
	}
	complete := func(now time.Time, evID string, state herald.State, status int, next time.Time) {
		t.Helper()
		c := byEvent[evID]
		if c == nil {
			t.Fatalf("%s was not claimed", evID)
		}
		w := signed
		if c.Delivery.WebhookID == ordered.ID {
			w = ordered
		}
		errText := ""
		if status >= 300 {
			errText = fmt.Sprintf("HTTP %d", status)
		}
		a := &herald.Attempt{
			DeliveryID: c.Delivery.ID, Number: c.Delivery.Attempts + 1, StartedAt: now.Add(-time.Second),
			Latency: herald.Duration(120 * time.Millisecond),
			RequestHeaders: map[string][]string{
				"Content-Type": {"application/json"}, "Webhook-Id": {c.Delivery.ID},
				"Authorization": {"[redacted]"}, "User-Agent": {"Herald/fixture"},
			},
			RequestMethod: "POST", RequestURL: strings.Replace(w.URL, "%5Bx%5D", "%5Bredacted%5D", 1),
			RequestBody:     `{"id":"` + evID + `","type":"image.push","data":{"note":"告警 ✓"}}`,
			StatusCode:      status,
			ResponseHeaders: map[string][]string{"Server": {"fixture"}},
			ResponseBody:    fmt.Sprintf("status %d", status), Error: errText,
		}
		applied, err := st.CompleteDeliveries(ctx, []store.Completion{{
			DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
			Attempt: a, State: state, NextAttemptAt: next, Error: errText, Now: now,
		}})
		must(err)
		if len(applied) != 1 || !applied[0] {
			t.Fatalf("completion of %s not applied", evID)
		}
		delete(byEvent, evID)
	}

	ingest(t0, signed.ID, event("a1", "alpha", t0), event("a2", "alpha", t0), event("a3", "alpha", t0),
		event("a4", "alpha", t0), event("a5", "alpha", t0))
	ingest(t0, ordered.ID, event("b1", "beta", t0), event("b2", "beta", t0), event("b3", "beta", t0),
		event("b4", "beta", t0))

	// a1..a5 and b1 (the ordered webhook's oldest) are sent.
	claim(at(time.Second), time.Minute)
	complete(at(2*time.Second), "a1", herald.StateSucceeded, 200, time.Time{})
	complete(at(2*time.Second), "a2", herald.StateRetrying, 500, at(time.Minute))
	complete(at(2*time.Second), "a3", herald.StateRetrying, 503, at(time.Minute))
	complete(at(2*time.Second), "a5", herald.StateRetrying, 502, at(time.Minute))
	complete(at(2*time.Second), "b1", herald.StateSucceeded, 204, time.Time{})

	// a2, a3, a4 (its lease ran out) and a5 again, with b2.
	claim(at(2*time.Minute), 10*time.Minute)
	complete(at(2*time.Minute+time.Second), "a2", herald.StateFailed, 500, time.Time{})
	complete(at(2*time.Minute+time.Second), "a5", herald.StateRetrying, 502, at(3*time.Minute))
	complete(at(2*time.Minute+time.Second), "b2", herald.StateRetrying, 500, at(3*time.Minute))
	// b2's second try is in flight, a3 and a4 still are.
	claim(at(3*time.Minute), 10*time.Minute, signed.ID)

	ingest(at(4*time.Minute), signed.ID, event("a6", "alpha", at(4*time.Minute)))
	ingest(at(4*time.Minute), ordered.ID, event("b5", "beta", at(4*time.Minute)))
	// Switched off: every row not in flight is held; a3, a4 and b2 stay
	// leased, and their node stops before it reports.
	must(st.UpdateSettings(ctx, herald.Settings{WebhooksEnabled: false}, at(5*time.Minute)))
	ingest(at(6*time.Minute), signed.ID, event("a7", "alpha", at(6*time.Minute)))

	want := map[herald.State]int{herald.StatePending: 1, herald.StateRetrying: 2, herald.StateHeld: 6,
		herald.StateSucceeded: 2, herald.StateFailed: 1}
	for s, n := range want {
		got, err := st.CountDeliveries(ctx, s)
		must(err)
		if got != n {
			t.Fatalf("%s deliveries: %d, want %d", s, got, n)
		}
	}
}
