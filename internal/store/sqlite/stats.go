package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
			WHERE hook = due_hooks.w AND state IN ('pending', 'retrying'))) FROM due_hooks WHERE due_hooks.w IS NOT NULL),
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

// DeliveryCounts implements store.Stats from delivery_counts, the finished
// deliveries by webhook and minute (migration 0017): a minute is counted
// whole in the bucket of its start, from the first minute that starts at
// since or later.
func (s *Store) DeliveryCounts(ctx context.Context, since time.Time, step time.Duration) ([]store.DeliveryCount, error) {
	if step <= 0 {
		return nil, fmt.Errorf("sqlite: delivery counts: step must be positive")
	}
	from, width := toDB(since), step.Microseconds()
	first := floorDiv(from+minuteMicros-1, minuteMicros)
	rows, err := s.r.QueryContext(ctx, `SELECT hook, (minute * ?1 - ?2) / ?3, sum(succeeded), sum(failed)
		FROM delivery_counts WHERE minute >= ?4
		GROUP BY 1, 2`, minuteMicros, from, width, first)
	if err != nil {
		return nil, wrap("delivery counts", err)
	}
	defer rows.Close()
	var out []store.DeliveryCount
	for rows.Next() {
		var c store.DeliveryCount
		var bucket, hook int64
		if err := rows.Scan(&hook, &bucket, &c.Succeeded, &c.Failed); err != nil {
			return nil, wrap("delivery counts", err)
		}
		if c.Succeeded+c.Failed == 0 {
			continue
		}
		var err error
		if c.WebhookID, err = s.hooks.textOf(ctx, s.r, hook); err != nil {
			return nil, wrap("delivery counts", err)
		}
		c.Bucket = fromDB(from + bucket*width)
		out = append(out, c)
	}
	return out, wrap("delivery counts", rows.Err())
}

// latencyLookback is how long before since LatencySamples looks for
// deliveries made then that finished after since.
const latencyLookback = 24 * time.Hour

// LatencySamples implements store.Stats: the attempts of the newest
// deliveries (in key order, which is creation order; back to those made
// latencyLookback before since) that finished since, newest finished first:
// the first attempt from the row itself, the others from attempts.
func (s *Store) LatencySamples(ctx context.Context, since time.Time, limit int) ([]store.LatencySample, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, hook, created_at, updated_at, attempts, first_attempt,
			state IN ('succeeded', 'failed', 'cancelled') AND updated_at >= ? AND test = 0
		FROM deliveries ORDER BY id DESC`, toDB(since))
	if err != nil {
		return nil, wrap("latency samples", err)
	}
	defer rows.Close()
	oldest := toDB(since.Add(-latencyLookback))
	var out []store.LatencySample
	type more struct {
		hook, at int64
	}
	rest := map[string]more{} // deliveries with attempts rows
	var restIDs []string
	for n := 0; n < limit && rows.Next(); {
		var id string
		var hook, created, at int64
		var attempts int
		var inline []byte
		var sample bool
		if err := rows.Scan(did(&id), &hook, &created, &at, &attempts, &inline, &sample); err != nil {
			return nil, wrap("latency samples", err)
		}
		if created < oldest {
			break
		}
		if !sample {
			continue
		}
		n++
		if inline != nil {
			l := store.LatencySample{At: fromDB(at)}
			var err error
			if l.Latency, err = attemptpack.InlineLatency(inline); err != nil {
				return nil, wrap("latency samples", err)
			}
			if l.WebhookID, err = s.hooks.textOf(ctx, s.r, hook); err != nil {
				return nil, wrap("latency samples", err)
			}
			out = append(out, l)
			attempts--
		}
		if attempts > 0 {
			rest[id] = more{hook, at}
			restIDs = append(restIDs, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("latency samples", err)
	}
	rows.Close()
	if len(restIDs) > 0 {
		rows, err := s.r.QueryContext(ctx, `SELECT delivery_id, latency_ns FROM attempts
			WHERE delivery_id IN `+keysOf("?"), keyList(restIDs))
		if err != nil {
			return nil, wrap("latency samples", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var ns int64
			if err := rows.Scan(did(&id), &ns); err != nil {
				return nil, wrap("latency samples", err)
			}
			m := rest[id]
			l := store.LatencySample{At: fromDB(m.at), Latency: time.Duration(ns)}
			if l.WebhookID, err = s.hooks.textOf(ctx, s.r, m.hook); err != nil {
				return nil, wrap("latency samples", err)
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return nil, wrap("latency samples", err)
		}
	}
	slices.SortStableFunc(out, func(a, b store.LatencySample) int { return b.At.Compare(a.At) })
	return out[:min(len(out), limit)], nil
}
