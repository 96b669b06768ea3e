package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// Backlog implements store.Stats: retrying and held rows are counted from
// deliveries_state, pending ones as deliveries_due's entries (pending and
// retrying) less the retrying; the oldest due time is, per webhook, the
// earlier of its first unleased row and its leased rows before that one, as
// in sqlNextDue.
func (s *Store) Backlog(ctx context.Context) (store.Backlog, error) {
	var b store.Backlog
	var oldest *time.Time
	err := s.db.QueryRow(ctx, dueHooksCTE+` SELECT
		(SELECT count(*) FROM deliveries WHERE state IN ('pending', 'retrying'))
			- (SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN `+store.IndexedStates+`),
		(SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN `+store.IndexedStates+`),
		(SELECT count(*) FROM deliveries WHERE state = 'held' AND state IN `+store.IndexedStates+`),
		(SELECT min(least(f.at, (SELECT min(due_at) FROM deliveries
			WHERE webhook_id = f.w AND state IN ('pending', 'retrying') AND due_at > next_attempt_at
				AND next_attempt_at <= coalesce(f.at, 'infinity'))))
		FROM (SELECT hooks.w, (SELECT next_attempt_at FROM deliveries
			WHERE webhook_id = hooks.w AND state IN ('pending', 'retrying') AND due_at = next_attempt_at
			ORDER BY next_attempt_at, id LIMIT 1) AS at
			FROM hooks WHERE hooks.w IS NOT NULL) f),
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

// DeliveryCounts implements store.Stats from the deliveries_finished index.
func (s *Store) DeliveryCounts(ctx context.Context, since time.Time, step time.Duration) ([]store.DeliveryCount, error) {
	if step <= 0 {
		return nil, fmt.Errorf("postgres: delivery counts: step must be positive")
	}
	width := step.Microseconds()
	rows, err := s.db.Query(ctx, `SELECT webhook_id,
			floor(extract(epoch FROM updated_at - $1) * 1000000 / $2)::bigint AS b,
			count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'failed')
		FROM deliveries
		WHERE state IN ('succeeded', 'failed', 'cancelled') AND updated_at >= $1 AND NOT test
		GROUP BY 1, 2`, since, width)
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
		c.Bucket = micro(since.Add(time.Duration(bucket*width) * time.Microsecond))
		out = append(out, c)
	}
	return out, wrap("delivery counts", rows.Err())
}

// LatencySamples implements store.Stats: the first attempts kept on their
// delivery's row and the attempts rows, the newest of each.
func (s *Store) LatencySamples(ctx context.Context, since time.Time, limit int) ([]store.LatencySample, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `(SELECT d.webhook_id, d.updated_at, d.first_latency_ns AS latency_ns,
				d.first_attempt
			FROM deliveries d
			WHERE d.state IN ('succeeded', 'failed', 'cancelled') AND d.updated_at >= $1 AND NOT d.test
				AND (d.first_started IS NOT NULL OR d.first_attempt IS NOT NULL)
			ORDER BY d.updated_at DESC LIMIT $2)
		UNION ALL
		(SELECT d.webhook_id, d.updated_at, a.latency_ns, NULL
			FROM deliveries d JOIN attempts a ON a.delivery_id = d.id
			WHERE d.state IN ('succeeded', 'failed', 'cancelled') AND d.updated_at >= $1 AND NOT d.test
			ORDER BY d.updated_at DESC LIMIT $2)
		ORDER BY updated_at DESC LIMIT $2`, since, limit)
	if err != nil {
		return nil, wrap("latency samples", err)
	}
	defer rows.Close()
	var out []store.LatencySample
	for rows.Next() {
		var l store.LatencySample
		var ns *int64
		var inline []byte
		if err := rows.Scan(&l.WebhookID, &l.At, &ns, &inline); err != nil {
			return nil, wrap("latency samples", err)
		}
		l.At = l.At.UTC()
		if ns != nil {
			l.Latency = time.Duration(*ns)
		}
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
