package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func (s *Store) encodeWebhook(w *herald.Webhook) (store.WebhookRow, error) {
	return store.EncodeWebhook(w, func(w *herald.Webhook) (string, error) {
		return store.SealWebhookSecrets(s.box.Load(), w)
	})
}

func (s *Store) openSecrets(sealed string, w *herald.Webhook) error {
	return store.OpenWebhookSecrets(s.box.Load(), sealed, w)
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
			ordered, retry_client_errors, standard_headers, secrets, disabled_reason, failing_since, created_at, updated_at
		) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Project, w.URL, w.Enabled, w.Category, r.EventTypes, r.Conditions, w.Severity, w.Language,
			w.Format, w.Template, w.ContentType, r.Headers, r.Auth, r.TLS, w.MaxAttempts, int64(w.Timeout), w.RateLimit,
			w.Ordered, w.RetryClientErrors, w.StandardHeaders, r.Secrets, w.DisabledReason, toDBNull(w.FailingSince), toDB(w.CreatedAt), toDB(w.UpdatedAt))
		if err != nil {
			return webhookConflict(err, w)
		}
		// Its number (the one it had, if a deleted webhook had its ID).
		_, err = tx.ExecContext(ctx, `INSERT INTO hooks (webhook_id) VALUES (?) ON CONFLICT DO NOTHING`, w.ID)
		return err
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
	ordered, retry_client_errors, standard_headers, secrets, disabled_reason, failing_since, created_at, updated_at`

func (s *Store) scanWebhook(sc interface{ Scan(...any) error }) (*herald.Webhook, error) {
	var w herald.Webhook
	var r store.WebhookRow
	var timeout int64
	var failing sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&w.ID, &w.Name, &w.Project, &w.URL, &w.Enabled, &w.Category, &r.EventTypes, &r.Conditions,
		&w.Severity, &w.Language, &w.Format, &w.Template, &w.ContentType, &r.Headers, &r.Auth, &r.TLS,
		&w.MaxAttempts, &timeout, &w.RateLimit, &w.Ordered, &w.RetryClientErrors, &w.StandardHeaders, &r.Secrets, &w.DisabledReason, &failing,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := r.DecodeInto(&w, s.openSecrets); err != nil {
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
			retry_client_errors = ?, standard_headers = ?, secrets = ?, disabled_reason = ?, failing_since = ?, created_at = ?, updated_at = ?
			WHERE id = ?`,
			w.Name, w.Project, w.URL, w.Enabled, w.Category, r.EventTypes, r.Conditions,
			w.Severity, w.Language, w.Format, w.Template, w.ContentType, r.Headers, r.Auth,
			r.TLS, w.MaxAttempts, int64(w.Timeout), w.RateLimit, w.Ordered,
			w.RetryClientErrors, w.StandardHeaders, r.Secrets, w.DisabledReason, toDBNull(w.FailingSince), toDB(w.CreatedAt), toDB(w.UpdatedAt),
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_status WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		hook, err := s.hooks.numOf(ctx, tx, id)
		if err != nil {
			return err
		}
		// The open rows from the indexes that hold only open rows (the
		// webhook's whole log may be long).
		_, err = tx.ExecContext(ctx, `UPDATE deliveries
			SET state = 'cancelled', last_error = 'webhook deleted', updated_at = ?1
			WHERE id IN (
				SELECT id FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying') AND hook = ?2
				UNION ALL
				SELECT id FROM deliveries INDEXED BY deliveries_state
				WHERE state = 'held' AND state IN `+store.IndexedStates+` AND hook = ?2)`, toDB(now), hook)
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
