package sqlite

import (
	"context"
	"database/sql"

	"github.com/herald-hq/herald/internal/store"
)

// Backlog implements store.Stats: the counts come from the deliveries_state
// index, the oldest due time from the first entry of deliveries_due.
func (s *Store) Backlog(ctx context.Context) (store.Backlog, error) {
	var b store.Backlog
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE state = 'pending'),
		(SELECT count(*) FROM deliveries WHERE state = 'retrying'),
		(SELECT count(*) FROM deliveries WHERE state = 'held'),
		(SELECT min(due_at) FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying')),
		(SELECT count(*) FROM webhooks WHERE enabled <> 0),
		(SELECT count(*) FROM webhooks WHERE enabled = 0)`).
		Scan(&b.Pending, &b.Retrying, &b.Held, &oldest, &b.WebhooksEnabled, &b.WebhooksDisabled)
	if err != nil {
		return store.Backlog{}, wrap("backlog", err)
	}
	if oldest.Valid {
		b.OldestDue = fromDB(oldest.Int64)
	}
	return b, nil
}
