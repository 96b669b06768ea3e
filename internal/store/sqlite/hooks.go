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
