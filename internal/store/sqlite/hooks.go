package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// A delivery names its webhook by number (deliveries.hook, migration 0017):
// the table hooks gives each webhook ID, deleted ones included, a number
// once, and never reuses it (AUTOINCREMENT). hookCache holds what this
// process has read of it.
type hookCache struct {
	mu    sync.RWMutex
	byID  map[string]int64
	byNum map[int64]string
}

func (c *hookCache) add(id string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID, c.byNum = map[string]int64{}, map[int64]string{}
	}
	c.byID[id], c.byNum[n] = n, id
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// hookOf is the number of webhook id, read through q (a transaction that
// may have just added it, or the read pool); 0, which no webhook has, when
// it has none.
func (s *Store) hookOf(ctx context.Context, q rowQuerier, id string) (int64, error) {
	s.hooks.mu.RLock()
	n, ok := s.hooks.byID[id]
	s.hooks.mu.RUnlock()
	if ok {
		return n, nil
	}
	// A transaction reading here has not added id itself (only
	// ensureHook and CreateWebhook add, and neither reads through here), so
	// what it reads is committed and may be cached.
	err := q.QueryRowContext(ctx, `SELECT hook FROM hooks WHERE webhook_id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.hooks.add(id, n)
	return n, nil
}

// webhookOf is the webhook ID of number n, read through q on a miss.
func (s *Store) webhookOf(ctx context.Context, q rowQuerier, n int64) (string, error) {
	s.hooks.mu.RLock()
	id, ok := s.hooks.byNum[n]
	s.hooks.mu.RUnlock()
	if ok {
		return id, nil
	}
	if err := q.QueryRowContext(ctx, `SELECT webhook_id FROM hooks WHERE hook = ?`, n).Scan(&id); err != nil {
		return "", fmt.Errorf("webhook number %d: %w", n, err)
	}
	s.hooks.add(id, n)
	return id, nil
}

// sqlHookOf is the SQL of the number of the webhook ID in parameter p.
func sqlHookOf(p string) string { return `(SELECT hook FROM hooks WHERE webhook_id = ` + p + `)` }

// sqlWebhookOf is the SQL of the webhook ID of the number in column c.
func sqlWebhookOf(c string) string { return `(SELECT webhook_id FROM hooks WHERE hook = ` + c + `)` }

// ensureHook is hookOf that first gives id a number if it has none (a test
// send's webhook may be one not saved). The number is not cached here: tx
// may yet roll back, and AUTOINCREMENT would then hand it out again.
func (s *Store) ensureHook(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO hooks (webhook_id) VALUES (?) ON CONFLICT DO NOTHING`, id); err != nil {
		return 0, err
	}
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT hook FROM hooks WHERE webhook_id = ?`, id).Scan(&n)
	return n, err
}

// A delivery's project and event type are kept as numbers (migration 0017):
// the table names gives each distinct text a number once; a delivery's
// project and event_type columns hold those numbers, one or two bytes
// instead of the text. nameCache holds what this process has read of it, or
// added in a transaction that committed.
type nameCache struct {
	mu     sync.RWMutex
	byName map[string]int64
	byNum  map[int64]string
}

func (c *nameCache) add(name string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil {
		c.byName, c.byNum = map[string]int64{}, map[int64]string{}
	}
	c.byName[name], c.byNum[n] = n, name
}

func (c *nameCache) num(name string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.byName[name]
	return n, ok
}

// interner numbers names inside one write transaction; commit adds what it
// numbered to the cache once the transaction has committed (a number of a
// transaction that rolled back may be handed out again).
type interner struct {
	s     *Store
	tx    *sql.Tx
	fresh map[string]int64
}

func (s *Store) interner(tx *sql.Tx) *interner { return &interner{s: s, tx: tx} }

// num is name's number, given one if it has none.
func (in *interner) num(ctx context.Context, name string) (int64, error) {
	if n, ok := in.s.names.num(name); ok {
		return n, nil
	}
	if n, ok := in.fresh[name]; ok {
		return n, nil
	}
	if _, err := in.tx.ExecContext(ctx, `INSERT INTO names (name) VALUES (?) ON CONFLICT DO NOTHING`, name); err != nil {
		return 0, err
	}
	var n int64
	if err := in.tx.QueryRowContext(ctx, `SELECT n FROM names WHERE name = ?`, name).Scan(&n); err != nil {
		return 0, err
	}
	if in.fresh == nil {
		in.fresh = map[string]int64{}
	}
	in.fresh[name] = n
	return n, nil
}

// committed caches the numbers handed out; call it after the commit.
func (in *interner) committed() {
	for name, n := range in.fresh {
		in.s.names.add(name, n)
	}
}

// nameOf is the text of number n, read through q on a miss.
func (s *Store) nameOf(ctx context.Context, q rowQuerier, n int64) (string, error) {
	s.names.mu.RLock()
	name, ok := s.names.byNum[n]
	s.names.mu.RUnlock()
	if ok {
		return name, nil
	}
	if err := q.QueryRowContext(ctx, `SELECT name FROM names WHERE n = ?`, n).Scan(&name); err != nil {
		return "", fmt.Errorf("name number %d: %w", n, err)
	}
	s.names.add(name, n)
	return name, nil
}

// sqlNameOf is the SQL of the text of the number in column c.
func sqlNameOf(c string) string { return `(SELECT name FROM names WHERE n = ` + c + `)` }

// sqlNumOf is the SQL of the number of the text in parameter p.
func sqlNumOf(p string) string { return `(SELECT n FROM names WHERE name = ` + p + `)` }
