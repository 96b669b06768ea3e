package postgres

import (
	"context"
	"time"

	"github.com/herald-hq/herald/internal/store"
)

// Backlog implements store.Stats: the counts come from the deliveries_state
// index, the oldest due time from the first entry of deliveries_due.
func (s *Store) Backlog(ctx context.Context) (store.Backlog, error) {
	var b store.Backlog
	var oldest *time.Time
	err := s.db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE state = 'pending'),
		(SELECT count(*) FROM deliveries WHERE state = 'retrying'),
		(SELECT count(*) FROM deliveries WHERE state = 'held'),
		(SELECT min(due_at) FROM deliveries WHERE state IN ('pending', 'retrying')),
		(SELECT count(*) FROM webhooks WHERE enabled),
		(SELECT count(*) FROM webhooks WHERE NOT enabled)`).
		Scan(&b.Pending, &b.Retrying, &b.Held, &oldest, &b.WebhooksEnabled, &b.WebhooksDisabled)
	if err != nil {
		return store.Backlog{}, wrap("backlog", err)
	}
	if oldest != nil {
		b.OldestDue = oldest.UTC()
	}
	return b, nil
}
