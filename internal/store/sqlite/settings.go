package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// GetSettings implements store.Store. The migration inserts the defaults, so
// the row always exists.
func (s *Store) GetSettings(ctx context.Context) (herald.Settings, error) {
	var st herald.Settings
	err := s.r.QueryRowContext(ctx, `SELECT webhooks_enabled, https_only FROM settings WHERE id = 1`).
		Scan(&st.WebhooksEnabled, &st.HTTPSOnly)
	return st, wrap("get settings", err)
}

// UpdateSettings implements store.Store. Holding and releasing run in the
// same transaction as the switch, so no delivery slips between the two.
func (s *Store) UpdateSettings(ctx context.Context, st herald.Settings, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE settings SET webhooks_enabled = ?, https_only = ? WHERE id = 1`,
			st.WebhooksEnabled, st.HTTPSOnly); err != nil {
			return err
		}
		n := toDB(now)
		if st.WebhooksEnabled {
			// Released rows are due at once; a row with attempts resumes its
			// retry schedule where it stood.
			_, err := tx.ExecContext(ctx, `UPDATE deliveries
				SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,
				    next_attempt_at = ?1, updated_at = ?1
				WHERE state = 'held'`, n)
			return err
		}
		// A row whose lease has expired is not leased: its holder is gone or
		// late, and a late result is fenced off by clearing the token.
		// Live leases stay: their completion turns them to held.
		_, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET state = 'held', lease_token = NULL, lease_until = NULL, updated_at = ?1
			WHERE state IN ('pending', 'retrying') AND (lease_until IS NULL OR lease_until <= ?1)`, n)
		return err
	})
	return wrap("update settings", err)
}

// CreateToken implements store.Store. EConflict when the id or the hash is
// already stored.
func (s *Store) CreateToken(ctx context.Context, t *herald.Token) error {
	projects, err := json.Marshal(t.Projects)
	if err != nil {
		return wrap("create token", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, projects, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Role, string(projects), t.Hash, toDB(t.CreatedAt))
		if isUnique(err) {
			return herald.Errorf(herald.EConflict, "a token with this id or secret already exists")
		}
		return err
	})
	return wrap("create token", err)
}

const tokenColumns = `id, name, role, projects, hash, created_at`

func scanToken(sc interface{ Scan(...any) error }) (*herald.Token, error) {
	var t herald.Token
	var projects string
	var created int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Role, &projects, &t.Hash, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(projects), &t.Projects); err != nil {
		return nil, err
	}
	t.CreatedAt = fromDB(created)
	return &t, nil
}

// TokenByHash implements store.Store.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*herald.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFound("token")
	}
	return t, wrap("token by hash", err)
}

// ListTokens implements store.Store: oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]*herald.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	var out []*herald.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tokens", rows.Err())
}

// DeleteToken implements store.Store. ENotFound when absent, so a typo in
// `herald token delete` is reported rather than silently ignored.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
		return notFoundIfNone(res, err, "token")
	})
	return wrap("delete token", err)
}

// notFoundIfNone turns "no row affected" into ENotFound for kind.
func notFoundIfNone(res sql.Result, err error, kind string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return herald.NotFound(kind)
	}
	return nil
}

// CountDeliveries implements store.Store: from deliveries_state for the
// states it holds, pending as deliveries_due's entries less the retrying,
// succeeded by a scan.
func (s *Store) CountDeliveries(ctx context.Context, state herald.State) (int, error) {
	q := `SELECT count(*) FROM deliveries WHERE state = ?`
	switch {
	case store.StateIndexed(state):
		q += ` AND state IN ` + store.IndexedStates
	case state == herald.StatePending:
		q = `SELECT (SELECT count(*) FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying'))
			- (SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN ` + store.IndexedStates + `)`
	}
	args := []any{string(state)}
	if state == herald.StatePending {
		args = nil
	}
	var n int
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, wrap("count deliveries", err)
}
