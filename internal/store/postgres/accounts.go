package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

// jsonList encodes a project list, nil as "[]" (as the SQLite store does),
// so users and sessions read back the same way from either store.
func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // strings always marshal
	return string(b)
}

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u *herald.User) error {
	_, err := s.db.Exec(ctx, `INSERT INTO users (id, username, password_hash, role, projects, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.Username, u.PasswordHash, u.Role, jsonList(u.Projects), u.CreatedAt)
	if _, dup := isUnique(err); dup {
		return &herald.Error{Code: herald.EConflict, Field: "username", Message: "username " + u.Username + " is taken", Key: "user.username.taken", Args: herald.Args{"username": u.Username}}
	}
	return wrap("create user", err)
}

const userColumns = `id, username, password_hash, role, projects, created_at`

func scanUser(row pgx.Row) (*herald.User, error) {
	var u herald.User
	var projects string
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &projects, &u.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(projects), &u.Projects); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// UserByName implements store.Store.
func (s *Store) UserByName(ctx context.Context, username string) (*herald.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.NotFound("user")
	}
	return u, wrap("user by name", err)
}

// ListUsers implements store.Store: by username.
func (s *Store) ListUsers(ctx context.Context) ([]*herald.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err := notFoundIfNone(tag, err, "user"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE subject = $1`, "user:"+id)
		return err
	})
	return wrap("delete user", err)
}

// CreateSession implements store.Store. Expired sessions are swept on the
// way, so the table stays small without a separate job; both statements go
// in one round trip (a pgx batch runs as one implicit transaction).
func (s *Store) CreateSession(ctx context.Context, se *herald.Session) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM sessions WHERE expires_at <= $1`, se.CreatedAt)
	b.Queue(`INSERT INTO sessions (id, hash, subject, name, role, projects, csrf, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		se.ID, se.Hash, se.Subject, se.Name, se.Role, jsonList(se.Projects), se.CSRF, se.CreatedAt, se.ExpiresAt)
	return wrap("create session", s.db.SendBatch(ctx, b).Close())
}

// SessionByHash implements store.Store.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (*herald.Session, error) {
	var se herald.Session
	var projects string
	err := s.db.QueryRow(ctx, `SELECT id, hash, subject, name, role, projects, csrf, created_at, expires_at
		FROM sessions WHERE hash = $1 AND expires_at > $2`, hash, now).
		Scan(&se.ID, &se.Hash, &se.Subject, &se.Name, &se.Role, &projects, &se.CSRF, &se.CreatedAt, &se.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.NotFound("session")
	}
	if err != nil {
		return nil, wrap("session by hash", err)
	}
	if err := json.Unmarshal([]byte(projects), &se.Projects); err != nil {
		return nil, wrap("session by hash", err)
	}
	se.CreatedAt, se.ExpiresAt = se.CreatedAt.UTC(), se.ExpiresAt.UTC()
	return &se, nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return wrap("delete session", err)
}

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, e *herald.AuditEntry) error {
	if e.ID == "" {
		e.ID = s.ids.Next("aud")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO audit (id, at, actor, action, object, project, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, e.At, e.Actor, e.Action, e.Object, e.Project, e.Details)
	return wrap("append audit", err)
}

// ListAudit implements store.Store.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*herald.AuditEntry, string, error) {
	limit := store.PageLimit(f.Limit)
	q := `SELECT id, at, actor, action, object, project, details FROM audit WHERE true`
	var args []any
	if f.Project != "" {
		args = append(args, f.Project)
		q += ` AND project = $` + strconv.Itoa(len(args))
	}
	if f.Cursor != "" {
		args = append(args, f.Cursor)
		q += ` AND id < $` + strconv.Itoa(len(args))
	}
	args = append(args, limit+1)
	q += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", wrap("list audit", err)
	}
	var out []*herald.AuditEntry
	var e herald.AuditEntry
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.At, &e.Actor, &e.Action, &e.Object, &e.Project, &e.Details},
		func() error {
			cp := e
			cp.At = cp.At.UTC()
			out = append(out, &cp)
			return nil
		})
	if err != nil {
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
// and sealed with to in one transaction, which first locks the webhooks table
// against writes (SHARE ROW EXCLUSIVE: reads and ingest's FOR KEY SHARE go
// on), so no webhook is written with the old key meanwhile; then this store
// seals with to. A failure changes nothing.
//
// Other nodes keep the key they were started with: they must be restarted
// with the new key to read what this one resealed.
func (s *Store) Reseal(ctx context.Context, to *seal.Box) (int, error) {
	if to == nil {
		return 0, errors.New("postgres: reseal: no key")
	}
	k := s.keys.Load()
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE webhooks IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, secrets FROM webhooks`)
		if err != nil {
			return err
		}
		var ids, sealed []string
		var id, old string
		_, err = pgx.ForEachRow(rows, []any{&id, &old}, func() error {
			plain, err := k.cur.Open(old)
			if err != nil && k.prev != nil {
				plain, err = k.prev.Open(old)
			}
			if err != nil {
				return err
			}
			resealed, err := to.Seal(plain)
			if err != nil {
				return err
			}
			ids, sealed = append(ids, id), append(sealed, resealed)
			return nil
		})
		if err != nil {
			return err
		}
		n = len(ids)
		_, err = tx.Exec(ctx, `UPDATE webhooks w SET secrets = u.secrets
			FROM unnest($1::text[], $2::text[]) AS u(id, secrets) WHERE w.id = u.id`, nonNil(ids), nonNil(sealed))
		return err
	})
	if err != nil {
		return 0, wrap("reseal", err)
	}
	s.keys.Store(&keys{cur: to, prev: k.cur})
	return n, nil
}
