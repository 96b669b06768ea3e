package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/herald-hq/herald/internal/store"
)

// leasedBy is the condition "lease_token belongs to node ?1": the token
// starts with node + "-" and the rest holds no '-' (node ids may contain
// '-', the sequence suffix may not). Substrings rather than LIKE, so that '%'
// or '_' in a node id match only themselves. ?2 is now: expired leases are
// claimable already and are left alone.
const leasedBy = `state IN ('pending', 'retrying') AND lease_token IS NOT NULL AND lease_until > ?2
	AND (?1 = '' OR (substr(lease_token, 1, length(?1) + 1) = ?1 || '-'
		AND instr(substr(lease_token, length(?1) + 2), '-') = 0))`

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, node string, now time.Time) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = releaseLeases(ctx, tx, node, now)
		return err
	})
	return n, wrap("release leases", err)
}

func releaseLeases(ctx context.Context, tx *sql.Tx, node string, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_token = NULL, lease_until = NULL WHERE `+leasedBy,
		node, toDB(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, node, instance string, now time.Time) (string, error) {
	if node == "" {
		return "", errors.New("sqlite: heartbeat: node is required")
	}
	var prev string
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT instance FROM nodes WHERE id = ?`, node).Scan(&prev)
		if err == sql.ErrNoRows {
			_, err = tx.ExecContext(ctx, `INSERT INTO nodes (id, instance, started_at, heartbeat_at) VALUES (?, ?, ?, ?)`,
				node, instance, toDB(now), toDB(now))
			return err
		}
		if err != nil {
			return err
		}
		// A new process of this node starts its record afresh.
		_, err = tx.ExecContext(ctx, `UPDATE nodes SET heartbeat_at = ?3,
				started_at = CASE WHEN instance = ?2 THEN started_at ELSE ?3 END, instance = ?2
			WHERE id = ?1`, node, instance, toDB(now))
		return err
	})
	return prev, wrap("heartbeat", err)
}

// ReleaseDeadNodes implements store.Store.
func (s *Store) ReleaseDeadNodes(ctx context.Context, deadBefore, now time.Time) ([]store.ReleasedNode, error) {
	var out []store.ReleasedNode
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT id, heartbeat_at FROM nodes WHERE heartbeat_at < ? ORDER BY id`, toDB(deadBefore))
		if err != nil {
			return err
		}
		for rows.Next() {
			var r store.ReleasedNode
			var hb int64
			if err := rows.Scan(&r.ID, &hb); err != nil {
				rows.Close()
				return err
			}
			r.LastHeartbeat = fromDB(hb)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			// "" would mean every lease: Heartbeat refuses it, and a stray
			// row must never release live nodes' work.
			if out[i].ID != "" {
				if out[i].Leases, err = releaseLeases(ctx, tx, out[i].ID, now); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE id = ?`, out[i].ID); err != nil {
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, instance, started_at, heartbeat_at FROM nodes ORDER BY id`)
	if err != nil {
		return nil, wrap("list nodes", err)
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		var n store.Node
		var started, hb int64
		if err := rows.Scan(&n.ID, &n.Instance, &started, &hb); err != nil {
			return nil, wrap("list nodes", err)
		}
		n.StartedAt, n.HeartbeatAt = fromDB(started), fromDB(hb)
		out = append(out, n)
	}
	return out, wrap("list nodes", rows.Err())
}
