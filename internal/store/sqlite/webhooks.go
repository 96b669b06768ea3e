package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// webhookRow is a webhook in column form: JSON for the structured fields and
// the sealed secrets. Building it is the one place where secrets are split off.
type webhookRow struct {
	eventTypes, conditions, headers, auth, tls string
	secrets                                    string
}

func (s *Store) encodeWebhook(w *herald.Webhook) (webhookRow, error) {
	var r webhookRow
	var err error
	enc := func(v any) string {
		if err != nil {
			return ""
		}
		var b []byte
		b, err = json.Marshal(v)
		return string(b)
	}
	// The secret fields are blanked rather than left to herald.Secret's
	// masking: the column must not even say which secrets are set.
	auth := w.Auth
	auth.Password, auth.Token, auth.HeaderValue, auth.KeyPEM = "", "", "", ""
	r.eventTypes = enc(w.EventTypes)
	r.conditions = enc(w.Conditions)
	r.headers = enc(w.Headers)
	r.auth = enc(auth)
	r.tls = enc(w.TLS)
	if err != nil {
		return r, err
	}
	r.secrets, err = store.SealWebhookSecrets(s.box.Load(), w)
	return r, err
}

// CreateWebhook implements store.Store.
func (s *Store) CreateWebhook(ctx context.Context, w *herald.Webhook) error {
	r, err := s.encodeWebhook(w)
	if err != nil {
		return wrap("create webhook", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (
			id, name, project, url, enabled, category, event_types, conditions, severity, language,
			format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit,
			ordered, retry_client_errors, secrets, disabled_reason, failing_since, created_at, updated_at
		) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Project, w.URL, w.Enabled, w.Category, r.eventTypes, r.conditions, w.Severity, w.Language,
			w.Format, w.Template, w.ContentType, r.headers, r.auth, r.tls, w.MaxAttempts, int64(w.Timeout), w.RateLimit,
			w.Ordered, w.RetryClientErrors, r.secrets, w.DisabledReason, toDBNull(w.FailingSince), toDB(w.CreatedAt), toDB(w.UpdatedAt))
		return webhookConflict(err, w)
	})
	return wrap("create webhook", err)
}

// webhookConflict turns a uniqueness violation into EConflict, naming the
// clash the user can fix.
func webhookConflict(err error, w *herald.Webhook) error {
	if !isUnique(err) {
		return err
	}
	if strings.Contains(err.Error(), "webhooks.name") {
		e := herald.ErrorfKey(herald.EConflict, "webhook.name.taken", herald.Args{"name": strconv.Quote(w.Name)}, "a webhook named %q already exists in this project", w.Name)
		e.Field = "name"
		return e
	}
	return herald.ErrorfKey(herald.EConflict, "webhook.id.taken", herald.Args{"id": strconv.Quote(w.ID)}, "a webhook with id %q already exists", w.ID)
}

const webhookColumns = `id, name, project, url, enabled, category, event_types, conditions, severity, language,
	format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit,
	ordered, retry_client_errors, secrets, disabled_reason, failing_since, created_at, updated_at`

func (s *Store) scanWebhook(sc interface{ Scan(...any) error }) (*herald.Webhook, error) {
	var w herald.Webhook
	var r webhookRow
	var timeout int64
	var failing sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&w.ID, &w.Name, &w.Project, &w.URL, &w.Enabled, &w.Category, &r.eventTypes, &r.conditions,
		&w.Severity, &w.Language, &w.Format, &w.Template, &w.ContentType, &r.headers, &r.auth, &r.tls,
		&w.MaxAttempts, &timeout, &w.RateLimit, &w.Ordered, &w.RetryClientErrors, &r.secrets, &w.DisabledReason, &failing,
		&created, &updated); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		src string
		dst any
	}{
		{r.eventTypes, &w.EventTypes}, {r.conditions, &w.Conditions}, {r.headers, &w.Headers},
		{r.auth, &w.Auth}, {r.tls, &w.TLS},
	} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return nil, err
		}
	}
	if err := store.OpenWebhookSecrets(s.box.Load(), r.secrets, &w); err != nil {
		return nil, err
	}
	w.Timeout = herald.Duration(timeout)
	w.FailingSince = fromDBNull(failing)
	w.CreatedAt, w.UpdatedAt = fromDB(created), fromDB(updated)
	return &w, nil
}

// GetWebhook implements store.Store.
func (s *Store) GetWebhook(ctx context.Context, id string) (*herald.Webhook, error) {
	w, err := s.scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFound("webhook")
	}
	return w, wrap("get webhook", err)
}

// ListWebhooks implements store.Store: oldest first (creation order), which
// is what the console lists and what keeps matching deterministic.
func (s *Store) ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*herald.Webhook, error) {
	if f.Projects != nil && len(f.Projects) == 0 {
		return nil, nil
	}
	q := `SELECT ` + webhookColumns + ` FROM webhooks WHERE 1 = 1`
	var args []any
	if f.Projects != nil {
		q += ` AND project IN (SELECT value FROM json_each(?))`
		args = append(args, jsonList(f.Projects))
	}
	if f.EnabledOnly {
		q += ` AND enabled`
	}
	q += ` ORDER BY created_at, id`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("list webhooks", err)
	}
	defer rows.Close()
	var out []*herald.Webhook
	for rows.Next() {
		w, err := s.scanWebhook(rows)
		if err != nil {
			return nil, wrap("list webhooks", err)
		}
		out = append(out, w)
	}
	return out, wrap("list webhooks", rows.Err())
}

// UpdateWebhook implements store.Store. Every column is replaced, FailingSince
// and DisabledReason included: re-enabling a webhook is how an admin clears
// them.
func (s *Store) UpdateWebhook(ctx context.Context, w *herald.Webhook) error {
	r, err := s.encodeWebhook(w)
	if err != nil {
		return wrap("update webhook", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET
			name = ?, project = ?, url = ?, enabled = ?, category = ?, event_types = ?, conditions = ?,
			severity = ?, language = ?, format = ?, template = ?, content_type = ?, headers = ?, auth = ?,
			tls = ?, max_attempts = ?, timeout_ns = ?, rate_limit = ?, ordered = ?,
			retry_client_errors = ?, secrets = ?, disabled_reason = ?, failing_since = ?, created_at = ?, updated_at = ?
			WHERE id = ?`,
			w.Name, w.Project, w.URL, w.Enabled, w.Category, r.eventTypes, r.conditions,
			w.Severity, w.Language, w.Format, w.Template, w.ContentType, r.headers, r.auth,
			r.tls, w.MaxAttempts, int64(w.Timeout), w.RateLimit, w.Ordered,
			w.RetryClientErrors, r.secrets, w.DisabledReason, toDBNull(w.FailingSince), toDB(w.CreatedAt), toDB(w.UpdatedAt),
			w.ID)
		return notFoundIfNone(res, webhookConflict(err, w), "webhook")
	})
	return wrap("update webhook", err)
}

// DeleteWebhook implements store.Store. Leases are left alone: a request in
// flight still records its attempt when it completes (the row then follows
// that result; the dispatcher cancels it at its next claim, the webhook being
// gone).
func (s *Store) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err := notFoundIfNone(res, err, "webhook"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries
			SET state = 'cancelled', last_error = 'webhook deleted', updated_at = ?
			WHERE webhook_id = ? AND state IN ('pending', 'retrying', 'held')`, toDB(now), id)
		return err
	})
	return wrap("delete webhook", err)
}

// DisableWebhook implements store.Store. Deliveries already queued are left
// to the dispatcher, which cancels them when it finds the webhook off.
func (s *Store) DisableWebhook(ctx context.Context, id, reason string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?`,
			reason, toDB(now), id)
		return notFoundIfNone(res, err, "webhook")
	})
	return wrap("disable webhook", err)
}
