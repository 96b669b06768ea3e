package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func (s *Store) encodeWebhook(w *herald.Webhook) (store.WebhookRow, error) {
	return store.EncodeWebhook(w, s.seal)
}

// webhookConflict turns a uniqueness violation into EConflict, naming the
// clash the user can fix.
func webhookConflict(err error, w *herald.Webhook) error {
	constraint, ok := isUnique(err)
	if !ok {
		return err
	}
	if constraint == "webhooks_project_name_key" {
		e := herald.ErrorfKey(herald.EConflict, "webhook.name.taken", herald.Args{"name": strconv.Quote(w.Name)}, "a webhook named %q already exists in this project", w.Name)
		e.Field = "name"
		return e
	}
	return herald.ErrorfKey(herald.EConflict, "webhook.id.taken", herald.Args{"id": strconv.Quote(w.ID)}, "a webhook with id %q already exists", w.ID)
}

// CreateWebhook implements store.Store.
func (s *Store) CreateWebhook(ctx context.Context, w *herald.Webhook) error {
	r, err := s.encodeWebhook(w)
	if err != nil {
		return wrap("create webhook", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO webhooks (
		id, name, project, url, enabled, category, event_types, conditions, severity, language,
		format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit,
		ordered, retry_client_errors, secrets, disabled_reason, failing_since, created_at, updated_at,
		standard_headers
	) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
		$20, $21, $22, $23, $24, $25, $26, $27)`,
		w.ID, w.Name, w.Project, w.URL, w.Enabled, w.Category, r.EventTypes, r.Conditions, w.Severity, w.Language,
		w.Format, w.Template, w.ContentType, r.Headers, r.Auth, r.TLS, w.MaxAttempts, int64(w.Timeout), w.RateLimit,
		w.Ordered, w.RetryClientErrors, r.Secrets, w.DisabledReason, w.FailingSince, w.CreatedAt, w.UpdatedAt,
		w.StandardHeaders)
	return wrap("create webhook", webhookConflict(err, w))
}

const webhookColumns = `id, name, project, url, enabled, category, event_types, conditions, severity, language,
	format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit,
	ordered, retry_client_errors, secrets, disabled_reason, failing_since, created_at, updated_at,
	standard_headers`

func (s *Store) scanWebhook(row pgx.Row) (*herald.Webhook, error) {
	var w herald.Webhook
	var r store.WebhookRow
	var timeout int64
	if err := row.Scan(&w.ID, &w.Name, &w.Project, &w.URL, &w.Enabled, &w.Category, &r.EventTypes, &r.Conditions,
		&w.Severity, &w.Language, &w.Format, &w.Template, &w.ContentType, &r.Headers, &r.Auth, &r.TLS,
		&w.MaxAttempts, &timeout, &w.RateLimit, &w.Ordered, &w.RetryClientErrors, &r.Secrets, &w.DisabledReason, &w.FailingSince,
		&w.CreatedAt, &w.UpdatedAt, &w.StandardHeaders); err != nil {
		return nil, err
	}
	if err := r.DecodeInto(&w, s.open); err != nil {
		return nil, err
	}
	w.Timeout = herald.Duration(timeout)
	w.FailingSince = utcPtr(w.FailingSince)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return &w, nil
}

// GetWebhook implements store.Store.
func (s *Store) GetWebhook(ctx context.Context, id string) (*herald.Webhook, error) {
	w, err := s.scanWebhook(s.db.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	q := `SELECT ` + webhookColumns + ` FROM webhooks WHERE true`
	var args []any
	if f.Projects != nil {
		q += ` AND project = ANY($1)`
		args = append(args, f.Projects)
	}
	if f.EnabledOnly {
		q += ` AND enabled`
	}
	q += ` ORDER BY created_at, id`
	rows, err := s.db.Query(ctx, q, args...)
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
	tag, err := s.db.Exec(ctx, `UPDATE webhooks SET
		name = $1, project = $2, url = $3, enabled = $4, category = $5, event_types = $6, conditions = $7,
		severity = $8, language = $9, format = $10, template = $11, content_type = $12, headers = $13, auth = $14,
		tls = $15, max_attempts = $16, timeout_ns = $17, rate_limit = $18, ordered = $19,
		retry_client_errors = $20, secrets = $21, disabled_reason = $22, failing_since = $23,
		created_at = $24, updated_at = $25, standard_headers = $27
		WHERE id = $26`,
		w.Name, w.Project, w.URL, w.Enabled, w.Category, r.EventTypes, r.Conditions,
		w.Severity, w.Language, w.Format, w.Template, w.ContentType, r.Headers, r.Auth,
		r.TLS, w.MaxAttempts, int64(w.Timeout), w.RateLimit, w.Ordered,
		w.RetryClientErrors, r.Secrets, w.DisabledReason, w.FailingSince, w.CreatedAt, w.UpdatedAt,
		w.ID, w.StandardHeaders)
	return wrap("update webhook", notFoundIfNone(tag, webhookConflict(err, w), "webhook"))
}

// DeleteWebhook implements store.Store.
//
// The webhook row goes first: Ingest holds its webhooks FOR KEY SHARE, so the
// DELETE waits for ingests in flight, and the cancelling UPDATE (a new
// statement, a new snapshot) then sees their deliveries; later ingests find
// the webhook gone. Rows are locked in id order, as every multi-row writer
// does. Leases are left alone: a request in flight still records its attempt
// when it completes (the row then follows that result; the dispatcher cancels
// it at its next claim, the webhook being gone).
func (s *Store) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err := notFoundIfNone(tag, err, "webhook"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries
			SET state = 'cancelled', last_error = 'webhook deleted', updated_at = $2
			WHERE id IN (
				SELECT id FROM deliveries
				WHERE webhook_id = $1 AND state IN ('pending', 'retrying', 'held')
					AND (state IN ('pending', 'retrying') OR state IN `+store.IndexedStates+`)
				ORDER BY id FOR UPDATE)
			AND state IN ('pending', 'retrying', 'held')`, id, now)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM delivery_status WHERE webhook_id = $1`, id)
		return err
	})
	return wrap("delete webhook", err)
}

// DisableWebhook implements store.Store. Deliveries already queued are left
// to the dispatcher, which cancels them when it finds the webhook off.
func (s *Store) DisableWebhook(ctx context.Context, id, reason string, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE webhooks SET enabled = false, disabled_reason = $1, updated_at = $2 WHERE id = $3`,
		reason, now, id)
	return wrap("disable webhook", notFoundIfNone(tag, err, "webhook"))
}
