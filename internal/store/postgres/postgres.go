// Package postgres is Herald's store for scale-out: any number of Herald
// nodes share one PostgreSQL database through a pgx connection pool.
//
// Nodes coordinate through the database only:
//   - Deliveries are claimed with UPDATE … FOR UPDATE SKIP LOCKED and a
//     lease (token + expiry): two nodes never lease the same row at once,
//     and a dead node's rows become claimable when its leases expire.
//   - Results are written only while the row is still leased with the
//     writer's token, so a node that lost its lease cannot overwrite the
//     newer holder's result.
//   - Writes that depend on the global switch read the settings row FOR
//     SHARE, and UpdateSettings updates that row first, so a switch and the
//     writes around it are serialized as they are on SQLite's one writer.
//   - Multi-row updates that can wait on each other lock their rows in id
//     order; what remains (a rare deadlock, a serialization failure) is
//     retried whole by tx.
//
// Migrations are embedded and applied on Open, each in its own transaction
// under a transaction-scoped advisory lock, so nodes starting together apply
// each one once and an interrupted start resumes where it stopped.
package postgres

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// DSN is a libpq-style URL or key=value string
	// ("postgres://herald@db:5432/herald?sslmode=verify-full").
	DSN string
	// Box seals webhook secrets at rest. Required: the store refuses to keep
	// secrets in clear.
	Box *seal.Box
	// Schema, when set, is created if missing and made the search_path of
	// every connection, so that Herald's tables live there. Tests use a fresh
	// schema each; deployments usually leave it empty (the DSN's or the
	// role's search_path applies, normally "public").
	Schema string
	// MaxConns bounds the pool. Defaults to pgxpool's default, the larger
	// of 4 and the number of CPUs.
	MaxConns int32
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	db   *pgxpool.Pool
	keys atomic.Pointer[keys] // swapped by Reseal
	ids  store.IDGen
}

// keys seal webhook secrets: cur seals and opens; prev, the key Reseal
// replaced, still opens. A webhook this process sealed with prev just before
// the swap (encoded before Reseal took its lock, written after) stays
// readable, and the next update reseals it with cur.
type keys struct {
	cur, prev *seal.Box
}

// seal returns the sealed form of w's secret fields, with the current key.
func (s *Store) seal(w *herald.Webhook) (string, error) {
	return store.SealWebhookSecrets(s.keys.Load().cur, w)
}

// open fills w's secret fields from their sealed form.
func (s *Store) open(sealed string, w *herald.Webhook) error {
	k := s.keys.Load()
	err := store.OpenWebhookSecrets(k.cur, sealed, w)
	if err != nil && k.prev != nil && store.OpenWebhookSecrets(k.prev, sealed, w) == nil {
		return nil
	}
	return err
}

// Open connects to the database, creates o.Schema when set, and brings the
// schema up to date.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.DSN == "" {
		return nil, errors.New("postgres: Options.DSN is required")
	}
	if o.Box == nil {
		return nil, errors.New("postgres: Options.Box is required to seal webhook secrets")
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.Schema != "" {
		// A runtime parameter rather than SET after connect: it is sent in
		// the startup message, so no connection ever runs with another path.
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
	}
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{db: db}
	s.keys.Store(&keys{cur: o.Box})
	if err := s.migrate(ctx, o.Schema); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool. It waits for connections in use to be returned.
func (s *Store) Close() error {
	s.db.Close()
	return nil
}

// lockClass is the first key of Herald's advisory locks ("HRLD"): while
// migrating, and while pruning. The second key hashes the lock's purpose
// and the schema the tables live in (Options.Schema, or the first schema of
// the DSN's search_path), so that nodes of one deployment exclude each other
// and deployments (or tests) in separate schemas of one database do not.
const lockClass = 0x48524c44

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in file-name order, holding Herald's migration lock
// (a session advisory lock) on one connection throughout: a node that starts
// while another migrates waits, then finds them applied. Each migration runs
// in its own transaction that records it with its changes, except an online
// one (see onlineMarker); an interrupted start (a crash, a lost connection, a
// failing statement) leaves the migrations before the failed one committed
// and nothing of the failed one, and the next start resumes there. The
// schema is created under the same lock, since two CREATE SCHEMA IF NOT
// EXISTS at once can both try to create it.
//
// The lock is taken by polling pg_try_advisory_lock outside any transaction
// rather than by waiting for it: CREATE INDEX CONCURRENTLY waits for every
// transaction open when it starts, and a node waiting for the lock inside
// one (or inside a statement) would wait for the builder that waits for it.
func (s *Store) migrate(ctx context.Context, schema string) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	known := map[int]bool{}
	versions := make([]int, len(names))
	for i, name := range names {
		if versions[i], err = migrationVersion(name); err != nil {
			return err
		}
		known[versions[i]] = true
	}
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	unlock, err := migrationLock(ctx, conn, schema)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer unlock()
	if schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: migrate: create schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	for i, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
			versions[i]).Scan(&done); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		base := path.Base(name)
		if bytes.HasPrefix(body, []byte(onlineMarker)) {
			err = migrateOnline(ctx, conn.Conn(), versions[i], base, string(body))
		} else {
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				// No arguments: pgx sends the file with the simple
				// protocol, which runs every statement in it.
				if _, err := tx.Exec(ctx, string(body)); err != nil {
					return fmt.Errorf("migration %s: %w", base, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
					versions[i], base); err != nil {
					return fmt.Errorf("migration %s: record: %w", base, err)
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	var newest int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	// A database migrated by a newer Herald may have a schema this one misreads.
	if newest != 0 && !known[newest] {
		return fmt.Errorf("postgres: database schema version %d is newer than this Herald %s knows; upgrade Herald", newest, herald.Version)
	}
	return nil
}

// migrationLockPoll is how often a node waiting for another's migration
// tries the lock again.
const migrationLockPoll = 100 * time.Millisecond

// migrationLock takes Herald's migration lock for schema on conn's session,
// waiting (until ctx ends) while another node holds it, and returns its
// release. The key hashes the schema the tables live in (schema, or the
// first of the DSN's search_path).
func migrationLock(ctx context.Context, conn *pgxpool.Conn, schema string) (func(), error) {
	const key = `$1, hashtext('migrate ' || coalesce(current_schema(), $2))`
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, int32(lockClass), schema).Scan(&ok); err != nil {
			return nil, fmt.Errorf("advisory lock: %w", err)
		}
		if ok {
			break
		}
		t.Reset(migrationLockPoll)
	}
	return func() {
		// A fresh context: the lock must go even when ctx is done (else
		// the connection would go back to the pool holding it).
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+key+`)`, int32(lockClass), schema); err != nil {
			conn.Conn().Close(uctx) // closing the session frees the lock
		}
	}, nil
}

// onlineMarker starts an online migration: one whose statements cannot run
// in a transaction (CREATE INDEX CONCURRENTLY, which builds an index while
// writes go on) and that a large table would make too long to hold writes
// back for. Its statements run one at a time, under the migration lock, and
// each must be safe to run again (IF NOT EXISTS, IF EXISTS), so that a run
// interrupted anywhere resumes on the next start: before them, the runner
// drops the indexes an interrupted concurrent build left invalid, which IF
// NOT EXISTS would otherwise take for built. The version is recorded after
// the last one.
const onlineMarker = "-- herald:online\n"

// migrateOnline runs the online migration body (see onlineMarker) on conn,
// which holds the migration lock.
func migrateOnline(ctx context.Context, conn *pgx.Conn, version int, name, body string) error {
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT i.indisvalid AND n.nspname = current_schema()`)
	if err != nil {
		return err
	}
	invalid, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, ix := range invalid {
		if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{ix}.Sanitize()); err != nil {
			return fmt.Errorf("migration %s: drop the invalid index %s an interrupted build left: %w", name, ix, err)
		}
	}
	for _, stmt := range splitStatements(body) {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, version, name); err != nil {
		return fmt.Errorf("migration %s: record: %w", name, err)
	}
	return nil
}

// splitStatements splits an online migration into its statements: comment
// lines dropped, a statement ending with a line that ends in ";". Online
// migrations hold plain DDL only (no function bodies or quoted semicolons).
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// migrationVersion reads the leading number of "migrations/0001_init.sql".
func migrationVersion(name string) (int, error) {
	base := path.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return 0, fmt.Errorf("postgres: migration %s: name must start with a positive number and '_'", base)
	}
	return v, nil
}

// maxTries bounds how often tx runs a transaction that failed with a
// deadlock or a serialization failure.
const maxTries = 5

// tx runs fn in a READ COMMITTED transaction and commits it. When PostgreSQL
// aborts it as a deadlock victim or for a serialization failure, nothing of
// it was applied, and it is run again from the start (after a short random
// pause, so that the two parties do not collide again): fn must therefore
// derive everything it writes from its inputs, not from a previous try.
// Lock ordering makes these aborts rare; retrying makes them invisible.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for try := 1; ; try++ {
		err := pgx.BeginFunc(ctx, s.db, fn)
		if err == nil || try == maxTries || !retryable(err) {
			return err
		}
		pause := time.Duration(try) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// retryable reports whether err aborted a transaction that may succeed if
// run again: deadlock_detected or serialization_failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// lockSettings reads the global switch FOR SHARE inside a write transaction:
// the decision it drives (hold or not) is atomic with the write, and a
// concurrent UpdateSettings waits until this transaction ends. Callers take
// it before any delivery row lock, as UpdateSettings does, so the two cannot
// deadlock.
const lockSettings = `SELECT webhooks_enabled FROM settings WHERE id = 1 FOR SHARE`

// isUnique reports whether err is a unique violation, and of which constraint.
func isUnique(err error) (constraint string, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// wrap labels an unexpected error with the operation; *herald.Error values
// pass through untouched so their code reaches the API.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// micro truncates t to what timestamptz keeps, in UTC: values the store hands
// back from memory (a delivery leased at ingest) then equal what a later read
// returns.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// utcPtr returns a scanned nullable time in UTC (pgx returns local times).
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nonNil returns v, or an empty slice for nil: pgx sends a nil slice as a
// NULL array, and "x <> ALL(NULL)" is NULL, not true.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// jsonText encodes v as JSON text for a text column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
