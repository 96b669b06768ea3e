package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// defaultPruneLimit is Prune's batch size when the caller gives none, as on
// SQLite.
const defaultPruneLimit = 1000

// Prune implements store.Store: up to limit finished deliveries (succeeded,
// failed, cancelled) last updated before before go, with their attempts (in
// the same statement), then up to limit events received before before that
// no delivery references any more (those whose deliveries were pruned, and
// those that matched no webhook). It returns how many rows (deliveries and
// events) it deleted.
// limit defaults to 1000 when not positive.
//
// One node prunes at a time: each call takes a transaction-scoped advisory
// lock with pg_try_advisory_xact_lock, and a node that finds it taken
// returns 0 at once instead of doing the same work beside the other.
//
// Pruning never blocks delivery: each call is one short transaction,
// candidates come from an index in age order, and rows another transaction
// holds are skipped (SKIP LOCKED) rather than waited for. A row whose lease
// ends after before (only a cancel of a row in flight leaves a lease behind)
// is kept: its holder may still complete it.
//
// An event pruned here can be ingested again as new: idempotency by
// (project, id) holds for the retention period.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = defaultPruneLimit
	}
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext('prune ' || coalesce(current_schema(), '')))`,
			int32(lockClass)).Scan(&mine); err != nil || !mine {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`WITH gone AS (
				DELETE FROM deliveries WHERE id IN (
					SELECT id FROM deliveries
					WHERE state IN ('succeeded', 'failed', 'cancelled') AND updated_at < $1
						AND (lease_until IS NULL OR lease_until < $1)
					ORDER BY updated_at LIMIT $2
					FOR UPDATE SKIP LOCKED)
				AND state IN ('succeeded', 'failed', 'cancelled')
				RETURNING id
			), attempts AS (
				DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM gone)
			)
			SELECT count(*) FROM gone`, before, limit).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
		// A statement of its own: it sees the deliveries deleted above gone.
		b.Queue(`DELETE FROM events WHERE seq IN (
			SELECT seq FROM events e
			WHERE e.received_at < $1
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
			ORDER BY e.received_at LIMIT $2
			FOR UPDATE SKIP LOCKED)`, before, limit).Exec(func(ct pgconn.CommandTag) error {
			n += int(ct.RowsAffected())
			return nil
		})
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, wrap("prune", err)
	}
	return n, nil
}
