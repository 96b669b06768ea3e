package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u *herald.User) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, password_hash, role, projects, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, u.PasswordHash, u.Role, jsonList(u.Projects), toDB(u.CreatedAt))
		if isUnique(err) {
			return &herald.Error{Code: herald.EConflict, Field: "username", Message: "username " + u.Username + " is taken", Key: "user.username.taken", Args: herald.Args{"username": u.Username}}
		}
		return err
	})
	return wrap("create user", err)
}

const userColumns = `id, username, password_hash, role, projects, created_at`

func scanUser(sc interface{ Scan(...any) error }) (*herald.User, error) {
	var u herald.User
	var projects string
	var created int64
	if err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &projects, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(projects), &u.Projects); err != nil {
		return nil, err
	}
	u.CreatedAt = fromDB(created)
	return &u, nil
}

// UserByName implements store.Store.
func (s *Store) UserByName(ctx context.Context, username string) (*herald.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFound("user")
	}
	return u, wrap("user by name", err)
}

// ListUsers implements store.Store: by username.
func (s *Store) ListUsers(ctx context.Context) ([]*herald.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var out []*herald.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
}

// DeleteUser implements store.Store; the user's sessions end with it.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err := notFoundIfNone(res, err, "user"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE subject = ?`, "user:"+id)
		return err
	})
	return wrap("delete user", err)
}

// CreateSession implements store.Store. Expired sessions are swept on the
// way, so the table stays small without a separate job.
func (s *Store) CreateSession(ctx context.Context, se *herald.Session) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, toDB(se.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, hash, subject, name, role, projects, csrf, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			se.ID, se.Hash, se.Subject, se.Name, se.Role, jsonList(se.Projects), se.CSRF, toDB(se.CreatedAt), toDB(se.ExpiresAt))
		return err
	})
	return wrap("create session", err)
}

// SessionByHash implements store.Store.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (*herald.Session, error) {
	var se herald.Session
	var projects string
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT id, hash, subject, name, role, projects, csrf, created_at, expires_at
		FROM sessions WHERE hash = ? AND expires_at > ?`, hash, toDB(now)).
		Scan(&se.ID, &se.Hash, &se.Subject, &se.Name, &se.Role, &projects, &se.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFound("session")
	}
	if err != nil {
		return nil, wrap("session by hash", err)
	}
	if err := json.Unmarshal([]byte(projects), &se.Projects); err != nil {
		return nil, wrap("session by hash", err)
	}
	se.CreatedAt, se.ExpiresAt = fromDB(created), fromDB(expires)
	return &se, nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
	return wrap("delete session", err)
}

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, e *herald.AuditEntry) error {
	if e.ID == "" {
		e.ID = s.ids.Next("aud")
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit (id, at, actor, action, object, project, details) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, toDB(e.At), e.Actor, e.Action, e.Object, e.Project, e.Details)
		return err
	})
	return wrap("append audit", err)
}

// ListAudit implements store.Store.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*herald.AuditEntry, string, error) {
	limit := store.PageLimit(f.Limit)
	q := `SELECT id, at, actor, action, object, project, details FROM audit WHERE 1=1`
	var args []any
	if f.Project != "" {
		q += ` AND project = ?`
		args = append(args, f.Project)
	}
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", wrap("list audit", err)
	}
	defer rows.Close()
	var out []*herald.AuditEntry
	for rows.Next() {
		var e herald.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &e.Project, &e.Details); err != nil {
			return nil, "", wrap("list audit", err)
		}
		e.At = fromDB(at)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list audit", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Reseal implements store.Store: every webhook's sealed secrets are opened
// with the current key and sealed with to, in one transaction; then the store
// uses to. A failure changes nothing.
func (s *Store) Reseal(ctx context.Context, to *seal.Box) (int, error) {
	if to == nil {
		return 0, errors.New("reseal: no key")
	}
	from := s.box.Load()
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, secrets FROM webhooks`)
		if err != nil {
			return err
		}
		type row struct{ id, sealed string }
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.sealed); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range all {
			plain, err := from.Open(r.sealed)
			if err != nil {
				return err
			}
			resealed, err := to.Seal(plain)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET secrets = ? WHERE id = ?`, resealed, r.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrap("reseal", err)
	}
	s.box.Store(to)
	return n, nil
}

// Prune implements store.Store. Each call is one short write transaction of
// at most limit deliveries, so delivery writes interleave between calls.
//
// The deliveries to delete are found in key order (creation order: a
// delivery that finished before before was made before it), read outside
// the write lock, from where the previous call of the same pass stopped: the
// rows it passed over (still open) are not read again until the pass ends,
// which is when a call finds fewer than limit. A delivery is deleted only if
// it is still finished before before when the delete runs.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	b := toDB(before)
	ids, err := s.prunable(ctx, before, limit)
	if err != nil {
		return 0, wrap("prune", err)
	}
	var n int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id IN `+keysOf("?1")+`
			AND state IN ('succeeded', 'failed', 'cancelled') AND updated_at < ?2`, keyList(ids), b)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Attempts go with their delivery (ON DELETE CASCADE). Events that no
		// delivery needs any more go too, a bounded number at a time, and the
		// counts of the minutes before before.
		res, err = tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN (
			SELECT e.seq FROM events e WHERE e.received_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq) LIMIT ?)`, b, limit)
		if err != nil {
			return err
		}
		events, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n += events
		_, err = tx.ExecContext(ctx, `DELETE FROM delivery_counts WHERE (minute, hook) IN (
			SELECT minute, hook FROM delivery_counts WHERE minute < ? LIMIT ?)`, floorDiv(b, minuteMicros), limit)
		return err
	})
	return int(n), wrap("prune", err)
}

// prunable lists up to limit deliveries finished before before, reading
// in key order on from s.pruneFrom and stopping at the first delivery made
// at before or later (key order is creation order); a short list ends the
// pass (the next starts over).
func (s *Store) prunable(ctx context.Context, before time.Time, limit int) ([]string, error) {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	b := toDB(before)
	q := `SELECT id, created_at, state IN ('succeeded', 'failed', 'cancelled') AND updated_at < ?1
		FROM deliveries ORDER BY id`
	args := []any{b}
	if s.pruneFrom != nil {
		q = `SELECT id, created_at, state IN ('succeeded', 'failed', 'cancelled') AND updated_at < ?1
			FROM deliveries WHERE id > ?2 ORDER BY id`
		args = append(args, s.pruneFrom)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	end := true
	for rows.Next() {
		var id string
		var created int64
		var done bool
		if err := rows.Scan(did(&id), &created, &done); err != nil {
			return nil, err
		}
		if created >= b {
			break
		}
		s.pruneFrom = dkey(id)
		if done {
			if ids = append(ids, id); len(ids) == limit {
				end = false
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if end {
		s.pruneFrom = nil // the pass is over
	}
	return ids, nil
}
