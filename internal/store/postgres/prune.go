package postgres

import (
	"context"
	"time"
)

// Prune implements store.Store: up to limit finished deliveries
// (succeeded, failed, cancelled) last updated before before go, with their
// attempts (by cascade), then up to limit events received before before that
// no delivery references any more (those whose deliveries were pruned, and
// those that matched no webhook). It returns how many deliveries it deleted.
//
// Pruning never blocks delivery: each step is a statement of its own (its own
// short transaction), candidates come from an index in age order, and rows
// another transaction holds are skipped (SKIP LOCKED) rather than waited
// for. A row whose lease ends after before (only a cancel of a row in
// flight leaves a lease behind) is kept: its holder may still complete it.
//
// limit defaults to 1000 (as on SQLite) when not positive.
//
// An event pruned here can be ingested again as new: idempotency by
// (project, id) holds for the retention period.
const defaultPruneLimit = 1000

func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = defaultPruneLimit
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM deliveries WHERE id IN (
			SELECT id FROM deliveries
			WHERE state IN ('succeeded', 'failed', 'cancelled') AND updated_at < $1
				AND (lease_until IS NULL OR lease_until < $1)
			ORDER BY updated_at LIMIT $2
			FOR UPDATE SKIP LOCKED)
		AND state IN ('succeeded', 'failed', 'cancelled')`, before, limit)
	if err != nil {
		return 0, wrap("prune deliveries", err)
	}
	n := int(tag.RowsAffected())
	_, err = s.db.Exec(ctx, `DELETE FROM events WHERE seq IN (
		SELECT seq FROM events e
		WHERE e.received_at < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
		ORDER BY e.received_at LIMIT $2
		FOR UPDATE SKIP LOCKED)`, before, limit)
	if err != nil {
		return n, wrap("prune events", err)
	}
	return n, nil
}
