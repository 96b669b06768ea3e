package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// GetSettings implements store.Store. The migration inserts the defaults, so
// the row always exists.
func (s *Store) GetSettings(ctx context.Context) (herald.Settings, error) {
	var st herald.Settings
	err := s.db.QueryRow(ctx, `SELECT webhooks_enabled, https_only FROM settings WHERE id = 1`).
		Scan(&st.WebhooksEnabled, &st.HTTPSOnly)
	return st, wrap("get settings", err)
}

// UpdateSettings implements store.Store. The settings row is updated first:
// that waits for every writer holding it FOR SHARE (ingests, completions,
// retries that decided "hold or not" on the old value) and makes later ones
// wait for this commit, so no delivery slips between the switch and the
// holding or releasing, which run in the same transaction.
func (s *Store) UpdateSettings(ctx context.Context, st herald.Settings, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE settings SET webhooks_enabled = $1, https_only = $2 WHERE id = 1`,
			st.WebhooksEnabled, st.HTTPSOnly); err != nil {
			return err
		}
		if st.WebhooksEnabled {
			// Released rows are due at once; a row with attempts resumes its
			// retry schedule where it stood.
			_, err := tx.Exec(ctx, `UPDATE deliveries
				SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,
				    next_attempt_at = $1, updated_at = $1
				WHERE id IN (SELECT id FROM deliveries WHERE state = 'held' ORDER BY id FOR UPDATE)
				AND state = 'held'`, now)
			return err
		}
		// A row whose lease has expired is not leased: its holder is gone or
		// late, and a late result is fenced off by clearing the token. Live
		// leases stay: their completion turns them to held.
		_, err := tx.Exec(ctx, `UPDATE deliveries
			SET state = 'held', lease_token = NULL, lease_until = NULL, updated_at = $1
			WHERE id IN (
				SELECT id FROM deliveries
				WHERE state IN ('pending', 'retrying') AND (lease_until IS NULL OR lease_until <= $1)
				ORDER BY id FOR UPDATE)
			AND state IN ('pending', 'retrying') AND (lease_until IS NULL OR lease_until <= $1)`, now)
		return err
	})
	return wrap("update settings", err)
}

// CreateToken implements store.Store. EConflict when the id or the hash is
// already stored.
func (s *Store) CreateToken(ctx context.Context, t *herald.Token) error {
	projects, err := jsonText(t.Projects)
	if err != nil {
		return wrap("create token", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO tokens (id, name, role, projects, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Name, t.Role, projects, t.Hash, t.CreatedAt)
	if _, dup := isUnique(err); dup {
		return herald.Errorf(herald.EConflict, "a token with this id or secret already exists")
	}
	return wrap("create token", err)
}

const tokenColumns = `id, name, role, projects, hash, created_at`

func scanToken(row pgx.Row) (*herald.Token, error) {
	var t herald.Token
	var projects string
	if err := row.Scan(&t.ID, &t.Name, &t.Role, &projects, &t.Hash, &t.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(projects), &t.Projects); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// TokenByHash implements store.Store.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*herald.Token, error) {
	t, err := scanToken(s.db.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.NotFound("token")
	}
	return t, wrap("token by hash", err)
}

// ListTokens implements store.Store: oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]*herald.Token, error) {
	rows, err := s.db.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
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
	tag, err := s.db.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	return wrap("delete token", notFoundIfNone(tag, err, "token"))
}

// notFoundIfNone turns "no row affected" into ENotFound for kind.
func notFoundIfNone(tag pgconn.CommandTag, err error, kind string) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return herald.NotFound(kind)
	}
	return nil
}

// CountDeliveries implements store.Store, from the (state, id) index.
func (s *Store) CountDeliveries(ctx context.Context, state herald.State) (int, error) {
	q := `SELECT count(*) FROM deliveries WHERE state = $1`
	switch {
	case store.StateIndexed(state):
		q += ` AND state IN ` + store.IndexedStates
	case state == herald.StatePending:
		q = `SELECT (SELECT count(*) FROM deliveries WHERE state IN ('pending', 'retrying'))
			- (SELECT count(*) FROM deliveries WHERE state = 'retrying' AND state IN ` + store.IndexedStates + `)`
	}
	args := []any{string(state)}
	if state == herald.StatePending {
		args = nil
	}
	var n int
	err := s.db.QueryRow(ctx, q, args...).Scan(&n)
	return n, wrap("count deliveries", err)
}
