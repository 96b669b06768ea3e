// Package sqlite is Herald's embedded store: one database file in WAL mode,
// driven by modernc.org/sqlite (pure Go, so the binary stays static).
//
// SQLite allows one writer at a time, so the Store keeps exactly one write
// connection and funnels every write through it: writers queue in Go instead
// of spinning on SQLITE_BUSY, and transactions start with BEGIN IMMEDIATE so
// a second process sharing the file waits at the start rather than failing
// halfway. Reads go to a separate pool of query-only connections; in WAL mode
// they see the last committed state and never wait for the writer.
//
// Durability: synchronous=FULL makes every commit fsync the WAL, so an
// acknowledged ingest survives a process kill and a power loss. NORMAL would
// only survive the former.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// Path is the database file; it is created when missing. Its directory
	// must exist. The -wal and -shm files live beside it. It must be a real
	// file (not ":memory:"): the write connection and the read pool share it.
	Path string
	// Box seals webhook secrets at rest. Required: the store refuses to keep
	// secrets in clear.
	Box *seal.Box
	// LockFile, when set, is locked exclusively for as long as the Store is
	// open; Open fails at once with a *LockedError (errors.Is ErrLocked) if
	// another process holds it. Herald locks <data_dir>/herald.lock, so that
	// a node knows it is alone with its database (and may release every
	// lease at start).
	LockFile string
	// Logger receives what a long migration has to say at start (the
	// upgrade of the delivery log, migration 0017). Defaults to one that
	// discards.
	Logger *slog.Logger

	// synchronous overrides PRAGMA synchronous for benchmarks that measure
	// what FULL costs. Defaults to FULL.
	synchronous string
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	w   *sql.DB                  // one connection: every write
	r   *sql.DB                  // query-only pool: every read outside a write transaction
	box atomic.Pointer[seal.Box] // swapped by Reseal
	ids store.IDGen
	// lock is Options.LockFile, held until Close.
	lock *os.File
	// stmts are the hot path's statements, prepared once on the write
	// connection: parsing a 256-row INSERT again for every batch was 6% of
	// all CPU.
	// Set at Open, read-only after.
	stmts map[string]*sql.Stmt
	// hooks and names cache the tables that number webhook IDs, projects
	// and event types (migration 0017): rows are only ever added, and this
	// process is the database's only writer.
	hooks *numbers // hooksTable
	names *numbers // namesTable
	log   *slog.Logger
	// pruneFrom is where the current pass of Prune has read to (a key);
	// nil between passes.
	pruneMu   sync.Mutex
	pruneFrom any
}

// busyTimeout bounds how long a connection waits for a lock held by another
// process (the CLI, a backup) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) the database at o.Path and brings its schema
// up to date.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("sqlite: Options.Path is required")
	}
	if o.Box == nil {
		return nil, errors.New("sqlite: Options.Box is required to seal webhook secrets")
	}
	syncMode := o.synchronous
	if syncMode == "" {
		syncMode = "FULL"
	}
	path, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var lock *os.File
	if o.LockFile != "" {
		if lock, err = lockFile(o.LockFile); err != nil {
			return nil, err
		}
	}
	if err := prepareFiles(path); err != nil {
		closeLock(lock)
		return nil, err
	}
	bt := strconv.Itoa(int(busyTimeout / time.Millisecond))
	w, err := sql.Open("sqlite", dsn(path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {
			"busy_timeout(" + bt + ")",
			"journal_mode(WAL)",
			"synchronous(" + syncMode + ")",
			"foreign_keys(1)",
			// Statement journals (one per multi-row statement in a
			// transaction) stay in memory instead of a temp file: a pwrite
			// per completed delivery otherwise.
			"temp_store(MEMORY)",
			// 32 MiB of page cache: the hot ends of the indexes stay in
			// memory as the tables grow. Defaults to 2 MiB.
			"cache_size(-32768)",
			// Keep the WAL from staying huge after a burst once checkpointed.
			"journal_size_limit(67108864)",
		},
	}))
	if err != nil {
		closeLock(lock)
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, lock: lock, log: o.Logger, hooks: newNumbers(hooksTable), names: newNumbers(namesTable)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.box.Store(o.Box)
	if err := s.migrate(ctx); err != nil {
		w.Close()
		closeLock(lock)
		return nil, err
	}
	// Readers open after the migration so the schema they see is final, and
	// after journal_mode=WAL is persisted in the file.
	r, err := sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {"busy_timeout(" + bt + ")", "query_only(1)", "temp_store(MEMORY)"},
	}))
	if err != nil {
		w.Close()
		closeLock(lock)
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := s.prepareAll(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func dsn(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes both pools. The last connection to close checkpoints the WAL.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	// Last: the lock guards the files until every connection is closed.
	closeLock(s.lock)
	return errors.Join(errs...)
}

func closeLock(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in file-name order, each in its own IMMEDIATE
// transaction: two processes opening a new file at once apply each one once.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	known := map[int]bool{}
	for _, name := range names {
		v, err := migrationVersion(name)
		if err != nil {
			return err
		}
		known[v] = true
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.write(ctx, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				v, filepath.Base(name), toDB(time.Now()))
			return err
		})
		if err == nil && v == compactVersion {
			// Its rows move in batches after its schema change (and go on
			// moving after an interrupted run), before any later migration.
			err = s.finishCompact(ctx)
		}
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", filepath.Base(name), err)
		}
	}
	// A file migrated by a newer Herald may have a schema this one misreads.
	var newest int
	if err := s.w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if !known[newest] {
		return fmt.Errorf("sqlite: database schema version %d is newer than this Herald %s knows; upgrade Herald", newest, herald.Version)
	}
	return nil
}

// migrationVersion reads the leading number of "migrations/0001_init.sql".
func migrationVersion(name string) (int, error) {
	base := filepath.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return 0, fmt.Errorf("sqlite: migration %s: name must start with a positive number and '_'", base)
	}
	return v, nil
}

// write runs fn in a transaction on the write connection and commits it. The
// transaction begins IMMEDIATE (DSN _txlock), taking the write lock up front.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// prepared returns q as a statement of tx. The hot path's statements are
// prepared once, at Open (prepareAll), on the write connection; any other
// text is prepared for this transaction only.
func (s *Store) prepared(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if st := s.stmts[q]; st != nil {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, q)
}

// prepareAll prepares the statements of every batch shape (chunkSizes) on
// the write connection.
func (s *Store) prepareAll(ctx context.Context) error {
	var texts []string
	for _, n := range chunkSizes {
		texts = append(texts, completeSQL(n), insertAttemptsSQL(n), insertDeliveriesSQL(n), insertEventsSQL(n),
			insertShapesSQL(n), insertBodiesSQL(n), upsertStatusSQL(n), upsertCountsSQL(n))
	}
	texts = append(texts, sqlDueHooks, sqlDueOf, sqlLease, settingsSQL, liveWebhooksSQL)
	texts = append(texts, healthSQL[:]...)
	s.stmts = make(map[string]*sql.Stmt, len(texts))
	for _, q := range texts {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

// chunkSizes are the row counts of the multi-row statements, largest first:
// a batch of n rows is written as greedy chunks of these sizes, so that
// every statement text is one of a few, prepared once.
var chunkSizes = []int{256, 64, 16, 4, 1}

// chunks splits n into chunkSizes, largest first (300 → 256, 16, 16, 4, 4, 4).
func chunks(n int) []int {
	var out []int
	for _, c := range chunkSizes {
		for n >= c {
			out = append(out, c)
			n -= c
		}
	}
	return out
}

// webhooksEnabled reads the global switch inside a write transaction, so the
// decision it drives (hold or not) is atomic with the write.
func (s *Store) webhooksEnabled(ctx context.Context, tx *sql.Tx) (bool, error) {
	st, err := s.prepared(ctx, tx, settingsSQL)
	if err != nil {
		return false, err
	}
	var on bool
	err = st.QueryRowContext(ctx).Scan(&on)
	return on, err
}

const settingsSQL = `SELECT webhooks_enabled FROM settings WHERE id = 1`

// toDB converts t to what the schema stores: unix microseconds, UTC. The zero
// time maps to a (negative) value that converts back to the zero time.
func toDB(t time.Time) int64 { return t.UnixMicro() }

// fromDB is the inverse of toDB; times come back in UTC.
func fromDB(v int64) time.Time { return time.UnixMicro(v).UTC() }

func toDBNull(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toDB(*t), Valid: true}
}

func fromDBNull(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromDB(v.Int64)
	return &t
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
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
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// jsonList encodes values as a JSON array for `IN (SELECT value FROM
// json_each(?))`: one bound parameter whatever the length, so lists never hit
// SQLite's variable limit and statements stay cacheable.
func jsonList[T any](values []T) string {
	if len(values) == 0 {
		return "[]"
	}
	b, err := json.Marshal(values)
	if err != nil {
		panic(err) // strings and integers always marshal
	}
	return string(b)
}
