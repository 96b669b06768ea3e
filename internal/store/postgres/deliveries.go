package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// dueHooksCTE lists the webhooks with pending or retrying rows: a skip scan
// of deliveries_due (keyed by webhook first), one index probe per webhook,
// as PostgreSQL has no skip scan of its own.
const dueHooksCTE = `WITH RECURSIVE hooks(w) AS (
		SELECT min(webhook_id) FROM deliveries WHERE state IN ('pending', 'retrying')
		UNION ALL
		SELECT (SELECT min(webhook_id) FROM deliveries
			WHERE state IN ('pending', 'retrying') AND webhook_id > hooks.w)
		FROM hooks WHERE hooks.w IS NOT NULL
	)`

// headRule: a delivery of an ordered webhook qualifies only while it is the
// oldest open (pending, retrying or held) ordered delivery of its webhook,
// found in deliveries_open (ordered rows only: deliveries made while the
// webhook was not ordered neither wait nor hold the others back): while that
// one is in flight or waiting for its retry, the others wait, whichever node
// claims. Nodes that evaluate this at once agree on the head; the head
// itself is locked by one of them.
const headRule = `(NOT q.ordered OR q.id = (
		SELECT o.id FROM deliveries o
		WHERE o.webhook_id = q.webhook_id AND o.ordered AND o.state IN ('pending', 'retrying', 'held')
		ORDER BY o.id LIMIT 1))`

// sqlClaim is ClaimDeliveries' statement. Per webhook with pending or
// retrying rows and not excluded ($5), the lateral subquery walks that
// webhook's part of deliveries_due in next_attempt_at order, passes over
// the rows leased (due_at, the later of next_attempt_at and the lease, is
// read from the row: the rows in flight, at the head of each webhook's
// part, as many as the nodes hold), and locks its share of the
// $4 rows (rounded up), skipping rows another transaction holds (a claim or
// a completion in flight) instead of waiting for them; those are leased. A
// webhook with an old backlog thus gets its share of each claim rather than
// all of it, beside the webhooks with fresh rows; when some have less than
// their share the claim returns fewer than $4 and the dispatcher, not full,
// claims again at once. Rows of an excluded webhook are never read, however many wait (a
// project at its share of the workers, say). A row another node leased since
// this statement's snapshot is re-checked against the lease and dropped. The
// global switch is an uncorrelated subquery, evaluated once: off, nothing is
// read.
const sqlClaim = dueHooksCTE + `, allowed AS (
		SELECT w FROM hooks WHERE w IS NOT NULL AND w <> ALL($5::text[])
			AND (SELECT webhooks_enabled FROM settings WHERE id = 1)
	), picked AS (
		SELECT q.id, q.expired FROM allowed CROSS JOIN LATERAL (
			SELECT q.id, q.next_attempt_at, q.lease_token IS NOT NULL AS expired FROM deliveries q
			WHERE q.webhook_id = allowed.w AND q.state IN ('pending', 'retrying') AND q.next_attempt_at <= $3
				AND q.due_at <= $3 AND ` + headRule + `
			ORDER BY q.next_attempt_at, q.id
			LIMIT (SELECT ($4 + count(*) - 1) / greatest(count(*), 1) FROM allowed)
			FOR UPDATE SKIP LOCKED) q
		ORDER BY q.next_attempt_at, q.id
		LIMIT $4
	)
	UPDATE deliveries d SET lease_token = $1, lease_until = $2
	FROM picked c
	WHERE d.id = c.id
	RETURNING d.id, d.event_seq, d.webhook_id, d.project, d.event_type, d.state, d.attempts, d.round_start,
		d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.test, d.created_at, d.updated_at,
		c.expired`

// ClaimDeliveries implements store.Store: one statement leases the rows, a
// second reads their events (events never change once stored). Nodes
// claiming at once each get different rows; a row whose lease expired (its
// holder died or stalled) is due again and claimed like any other.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Claimed, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []*store.Claimed
	var seqs []int64
	// With many rows due the planner joins the few it picked back to the
	// table by hashing the whole table (a sequential scan of every delivery
	// on every claim) rather than by primary key. SET LOCAL rules out hash
	// and merge joins for this one statement; it takes effect only in a
	// transaction block, so BEGIN and COMMIT go in the same round trip, and
	// the settings end with it.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL enable_hashjoin = off`)
	b.Queue(`SET LOCAL enable_mergejoin = off`)
	b.Queue(sqlClaim, p.LeaseToken, p.Now.Add(p.LeaseFor), p.Now, p.Limit, nonNil(p.ExcludeWebhooks)).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var seq int64
				var expired bool
				d, roundStart, err := scanDelivery(withExtra{rows, &expired}, &seq)
				if err != nil {
					return err
				}
				out = append(out, &store.Claimed{Delivery: d, LeaseToken: p.LeaseToken, RoundStart: roundStart,
					LeaseExpired: expired})
				seqs = append(seqs, seq)
			}
			return rows.Err()
		})
	b.Queue(`COMMIT`)
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return nil, wrap("claim deliveries", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// If this read fails, the rows stay leased until their lease expires and
	// are then claimed again: nothing is lost.
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		return nil, wrap("claim deliveries: load events", err)
	}
	if err := store.AttachEvents(out, seqs, events); err != nil {
		return nil, wrap("claim deliveries", err)
	}
	return out, nil
}

// eventsBySeq loads events by seq. Deliveries of one event share one
// *herald.Event, which callers treat as read-only.
func (s *Store) eventsBySeq(ctx context.Context, seqs []int64) (map[int64]*herald.Event, error) {
	uniq := slices.Clone(seqs)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	rows, err := s.db.Query(ctx, `SELECT seq, body FROM events WHERE seq = ANY($1)`, uniq)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*herald.Event, len(uniq))
	var seq int64
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &body}, func() error {
		ev := new(herald.Event)
		if err := json.Unmarshal(body, ev); err != nil {
			return err
		}
		out[seq] = ev
		return nil
	})
	return out, err
}

// scanDelivery reads the columns of sqlClaim's RETURNING; EventID is filled
// by the caller from seq.
// withExtra scans the columns of scanDelivery and then one more.
type withExtra struct {
	row   pgx.Row
	extra any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra)...) }

func scanDelivery(row pgx.Row, seq *int64) (*herald.Delivery, int, error) {
	var d herald.Delivery
	var state string
	var roundStart int
	err := row.Scan(&d.ID, seq, &d.WebhookID, &d.Project, &d.EventType, &state, &d.Attempts, &roundStart,
		&d.NextAttemptAt, &d.LastAttemptAt, &d.LastStatus, &d.LastError, &d.Test, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return nil, 0, err
	}
	d.State = herald.State(state)
	utcDelivery(&d)
	return &d, roundStart, nil
}

func utcDelivery(d *herald.Delivery) {
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.LastAttemptAt = utcPtr(d.LastAttemptAt)
}

// ExtendLeases implements store.Store. Rows are locked in id order, like
// CompleteDeliveries does, which runs beside it on the same node's rows.
func (s *Store) ExtendLeases(ctx context.Context, token string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE deliveries SET lease_until = $1
			WHERE id IN (
				SELECT id FROM deliveries WHERE id = ANY($3) AND lease_token = $2
				ORDER BY id FOR UPDATE)
			AND lease_token = $2`, until, token, ids)
		return err
	})
	return wrap("extend leases", err)
}

// sqlNextDue is the earliest due time of a claimable row. deliveries_due
// is in next_attempt_at order and a row's due time is due_at (the later of
// next_attempt_at and its lease), so per webhook with pending or retrying
// rows it is the earlier of its first unleased row's next_attempt_at and the
// earliest due_at of the leased rows before that one (the rows in flight).
// A delivery of an ordered webhook that waits behind an older one is not
// due, whatever its time: counting it would wake the dispatcher in a loop to
// claim nothing. The dispatcher only uses the answer to decide how long to
// sleep. The bound on next_attempt_at is written so that it is an index
// condition (an OR would make it a filter over the webhook's whole queue).
const sqlNextDue = dueHooksCTE + `, first AS (
		SELECT hooks.w, (SELECT q.next_attempt_at FROM deliveries q
			WHERE q.webhook_id = hooks.w AND q.state IN ('pending', 'retrying') AND q.due_at = q.next_attempt_at
				AND ` + headRule + `
			ORDER BY q.next_attempt_at, q.id LIMIT 1) AS at
		FROM hooks WHERE hooks.w IS NOT NULL
	)
	SELECT
	(SELECT webhooks_enabled FROM settings WHERE id = 1),
	(SELECT min(least(first.at, (SELECT min(q.due_at) FROM deliveries q
		WHERE q.webhook_id = first.w AND q.state IN ('pending', 'retrying') AND q.due_at > q.next_attempt_at
			AND q.next_attempt_at <= coalesce(first.at, 'infinity') AND ` + headRule + `)))
	FROM first)`

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var on bool
	var due *time.Time
	if err := s.db.QueryRow(ctx, sqlNextDue).Scan(&on, &due); err != nil {
		return time.Time{}, false, wrap("next due", err)
	}
	if !on || due == nil {
		return time.Time{}, false, nil
	}
	return due.UTC(), true, nil
}

// deliveryColumns are read by scanLogDelivery; the join supplies EventID.
const deliveryColumns = `d.id, e.id, d.webhook_id, d.project, d.event_type, d.state, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.test, d.created_at, d.updated_at
	FROM deliveries d LEFT JOIN events e ON e.seq = d.event_seq`

func scanLogDelivery(row pgx.Row) (*herald.Delivery, error) {
	var d herald.Delivery
	var eventID *string
	var state string
	if err := row.Scan(&d.ID, &eventID, &d.WebhookID, &d.Project, &d.EventType, &state, &d.Attempts,
		&d.NextAttemptAt, &d.LastAttemptAt, &d.LastStatus, &d.LastError, &d.Test, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	if eventID != nil {
		d.EventID = *eventID
	}
	d.State = herald.State(state)
	utcDelivery(&d)
	return &d, nil
}

// ListDeliveries implements store.Store. One row more than the page is read
// to know whether a next page exists, so the last page has no cursor.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*herald.Delivery, string, error) {
	if f.Projects != nil && len(f.Projects) == 0 {
		return nil, "", nil
	}
	limit := store.PageLimit(f.Limit)
	where, args := deliveryWhere(f)
	if f.Cursor != "" {
		args = append(args, f.Cursor)
		if f.Oldest {
			where = append(where, `d.id > $`+strconv.Itoa(len(args)))
		} else {
			where = append(where, `d.id < $`+strconv.Itoa(len(args)))
		}
	}
	q := `SELECT ` + deliveryColumns
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, limit+1)
	if f.Oldest {
		q += ` ORDER BY d.id LIMIT $` + strconv.Itoa(len(args))
	} else {
		q += ` ORDER BY d.id DESC LIMIT $` + strconv.Itoa(len(args))
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", wrap("list deliveries", err)
	}
	defer rows.Close()
	var out []*herald.Delivery
	for rows.Next() {
		d, err := scanLogDelivery(rows)
		if err != nil {
			return nil, "", wrap("list deliveries", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list deliveries", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// CountMatchingDeliveries implements store.Store.
func (s *Store) CountMatchingDeliveries(ctx context.Context, f store.DeliveryFilter, max int) (int, bool, error) {
	if f.Projects != nil && len(f.Projects) == 0 {
		return 0, false, nil
	}
	where, args := deliveryWhere(f)
	q := `SELECT 1 FROM deliveries d LEFT JOIN events e ON e.seq = d.event_seq`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, max+1)
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM (`+q+` LIMIT $`+strconv.Itoa(len(args))+`) AS m`, args...).Scan(&n)
	if err != nil {
		return 0, false, wrap("count deliveries", err)
	}
	return min(n, max), n > max, nil
}

// deliveryWhere is the WHERE of the filter f without its cursor, over
// deliveries d joined with their events e, with its arguments ($1, ...).
func deliveryWhere(f store.DeliveryFilter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.WebhookID != "" {
		add(`d.webhook_id = $?`, f.WebhookID)
	}
	if f.Projects != nil {
		add(`d.project = ANY($?)`, f.Projects)
	}
	if f.State != "" {
		add(`d.state = $?`, string(f.State))
		if store.StateIndexed(f.State) {
			where = append(where, `d.state IN `+store.IndexedStates) // deliveries_state's predicate
		}
	}
	if prefix, ok := strings.CutSuffix(f.EventType, "*"); ok {
		if prefix != "" {
			add(`d.event_type LIKE $? ESCAPE '\'`, store.LikePrefix(prefix))
		}
	} else if f.EventType != "" {
		add(`d.event_type = $?`, f.EventType)
	}
	if f.ErrorContains != "" {
		add(`d.last_error ILIKE $? ESCAPE '\'`, store.LikeContains(f.ErrorContains))
	}
	if f.EventID != "" {
		add(`d.event_seq IN (SELECT seq FROM events WHERE id = $?)`, f.EventID)
	}
	if !f.Since.IsZero() {
		add(`d.created_at >= $?`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`d.created_at < $?`, f.Until)
	}
	if f.SubjectContains != "" {
		add(`(e.body::json ->> 'subject') ILIKE $? ESCAPE '\'`, store.LikeContains(f.SubjectContains))
	}
	return where, args
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, id string) (*herald.Delivery, error) {
	return getDelivery(ctx, s.db, id)
}

// querier is what a pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getDelivery(ctx context.Context, q querier, id string) (*herald.Delivery, error) {
	d, err := scanLogDelivery(q.QueryRow(ctx, `SELECT `+deliveryColumns+` WHERE d.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.NotFound("delivery")
	}
	return d, wrap("get delivery", err)
}

// ListAttempts implements store.Store: in the order they were made (attempt
// ids increase within a node, and break ties between equal start times). The
// first attempt may be kept on the delivery's row (migration 0014); the
// others are rows of attempts. A packed attempt (request_shape set) gets its
// request back from its shape and its event's body (and the event's data,
// when the body was kept without it); an older one has it inline.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string) ([]*herald.Attempt, error) {
	var out []*herald.Attempt
	var inline []byte
	var seq int64
	err := s.db.QueryRow(ctx, `SELECT first_attempt, event_seq FROM deliveries WHERE id = $1`, deliveryID).
		Scan(&inline, &seq)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, wrap("list attempts", err)
	}
	if inline != nil {
		a, err := s.inlineAttempt(ctx, deliveryID, seq, inline)
		if err != nil {
			return nil, wrap("list attempts", err)
		}
		out = append(out, a)
	}
	first, err := s.db.Query(ctx, `SELECT d.first_started, d.first_latency_ns, d.first_status,
		d.first_error, d.first_response_headers, d.first_response_body, d.first_request_body_truncated,
		coalesce(sh.method, ''), coalesce(sh.url, ''), coalesce(sh.headers, ''),
		d.first_request_signature, d.first_request_body_hash, coalesce(b.body, ''), coalesce(b.data_at, -1),
		coalesce(e.body, '')
		FROM deliveries d
		LEFT JOIN request_shapes sh ON sh.hash = d.first_request_shape
		LEFT JOIN request_bodies b ON d.first_request_body_hash IS NOT NULL
			AND b.event_seq = d.event_seq AND b.hash = d.first_request_body_hash
		LEFT JOIN events e ON b.data_at IS NOT NULL AND e.seq = d.event_seq
		WHERE d.id = $1 AND d.first_started IS NOT NULL`, deliveryID)
	if err != nil {
		return nil, wrap("list attempts", err)
	}
	for first.Next() {
		a := herald.Attempt{DeliveryID: deliveryID, Number: 1, ID: store.FirstAttemptID(deliveryID)}
		var latency int64
		var resp, signature, body, event string
		var dataAt int
		var bodyHash []byte
		var sh attemptpack.Shape
		if err := first.Scan(&a.StartedAt, &latency, &a.StatusCode, &a.Error, &resp, &a.ResponseBody,
			&a.RequestBodyTruncated, &sh.Method, &sh.URL, &sh.Headers, &signature, &bodyHash, &body, &dataAt,
			&event); err != nil {
			first.Close()
			return nil, wrap("list attempts", err)
		}
		a.StartedAt, a.Latency = a.StartedAt.UTC(), herald.Duration(latency)
		if err := unpackAttempt(&a, sh, signature, body, dataAt, event, bodyHash, resp); err != nil {
			first.Close()
			return nil, wrap("list attempts", err)
		}
		out = append(out, &a)
	}
	first.Close()
	if err := first.Err(); err != nil {
		return nil, wrap("list attempts", err)
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, a.delivery_id, a.number, a.started_at, a.latency_ns,
		a.request_headers, a.status_code, a.response_headers, a.response_body, a.error,
		a.request_method, a.request_url, a.request_body, a.request_body_truncated,
		a.request_shape IS NOT NULL, coalesce(sh.method, ''), coalesce(sh.url, ''), coalesce(sh.headers, ''),
		a.request_signature, a.request_body_hash, coalesce(b.body, ''), coalesce(b.data_at, -1), coalesce(e.body, '')
		FROM attempts a
		LEFT JOIN request_shapes sh ON sh.hash = a.request_shape
		LEFT JOIN request_bodies b ON a.request_body_hash IS NOT NULL
			AND b.event_seq = (SELECT event_seq FROM deliveries WHERE id = a.delivery_id) AND b.hash = a.request_body_hash
		LEFT JOIN events e ON b.data_at IS NOT NULL AND e.seq = b.event_seq
		WHERE a.delivery_id = $1 ORDER BY a.started_at, a.id`, deliveryID)
	if err != nil {
		return nil, wrap("list attempts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a herald.Attempt
		var latency int64
		var req, resp, signature, body, event string
		var dataAt int
		var bodyHash []byte
		var packed bool
		var sh attemptpack.Shape
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.StartedAt, &latency, &req,
			&a.StatusCode, &resp, &a.ResponseBody, &a.Error,
			&a.RequestMethod, &a.RequestURL, &a.RequestBody, &a.RequestBodyTruncated,
			&packed, &sh.Method, &sh.URL, &sh.Headers, &signature, &bodyHash, &body, &dataAt, &event); err != nil {
			return nil, wrap("list attempts", err)
		}
		a.StartedAt = a.StartedAt.UTC()
		a.Latency = herald.Duration(latency)
		if packed {
			err = unpackAttempt(&a, sh, signature, body, dataAt, event, bodyHash, resp)
		} else if a.RequestHeaders, err = decodeHeaders(req); err == nil {
			a.ResponseHeaders, err = decodeHeaders(resp)
		}
		if err != nil {
			return nil, wrap("list attempts", err)
		}
		out = append(out, &a)
	}
	return out, wrap("list attempts", rows.Err())
}

// inlineAttempt reads the first attempt kept on the row of deliveryID (its
// event seq) as b, attemptpack's Inline: its request from its shape and its
// event's body, as ListAttempts does for attempts rows.
func (s *Store) inlineAttempt(ctx context.Context, deliveryID string, seq int64, b []byte) (*herald.Attempt, error) {
	return attemptpack.ReadInline(deliveryID, store.FirstAttemptID(deliveryID), b, attemptpack.Parts{
		Shapes: func(lo, hi []byte) ([]attemptpack.Shape, error) {
			rows, err := s.db.Query(ctx, `SELECT method, url, headers FROM request_shapes
				WHERE hash >= $1 AND ($2::bytea IS NULL OR hash < $2) LIMIT 2`, lo, hi)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, func(r pgx.CollectableRow) (attemptpack.Shape, error) {
				var sh attemptpack.Shape
				err := r.Scan(&sh.Method, &sh.URL, &sh.Headers)
				return sh, err
			})
		},
		Bodies: func(lo, hi []byte) ([]attemptpack.StoredBody, error) {
			rows, err := s.db.Query(ctx, `SELECT b.hash, b.body, coalesce(b.data_at, -1), coalesce(e.body::text, '')
				FROM request_bodies b LEFT JOIN events e ON b.data_at IS NOT NULL AND e.seq = b.event_seq
				WHERE b.event_seq = $1 AND b.hash >= $2 AND ($3::bytea IS NULL OR b.hash < $3) LIMIT 2`, seq, lo, hi)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, func(r pgx.CollectableRow) (attemptpack.StoredBody, error) {
				var sb attemptpack.StoredBody
				err := r.Scan(&sb.Hash, &sb.Body, &sb.DataAt, &sb.Event)
				return sb, err
			})
		},
	})
}

// unpackAttempt fills a packed attempt's request (attemptpack.UnpackStored)
// and its response headers.
func unpackAttempt(a *herald.Attempt, sh attemptpack.Shape, signature, body string, dataAt int, event string,
	bodyHash []byte, resp string) error {
	if err := attemptpack.UnpackStored(a, sh, signature, body, dataAt, event, bodyHash); err != nil {
		return err
	}
	var err error
	a.ResponseHeaders, err = decodeHeaders(resp)
	return err
}

// sqlRetry starts a fresh retry schedule for the rows its WHERE (appended by
// the caller) selects. $1 is now, $2 is true when the global switch is off:
// the row is then held, and released as pending or retrying when it comes
// on. The lease is cleared so a late result of an older claim is fenced off.
const sqlRetry = `UPDATE deliveries SET
	state = CASE WHEN $2::bool THEN 'held' WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,
	round_start = attempts, next_attempt_at = $1, updated_at = $1,
	lease_token = NULL, lease_until = NULL `

// RetryDelivery implements store.Store. The settings row is read FOR SHARE
// before the delivery is locked, the order every writer follows.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) (*herald.Delivery, error) {
	var d *herald.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var on bool
		if err := tx.QueryRow(ctx, lockSettings).Scan(&on); err != nil {
			return err
		}
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return herald.NotFound("delivery")
		}
		if err != nil {
			return err
		}
		if herald.State(state) == herald.StateRetrying {
			// Retry now: its next attempt is due at once, unless it is
			// being made right now (leased).
			tag, err := tx.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, updated_at = $1
				WHERE id = $2 AND (lease_until IS NULL OR lease_until <= $1)`, now, id)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return herald.Errorf(herald.EConflict, "delivery is being sent right now; wait for this attempt's result")
			}
			d, err = getDelivery(ctx, tx, id)
			return err
		}
		if s := herald.State(state); s == herald.StatePending {
			return herald.Errorf(herald.EConflict, "delivery is already %s", s)
		}
		if _, err := tx.Exec(ctx, sqlRetry+`WHERE id = $3`, now, !on, id); err != nil {
			return err
		}
		d, err = getDelivery(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap("retry delivery", err)
	}
	return d, nil
}

// RecoverFailed implements store.Store. A zero since recovers every failed
// delivery of the webhook; test sends are not deliveries of events and stay
// as they are.
func (s *Store) RecoverFailed(ctx context.Context, webhookID string, since, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var on bool
		if err := tx.QueryRow(ctx, lockSettings).Scan(&on); err != nil {
			return err
		}
		cond := `webhook_id = $3 AND state = 'failed' AND NOT test`
		args := []any{now, !on, webhookID}
		if !since.IsZero() {
			cond += ` AND last_attempt_at >= $4`
			args = append(args, since)
		}
		tag, err := tx.Exec(ctx, sqlRetry+`WHERE id IN (SELECT id FROM deliveries WHERE `+cond+
			` ORDER BY id FOR UPDATE) AND `+cond, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("recover failed", err)
	}
	return int(n), nil
}

// WebhookStatus implements store.Store from delivery_status: one row per
// event type, each joined with its delivery for its current state.
func (s *Store) WebhookStatus(ctx context.Context, webhookID string) ([]herald.EventTypeStatus, error) {
	rows, err := s.db.Query(ctx, `SELECT st.event_type, d.last_attempt_at, d.state, d.last_status, d.last_error, d.id
		FROM delivery_status st JOIN deliveries d ON d.id = st.delivery_id
		WHERE st.webhook_id = $1 AND d.last_attempt_at IS NOT NULL
		ORDER BY st.event_type`, webhookID)
	if err != nil {
		return nil, wrap("webhook status", err)
	}
	var out []herald.EventTypeStatus
	var st herald.EventTypeStatus
	_, err = pgx.ForEachRow(rows, []any{&st.EventType, &st.LastAttemptAt, &st.State, &st.StatusCode, &st.Error, &st.DeliveryID},
		func() error {
			st.LastAttemptAt = st.LastAttemptAt.UTC()
			out = append(out, st)
			return nil
		})
	return out, wrap("webhook status", err)
}
