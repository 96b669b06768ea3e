package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// Backlog implements store.Stats: retrying and held rows are counted from
// deliveries_state, pending ones as deliveries_due's entries (pending and
// retrying) less the retrying; the oldest due time is the earliest of each
// webhook's first entry in deliveries_due.
func (s *Store) Backlog(ctx context.Context) (store.Backlog, error) {
	var b store.Backlog
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, dueHooksCTE+` SELECT
		(SELECT count(*) FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying'))
			- (SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN `+store.IndexedStates+`),
		(SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN `+store.IndexedStates+`),
		(SELECT count(*) FROM deliveries WHERE state = 'held' AND state IN `+store.IndexedStates+`),
		(SELECT min((SELECT min(due_at) FROM deliveries INDEXED BY deliveries_due
			WHERE webhook_id = hooks.w AND state IN ('pending', 'retrying'))) FROM hooks WHERE hooks.w IS NOT NULL),
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

// DeliveryCounts implements store.Stats from the deliveries_finished index
// (its WHERE is repeated so that the planner may use it; cancelled rows
// are then dropped).
func (s *Store) DeliveryCounts(ctx context.Context, since time.Time, step time.Duration) ([]store.DeliveryCount, error) {
	if step <= 0 {
		return nil, fmt.Errorf("sqlite: delivery counts: step must be positive")
	}
	from, width := toDB(since), step.Microseconds()
	rows, err := s.r.QueryContext(ctx, `SELECT webhook_id, (updated_at - ?1) / ?2,
			sum(state = 'succeeded'), sum(state = 'failed')
		FROM deliveries INDEXED BY deliveries_finished
		WHERE state IN ('succeeded', 'failed', 'cancelled') AND updated_at >= ?1 AND test = 0
		GROUP BY 1, 2`, from, width)
	if err != nil {
		return nil, wrap("delivery counts", err)
	}
	defer rows.Close()
	var out []store.DeliveryCount
	for rows.Next() {
		var c store.DeliveryCount
		var bucket int64
		if err := rows.Scan(&c.WebhookID, &bucket, &c.Succeeded, &c.Failed); err != nil {
			return nil, wrap("delivery counts", err)
		}
		if c.Succeeded+c.Failed == 0 {
			continue
		}
		c.Bucket = fromDB(from + bucket*width)
		out = append(out, c)
	}
	return out, wrap("delivery counts", rows.Err())
}

// LatencySamples implements store.Stats: the newest finished deliveries
// from deliveries_finished, their first attempt from the row itself when it
// is kept there, the others from attempts_delivery.
func (s *Store) LatencySamples(ctx context.Context, since time.Time, limit int) ([]store.LatencySample, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT * FROM (
			SELECT d.webhook_id, d.updated_at, d.first_latency_ns AS latency_ns, d.first_attempt
			FROM deliveries d INDEXED BY deliveries_finished
			WHERE d.state IN ('succeeded', 'failed', 'cancelled') AND d.updated_at >= ?1 AND d.test = 0
				AND (d.first_started IS NOT NULL OR d.first_attempt IS NOT NULL)
			ORDER BY d.updated_at DESC LIMIT ?2)
		UNION ALL
		SELECT * FROM (
			SELECT d.webhook_id, d.updated_at, a.latency_ns, NULL
			FROM deliveries d INDEXED BY deliveries_finished JOIN attempts a ON a.delivery_id = d.id
			WHERE d.state IN ('succeeded', 'failed', 'cancelled') AND d.updated_at >= ?1 AND d.test = 0
			ORDER BY d.updated_at DESC LIMIT ?2)
		ORDER BY 2 DESC LIMIT ?2`, toDB(since), limit)
	if err != nil {
		return nil, wrap("latency samples", err)
	}
	defer rows.Close()
	var out []store.LatencySample
	for rows.Next() {
		var l store.LatencySample
		var at int64
		var ns sql.NullInt64
		var inline []byte
		if err := rows.Scan(&l.WebhookID, &at, &ns, &inline); err != nil {
			return nil, wrap("latency samples", err)
		}
		l.At, l.Latency = fromDB(at), time.Duration(ns.Int64)
		if inline != nil {
			var err error
			if l.Latency, err = attemptpack.InlineLatency(inline); err != nil {
				return nil, wrap("latency samples", err)
			}
		}
		out = append(out, l)
	}
	return out, wrap("latency samples", rows.Err())
}
