package upgradetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/postgres"
	"github.com/herald-hq/herald/internal/store/sqlite"
	"github.com/herald-hq/herald/internal/testenv"
)

// The fixture files, under testdata.
const (
	sqliteFixture   = "testdata/v0012.sqlite"
	postgresFixture = "testdata/v0012_postgres.sql"
	keyFixture      = "testdata/v0012_secret.key"
	schemaToken     = "__SCHEMA__"
	// fixtureVersion is the newest migration the fixtures were written at.
	fixtureVersion = 12
)

// A second SQLite fixture, written by the release at 0015 (commit 6c466fb,
// the generator's constants set to 15): its first attempts are kept in the
// first_* columns of 0014, which 0017 rewrites.
const (
	sqliteFixture15 = "testdata/v0015.sqlite"
	keyFixture15    = "testdata/v0015_secret.key"
)

// goldenFile is the golden file of the fixture a stores entry names.
func goldenFile(store string) string {
	if store == "sqlite-v0015" {
		return "testdata/v0015_sqlite.golden.json"
	}
	return "testdata/v0012_" + store + ".golden.json"
}

// readBack is what a store returns for the fixture's content: the golden
// files hold it as JSON.
type readBack struct {
	Settings   herald.Settings `json:"settings"`
	Webhooks   []webhookBack   `json:"webhooks"`
	Events     []*herald.Event `json:"events"`
	Deliveries []deliveryBack  `json:"deliveries"`
}

type webhookBack struct {
	Webhook *herald.Webhook `json:"webhook"`
	// Secrets are the opened secret fields, which the webhook's JSON masks.
	Secrets map[string]string `json:"secrets"`
}

type deliveryBack struct {
	Delivery *herald.Delivery  `json:"delivery"`
	Attempts []*herald.Attempt `json:"attempts"`
}

// secretsOf lists w's secret fields in clear, by name; unset ones are left out.
func secretsOf(w *herald.Webhook) map[string]string {
	out := map[string]string{}
	add := func(name string, s herald.Secret) {
		if s.IsSet() {
			out[name] = s.Reveal()
		}
	}
	add("signing_secret", w.SigningSecret)
	add("previous_secret", w.PreviousSecret)
	add("challenge_secret", w.ChallengeSecret)
	add("auth.password", w.Auth.Password)
	add("auth.token", w.Auth.Token)
	add("auth.header_value", w.Auth.HeaderValue)
	add("auth.key_pem", w.Auth.KeyPEM)
	add("auth.secret", w.Auth.Secret)
	for k, v := range w.SecretHeaders {
		add("secret_headers."+k, v)
	}
	if !w.PreviousSecretUntil.IsZero() {
		out["previous_secret_until"] = w.PreviousSecretUntil.UTC().Format(time.RFC3339Nano)
	}
	return out
}

// read reads everything the fixture holds through the store's interface.
func read(ctx context.Context, st store.Store) (*readBack, error) {
	var rb readBack
	var err error
	if rb.Settings, err = st.GetSettings(ctx); err != nil {
		return nil, err
	}
	hooks, err := st.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil {
		return nil, err
	}
	sort.Slice(hooks, func(i, j int) bool { return hooks[i].ID < hooks[j].ID })
	for _, h := range hooks {
		w, err := st.GetWebhook(ctx, h.ID)
		if err != nil {
			return nil, err
		}
		rb.Webhooks = append(rb.Webhooks, webhookBack{Webhook: w, Secrets: secretsOf(w)})
	}
	seen := map[string]bool{}
	f := store.DeliveryFilter{Oldest: true, Limit: 500}
	for {
		ds, next, err := st.ListDeliveries(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			as, err := st.ListAttempts(ctx, d.ID)
			if err != nil {
				return nil, err
			}
			rb.Deliveries = append(rb.Deliveries, deliveryBack{Delivery: d, Attempts: as})
			if !seen[d.EventID] {
				seen[d.EventID] = true
				evs, err := st.FindEvents(ctx, d.EventID)
				if err != nil {
					return nil, err
				}
				rb.Events = append(rb.Events, evs...)
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	return &rb, nil
}

// matchGolden compares what st reads back with the golden file of
// storeName: every golden value must be read back equal; values the golden
// file does not know (fields of a newer release) are logged.
func matchGolden(t *testing.T, st store.Store, storeName string) *readBack {
	t.Helper()
	rb, err := read(t.Context(), st)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	raw, err := os.ReadFile(goldenFile(storeName))
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: %v", goldenFile(storeName), err)
	}
	gotJSON, err := json.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(gotJSON, &got); err != nil {
		t.Fatal(err)
	}
	var diffs, extra []string
	subset("", want, got, &diffs, &extra)
	for _, e := range extra {
		t.Logf("read back a field the %s fixture does not know: %s", storeName, e)
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.FailNow()
	}
	return rb
}

// subset records in diffs where got differs from want, and in extra the
// object keys got has and want lacks.
func subset(at string, want, got any, diffs, extra *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: want object %v, read back %v", at, w, got))
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing (want %v)", at, k, wv))
				continue
			}
			subset(at+"."+k, wv, gv, diffs, extra)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				*extra = append(*extra, at+"."+k)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %d items, read back %v", at, len(w), got))
			return
		}
		for i := range w {
			subset(at+"["+strconv.Itoa(i)+"]", w[i], g[i], diffs, extra)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %v, read back %v", at, want, got))
		}
	}
}

// fixtureBox is the key the fixtures' secrets are sealed with.
func fixtureBox(t *testing.T) (*seal.Box, string) { return fixtureBoxAt(t, keyFixture) }

func fixtureBoxAt(t *testing.T, file string) (*seal.Box, string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.ParseKey(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box, strings.TrimSpace(string(raw))
}

// newestMigration is the highest version among the .sql files of dir.
func newestMigration(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.Atoi(num); ok && err == nil && strings.HasSuffix(e.Name(), ".sql") {
			newest = max(newest, v)
		}
	}
	return newest
}

// db is one fixture loaded for a test: a data directory (SQLite) or a fresh
// schema (PostgreSQL).
type db interface {
	// open opens the store, migrating it.
	open(t *testing.T) (store.Store, error)
	// exec runs statements outside the store, as an operator's tool would.
	exec(t *testing.T, q string)
	// queryInt runs a query that returns one integer.
	queryInt(t *testing.T, q string) int
	// configure points cfg at this database.
	configure(cfg *config.Config)
	// newest is the newest migration this code has for the store.
	newest(t *testing.T) int
}

// stores lists the fixtures: each store's of 0012, and SQLite's of 0015.
var stores = []struct {
	name string // also names its golden file (goldenFile)
	kind string // the store: "sqlite" or "postgres"
	// from is the newest migration of the fixture.
	from int
	load func(t *testing.T) db
}{
	{"sqlite", "sqlite", 12, loadSQLite},
	{"postgres", "postgres", 12, loadPostgres},
	{"sqlite-v0015", "sqlite", 15, func(t *testing.T) db { return loadSQLiteAt(t, sqliteFixture15, keyFixture15) }},
}

// sqliteDB is a data directory holding a copy of the fixture.
type sqliteDB struct {
	dir string
	box *seal.Box
}

func loadSQLite(t *testing.T) db { return loadSQLiteAt(t, sqliteFixture, keyFixture) }

func loadSQLiteAt(t *testing.T, fixture, keyFile string) db {
	t.Helper()
	dir := t.TempDir()
	box, _ := fixtureBoxAt(t, keyFile)
	for src, dst := range map[string]string{fixture: "herald.db", keyFile: seal.KeyFile} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &sqliteDB{dir: dir, box: box}
}

func (d *sqliteDB) path() string { return filepath.Join(d.dir, "herald.db") }

func (d *sqliteDB) open(t *testing.T) (store.Store, error) {
	return sqlite.Open(t.Context(), sqlite.Options{Path: d.path(), Box: d.box})
}

func (d *sqliteDB) raw(t *testing.T) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+d.path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (d *sqliteDB) exec(t *testing.T, q string) {
	t.Helper()
	conn := d.raw(t)
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (d *sqliteDB) queryInt(t *testing.T, q string) int {
	t.Helper()
	conn := d.raw(t)
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (d *sqliteDB) configure(cfg *config.Config) {
	cfg.Storage.Driver = "sqlite"
	cfg.DataDir = d.dir
}

func (d *sqliteDB) newest(t *testing.T) int { return newestMigration(t, "../sqlite/migrations") }

// postgresDB is a fresh schema into which the dump was replayed.
type postgresDB struct {
	dsn, schema string
	box         *seal.Box
	key         string
}

func loadPostgres(t *testing.T) db {
	t.Helper()
	d := &postgresDB{dsn: testenv.PostgresDSN(t), schema: testenv.PostgresSchema(t, "herald_upgrade_")}
	d.box, d.key = fixtureBox(t)
	dump, err := os.ReadFile(postgresFixture)
	if err != nil {
		t.Fatal(err)
	}
	// The dump sets search_path to '' for its session: a connection of its own.
	testenv.PostgresExec(t, strings.ReplaceAll(string(dump), schemaToken, pgx.Identifier{d.schema}.Sanitize()))
	return d
}

func (d *postgresDB) open(t *testing.T) (store.Store, error) {
	return postgres.Open(t.Context(), postgres.Options{DSN: d.dsn, Schema: d.schema, Box: d.box, MaxConns: 4})
}

func (d *postgresDB) exec(t *testing.T, q string) {
	t.Helper()
	testenv.PostgresExec(t, `SET search_path TO `+pgx.Identifier{d.schema}.Sanitize()+`; `+q)
}

func (d *postgresDB) queryInt(t *testing.T, q string) int {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{d.schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (d *postgresDB) configure(cfg *config.Config) {
	cfg.Storage.Driver = "postgres"
	// search_path travels as a runtime parameter of every connection, as
	// a deployment that keeps Herald in its own schema would set it.
	cfg.Storage.DatabaseURL = d.dsn + "&search_path=" + d.schema
	cfg.SecretKey = d.key
}

func (d *postgresDB) newest(t *testing.T) int { return newestMigration(t, "../postgres/migrations") }
