package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresHint says how to get the PostgreSQL server the tests use.
const postgresHint = "start it with `pg_ctlcluster 15 main start` (make test does, via scripts/test-deps.sh) " +
	"or point HERALD_TEST_DATABASE_URL at a server"

var (
	pgOnce sync.Once
	pgDSN  string // "" when no server answered
	pgErr  error
)

// PostgresDSN returns the DSN of a reachable PostgreSQL server:
// HERALD_TEST_DATABASE_URL, or the local one of `make test` (trust auth,
// database test). Without one, Require decides: fail in CI, skip elsewhere.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	pgOnce.Do(func() {
		candidates := []string{os.Getenv("HERALD_TEST_DATABASE_URL")}
		if candidates[0] == "" {
			candidates = []string{
				"postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=3",
				"postgres://root@127.0.0.1:5432/test?sslmode=disable&connect_timeout=3",
			}
		}
		for _, dsn := range candidates {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn, err := pgx.Connect(ctx, dsn)
			if err == nil {
				err = conn.Ping(ctx)
				conn.Close(ctx)
			}
			cancel()
			if err == nil {
				pgDSN = dsn
				return
			}
			pgErr = fmt.Errorf("%s: %w", redactDSN(dsn), err)
		}
	})
	if pgDSN == "" {
		Require(tb, "PostgreSQL", fmt.Errorf("not reachable (%w); %s", pgErr, postgresHint))
	}
	return pgDSN
}

// PostgresExec runs sql (with args, or several statements without) on a
// connection of its own, outside any store.
func PostgresExec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresDSN(tb))
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%.200s: %v", sql, err)
	}
}

// PostgresSchema names a fresh schema (prefix plus random hex) and drops it
// when the test ends: after the stores using it are closed, since cleanups
// run last registered, first.
func PostgresSchema(tb testing.TB, prefix string) string {
	tb.Helper()
	PostgresDSN(tb)
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	tb.Cleanup(func() { PostgresExec(tb, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`) })
	return name
}

// redactDSN hides a password in a DSN for messages.
func redactDSN(dsn string) string {
	if cfg, err := pgx.ParseConfig(dsn); err == nil && cfg.Password != "" {
		return strings.ReplaceAll(dsn, cfg.Password, "xxxxx")
	}
	return dsn
}
