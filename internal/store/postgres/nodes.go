package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald/internal/store"
)

// releaseSQL clears the unexpired leases of node $1 (every node when ""):
// tokens that start with node + "-" and hold no '-' after it (node ids may
// contain '-', the sequence suffix may not). Substrings rather than LIKE, so
// '%' or '_' in a node id match only themselves. It reads every pending and
// retrying row (at start and when a node is found dead, not on any hot path).
const releaseSQL = `UPDATE deliveries SET lease_token = NULL, lease_until = NULL
	WHERE state IN ('pending', 'retrying') AND lease_until > $2 AND lease_token IS NOT NULL
		AND ($1 = '' OR (left(lease_token, length($1) + 1) = $1 || '-'
			AND strpos(substr(lease_token, length($1) + 2), '-') = 0))`

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, node string, now time.Time) (int, error) {
	ct, err := s.db.Exec(ctx, releaseSQL, node, now)
	if err != nil {
		return 0, wrap("release leases", err)
	}
	return int(ct.RowsAffected()), nil
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, node, instance string, now time.Time) (string, error) {
	if node == "" {
		return "", errors.New("postgres: heartbeat: node is required")
	}
	// The old instance comes from a subquery on the row before the update
	// (RETURNING sees the new one). A new process of the node starts its
	// record afresh.
	var prev *string
	err := s.db.QueryRow(ctx, `WITH old AS (SELECT instance FROM nodes WHERE id = $1),
		up AS (
			INSERT INTO nodes (id, instance, started_at, heartbeat_at) VALUES ($1, $2, $3, $3)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = $3, instance = $2,
				started_at = CASE WHEN nodes.instance = $2 THEN nodes.started_at ELSE $3 END
			RETURNING 1
		)
		SELECT (SELECT instance FROM old) FROM up`, node, instance, now).Scan(&prev)
	if err != nil {
		return "", wrap("heartbeat", err)
	}
	if prev == nil {
		return "", nil
	}
	return *prev, nil
}

// ReleaseDeadNodes implements store.Store. The dead nodes' rows are locked
// with SKIP LOCKED: live nodes checking at the same moment share the work
// out instead of waiting for each other, and each dead node is released
// once. A dead node's row that its owner, back to life, is updating at that
// moment is skipped too: it is alive.
func (s *Store) ReleaseDeadNodes(ctx context.Context, deadBefore, now time.Time) ([]store.ReleasedNode, error) {
	var out []store.ReleasedNode
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT id, heartbeat_at FROM nodes WHERE heartbeat_at < $1
			ORDER BY id FOR UPDATE SKIP LOCKED`, deadBefore)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ReleasedNode, error) {
			var r store.ReleasedNode
			err := row.Scan(&r.ID, &r.LastHeartbeat)
			r.LastHeartbeat = r.LastHeartbeat.UTC()
			return r, err
		})
		if err != nil {
			return err
		}
		for i := range out {
			// "" would mean every lease: Heartbeat refuses it, and a stray
			// row must never release live nodes' work.
			if out[i].ID != "" {
				ct, err := tx.Exec(ctx, releaseSQL, out[i].ID, now)
				if err != nil {
					return err
				}
				out[i].Leases = int(ct.RowsAffected())
			}
			if _, err := tx.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("release dead nodes", err)
	}
	return out, nil
}

// ListNodes implements store.Store.
func (s *Store) ListNodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.db.Query(ctx, `SELECT id, instance, started_at, heartbeat_at FROM nodes ORDER BY id`)
	if err != nil {
		return nil, wrap("list nodes", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Node, error) {
		var n store.Node
		err := row.Scan(&n.ID, &n.Instance, &n.StartedAt, &n.HeartbeatAt)
		n.StartedAt, n.HeartbeatAt = n.StartedAt.UTC(), n.HeartbeatAt.UTC()
		return n, err
	})
	return out, wrap("list nodes", err)
}
