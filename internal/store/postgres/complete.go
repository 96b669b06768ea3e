package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// sqlLockLeased locks, in id order, the rows of a batch still leased with
// their completion's token. Every multi-row writer locks in id order, so two
// of them wait for each other rather than deadlock (ExtendLeases runs
// beside CompleteDeliveries on the same rows of a node).
const sqlLockLeased = `SELECT d.id FROM deliveries d
	JOIN unnest($1::text[], $2::text[]) AS c(id, token) ON d.id = c.id AND d.lease_token = c.token
	ORDER BY d.id FOR UPDATE OF d`

// sqlComplete applies completions fenced on the lease token and records the
// attempts of those that applied, in one statement. A pending or retrying
// result becomes held while the switch is off (the caller holds the settings
// row FOR SHARE, so the switch cannot move before commit). An attempt without
// a number gets the delivery's new attempt count. It returns the position of
// each completion that applied, with the row's new attempt count and webhook.
const sqlComplete = `WITH c AS (
		SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[],
			$7::bool[], $8::timestamptz[], $9::int[], $10::text[], $11::timestamptz[])
			AS c(pos, id, token, state, set_next, next_at, made, started, status, last_error, now)
	), upd AS (
		UPDATE deliveries d SET
			state = CASE WHEN c.state IN ('pending', 'retrying')
				AND NOT (SELECT webhooks_enabled FROM settings WHERE id = 1) THEN 'held' ELSE c.state END,
			next_attempt_at = CASE WHEN c.set_next THEN c.next_at ELSE d.next_attempt_at END,
			attempts = d.attempts + c.made::int,
			last_attempt_at = CASE WHEN c.made THEN c.started ELSE d.last_attempt_at END,
			last_status = CASE WHEN c.made THEN c.status ELSE d.last_status END,
			last_error = c.last_error,
			lease_token = NULL, lease_until = NULL,
			updated_at = c.now
		FROM c WHERE d.id = c.id AND d.lease_token = c.token
		RETURNING c.pos, d.id, d.attempts, d.webhook_id
	), att AS (
		INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns, request_headers,
			status_code, response_headers, response_body, error,
			request_method, request_url, request_body, request_body_truncated)
		SELECT a.id, a.delivery_id, CASE WHEN a.number = 0 THEN upd.attempts ELSE a.number END,
			a.started_at, a.latency_ns, a.request_headers, a.status_code, a.response_headers,
			a.response_body, a.error, a.request_method, a.request_url, a.request_body, a.request_body_truncated
		FROM unnest($12::int[], $13::text[], $14::text[], $15::int[], $16::timestamptz[], $17::bigint[],
			$18::text[], $19::int[], $20::text[], $21::text[], $22::text[],
			$23::text[], $24::text[], $25::text[], $26::bool[])
			AS a(pos, id, delivery_id, number, started_at, latency_ns, request_headers, status_code,
				response_headers, response_body, error,
				request_method, request_url, request_body, request_body_truncated)
		JOIN upd ON upd.pos = a.pos
	)
	SELECT pos, attempts, webhook_id FROM upd`

// sqlInsertAttempts inserts attempts given as column arrays (attemptRows).
const sqlInsertAttempts = `INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns,
		request_headers, status_code, response_headers, response_body, error,
		request_method, request_url, request_body, request_body_truncated)
	SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::bigint[], $6::text[],
		$7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[])`

// attemptRows are attempts as column arrays, their headers encoded.
type attemptRows struct {
	pos                                []int32 // position of the completion, for sqlComplete
	id, deliveryID                     []string
	number, status                     []int32
	started                            []time.Time
	latency                            []int64
	reqHeaders, resHeaders, body, errs []string
	method, reqURL, reqBody            []string
	reqTruncated                       []bool
}

func (r *attemptRows) add(a *herald.Attempt) error {
	req, err := jsonText(a.RequestHeaders)
	if err != nil {
		return err
	}
	res, err := jsonText(a.ResponseHeaders)
	if err != nil {
		return err
	}
	r.id = append(r.id, a.ID)
	r.deliveryID = append(r.deliveryID, a.DeliveryID)
	r.number = append(r.number, int32(a.Number))
	r.started = append(r.started, a.StartedAt)
	r.latency = append(r.latency, int64(a.Latency))
	r.reqHeaders = append(r.reqHeaders, req)
	r.status = append(r.status, int32(a.StatusCode))
	r.resHeaders = append(r.resHeaders, res)
	r.body = append(r.body, a.ResponseBody)
	r.errs = append(r.errs, a.Error)
	r.method = append(r.method, a.RequestMethod)
	r.reqURL = append(r.reqURL, a.RequestURL)
	r.reqBody = append(r.reqBody, a.RequestBody)
	r.reqTruncated = append(r.reqTruncated, a.RequestBodyTruncated)
	return nil
}

// args are sqlInsertAttempts' arguments.
func (r *attemptRows) args() []any {
	return []any{r.id, r.deliveryID, r.number, r.started, r.latency, r.reqHeaders, r.status, r.resHeaders,
		r.body, r.errs, r.method, r.reqURL, r.reqBody, r.reqTruncated}
}

// completionRows are completions as column arrays, with their attempts.
type completionRows struct {
	pos                       []int32
	id, token, state, lastErr []string
	setNext, made             []bool
	next, started, now        []time.Time
	status                    []int32
	att                       attemptRows
}

func (r *completionRows) args() []any {
	return []any{r.pos, r.id, r.token, r.state, r.setNext, r.next, r.made, r.started, r.status, r.lastErr, r.now,
		nonNil(r.att.pos), nonNil(r.att.id), nonNil(r.att.deliveryID), nonNil(r.att.number),
		nonNil(r.att.started), nonNil(r.att.latency), nonNil(r.att.reqHeaders), nonNil(r.att.status),
		nonNil(r.att.resHeaders), nonNil(r.att.body), nonNil(r.att.errs),
		nonNil(r.att.method), nonNil(r.att.reqURL), nonNil(r.att.reqBody), nonNil(r.att.reqTruncated)}
}

// CompleteDeliveries implements store.Store in one transaction: the settings
// row FOR SHARE, the batch's leased rows locked in id order, and one
// statement per round that updates the rows and inserts the attempts of
// those that applied (pipelined with the first two in one round trip), then
// one statement for the webhooks' FailingSince.
//
// A delivery may appear twice in one batch (a release and a late result,
// say). Completions are applied in rounds: the first completion of each
// delivery, then the second, and so on, which is the same as applying them
// one by one in order, since distinct deliveries do not interact. Attempts
// of completions that do not apply are dropped: the newer lease holder's
// result stands.
func (s *Store) CompleteDeliveries(ctx context.Context, cs []store.Completion) ([]bool, error) {
	applied := make([]bool, len(cs))
	if len(cs) == 0 {
		return applied, nil
	}
	var rounds []*completionRows
	seen := make(map[string]int, len(cs))
	attemptIDs := make([]string, len(cs))
	for i, c := range cs {
		if !herald.ValidState(c.State) {
			return nil, fmt.Errorf("postgres: complete delivery %s: invalid state %q", c.DeliveryID, c.State)
		}
		k := seen[c.DeliveryID]
		seen[c.DeliveryID] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, &completionRows{})
		}
		r := rounds[k]
		lastErr := c.Error
		var next, started time.Time
		setNext := c.State == herald.StatePending || c.State == herald.StateRetrying
		if setNext {
			next = c.NextAttemptAt
			if next.IsZero() {
				next = c.Now
			}
		}
		var status int32
		if a := c.Attempt; a != nil {
			if a.StartedAt.IsZero() {
				a.StartedAt = c.Now
			}
			a.DeliveryID = c.DeliveryID
			started, status = a.StartedAt, int32(a.StatusCode)
			if a.Error != "" {
				lastErr = a.Error
			}
			// The ID is given to the caller's Attempt only if it applies.
			attemptIDs[i] = a.ID
			if attemptIDs[i] == "" {
				attemptIDs[i] = s.ids.Next("att")
			}
			withID := *a
			withID.ID = attemptIDs[i]
			if err := r.att.add(&withID); err != nil {
				return nil, wrap("complete deliveries", err)
			}
			r.att.pos = append(r.att.pos, int32(i))
		}
		r.pos = append(r.pos, int32(i))
		r.id = append(r.id, c.DeliveryID)
		r.token = append(r.token, c.LeaseToken)
		r.state = append(r.state, string(c.State))
		r.setNext = append(r.setNext, setNext)
		r.next = append(r.next, next)
		r.made = append(r.made, c.Attempt != nil)
		r.started = append(r.started, started)
		r.status = append(r.status, status)
		r.lastErr = append(r.lastErr, lastErr)
		r.now = append(r.now, c.Now)
	}
	// Lock order: ascending id over the whole batch.
	ids := slices.Clone(rounds[0].id)
	tokens := slices.Clone(rounds[0].token)
	for _, r := range rounds[1:] {
		ids = append(ids, r.id...)
		tokens = append(tokens, r.token...)
	}

	// attempts is the new attempt count and webhook the webhook of each
	// applied completion.
	attempts := make([]int, len(cs))
	webhook := make([]string, len(cs))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		clear(applied)
		b := &pgx.Batch{}
		b.Queue(lockSettings)
		b.Queue(sqlLockLeased, ids, tokens)
		for _, r := range rounds {
			b.Queue(sqlComplete, r.args()...).Query(func(rows pgx.Rows) error {
				var pos int32
				var n int
				var hook string
				_, err := pgx.ForEachRow(rows, []any{&pos, &n, &hook}, func() error {
					applied[pos], attempts[pos], webhook[pos] = true, n, hook
					return nil
				})
				return err
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return updateHealth(ctx, tx, cs, applied, webhook)
	})
	if err != nil {
		return nil, wrap("complete deliveries", err)
	}
	for i, c := range cs {
		if a := c.Attempt; a != nil && applied[i] {
			a.ID = attemptIDs[i]
			if a.Number == 0 {
				a.Number = attempts[i]
			}
		}
	}
	return applied, nil
}

// health is what one batch of completions did to a webhook's FailingSince.
type health struct {
	succeeded bool       // some attempt succeeded
	failedAt  *time.Time // first failed attempt after the last success, if any
}

// Modes of sqlHealth, per webhook.
const (
	healthClear   = 0 // a success and no failure after it
	healthSet     = 1 // a failure after a success in this batch: it starts now
	healthSetOnce = 2 // failures only: they start now unless already failing
)

// sqlHealth writes FailingSince for a batch's webhooks in one statement; the
// conditions make the no-change case write nothing.
const sqlHealth = `UPDATE webhooks w SET failing_since = CASE WHEN h.mode = 0 THEN NULL ELSE h.at END
	FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS h(id, mode, at)
	WHERE w.id = h.id AND CASE h.mode
		WHEN 0 THEN w.failing_since IS NOT NULL
		WHEN 1 THEN w.failing_since IS DISTINCT FROM h.at
		ELSE w.failing_since IS NULL END`

// updateHealth keeps FailingSince: cleared by a success, set by a failed
// attempt when unset (or when this batch's success cleared it first).
// Completions count in batch order.
func updateHealth(ctx context.Context, tx pgx.Tx, cs []store.Completion, applied []bool, webhook []string) error {
	hooks := map[string]*health{}
	for i, c := range cs {
		if !applied[i] || c.Attempt == nil {
			continue
		}
		h := hooks[webhook[i]]
		if h == nil {
			h = &health{}
			hooks[webhook[i]] = h
		}
		if c.State == herald.StateSucceeded {
			h.succeeded, h.failedAt = true, nil
		} else if h.failedAt == nil {
			h.failedAt = &c.Attempt.StartedAt
		}
	}
	if len(hooks) == 0 {
		return nil
	}
	ids := make([]string, 0, len(hooks))
	for id := range hooks {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, strings.Compare) // lock order
	modes := make([]int32, len(ids))
	ats := make([]time.Time, len(ids))
	for k, id := range ids {
		h := hooks[id]
		switch {
		case h.failedAt == nil:
			modes[k] = healthClear
		case h.succeeded:
			modes[k], ats[k] = healthSet, *h.failedAt
		default:
			modes[k], ats[k] = healthSetOnce, *h.failedAt
		}
	}
	_, err := tx.Exec(ctx, sqlHealth, ids, modes, ats)
	return err
}

// decodeHeaders reads an attempt's headers column.
func decodeHeaders(s string) (map[string][]string, error) {
	var h map[string][]string
	err := json.Unmarshal([]byte(s), &h)
	return h, err
}
