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
	"github.com/herald-hq/herald/internal/store/attemptpack"
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
var sqlComplete = `WITH c AS (
		SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[],
			$7::bool[], $8::timestamptz[], $9::int[], $10::text[], $11::timestamptz[], $36::bool[],
			$12::int[], $13::text[], $14::text[], $15::int[], $16::timestamptz[], $17::bigint[],
			$18::text[], $19::int[], $20::text[], $21::text[], $22::text[],
			$23::text[], $24::text[], $25::text[], $26::bool[], $27::bytea[], $28::text[], $29::bytea[],
			$38::bytea[])
			AS c(pos, id, token, state, set_next, next_at, made, started, status, last_error, now, first,
				a_pos, a_id, a_delivery_id, a_number, a_started_at, a_latency_ns, a_request_headers, a_status_code,
				a_response_headers, a_response_body, a_error,
				a_request_method, a_request_url, a_request_body, a_request_body_truncated,
				a_request_shape, a_request_signature, a_request_body_hash, a_inline)
	), a AS (
		SELECT pos, a_id AS id, a_delivery_id AS delivery_id, a_number AS number, a_started_at AS started_at,
			a_latency_ns AS latency_ns, a_request_headers AS request_headers, a_status_code AS status_code,
			a_response_headers AS response_headers, a_response_body AS response_body, a_error AS error,
			a_request_method AS request_method, a_request_url AS request_url, a_request_body AS request_body,
			a_request_body_truncated AS request_body_truncated, a_request_shape AS request_shape,
			a_request_signature AS request_signature, a_request_body_hash AS request_body_hash
		FROM c WHERE made
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
			updated_at = c.now` + firstColumnsSQL + `
		FROM c
		WHERE d.id = c.id AND d.lease_token = c.token
		RETURNING c.pos, d.id, d.attempts, d.webhook_id, d.event_seq, d.event_type, c.first AND d.attempts = 1 AS kept
	), att AS (
		INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns, request_headers,
			status_code, response_headers, response_body, error,
			request_method, request_url, request_body, request_body_truncated,
			request_shape, request_signature, request_body_hash)
		SELECT a.id, a.delivery_id, CASE WHEN a.number = 0 THEN upd.attempts ELSE a.number END,
			a.started_at, a.latency_ns, a.request_headers, a.status_code, a.response_headers,
			a.response_body, a.error, a.request_method, a.request_url, a.request_body, a.request_body_truncated,
			a.request_shape, a.request_signature, a.request_body_hash
		FROM a JOIN upd ON upd.pos = a.pos WHERE NOT upd.kept
	), st AS (
		INSERT INTO delivery_status (webhook_id, event_type, last_attempt_at, delivery_id)
		SELECT DISTINCT ON (upd.webhook_id, upd.event_type) upd.webhook_id, upd.event_type, a.started_at, upd.id
		FROM a JOIN upd ON upd.pos = a.pos
		ORDER BY upd.webhook_id, upd.event_type, a.started_at DESC, upd.id DESC
		ON CONFLICT (webhook_id, event_type) DO UPDATE SET
			last_attempt_at = excluded.last_attempt_at, delivery_id = excluded.delivery_id
		WHERE (excluded.last_attempt_at, excluded.delivery_id) > (delivery_status.last_attempt_at, delivery_status.delivery_id)
	), shp AS (` + insertShapesSQL(30) + `
	), bod AS (
		INSERT INTO request_bodies (event_seq, hash, body, data_at)
		SELECT DISTINCT ON (upd.event_seq, b.hash) upd.event_seq, b.hash, b.body, b.data_at
		FROM unnest($34::bytea[], $35::text[], $37::int[]) AS b(hash, body, data_at)
		JOIN a ON a.request_body_hash = b.hash JOIN upd ON upd.pos = a.pos
		ORDER BY upd.event_seq, b.hash
		ON CONFLICT DO NOTHING
	)
	SELECT pos, attempts, webhook_id, kept FROM upd`

// firstColumnsSQL sets first_attempt (attemptpack's Inline) of sqlComplete's
// UPDATE from the completion's attempt when the row had no attempt before
// and the attempt may be kept there (c.first): see migrations 0014 and 0016.
// The attempt's columns are zipped with the completion's in c (one unnest,
// the same length: a completion without an attempt has zero values there),
// so the UPDATE joins nothing but the rows it updates.
const firstColumnsSQL = `,
			first_attempt = CASE WHEN d.attempts = 0 AND c.first THEN c.a_inline ELSE d.first_attempt END`

// insertShapesSQL inserts the distinct request shapes given as four arrays
// from parameter $first on (hash, method, URL, headers), in hash order so
// that two writers of the same new shapes wait rather than deadlock.
func insertShapesSQL(first int) string {
	return fmt.Sprintf(`INSERT INTO request_shapes (hash, method, url, headers)
		SELECT * FROM unnest($%d::bytea[], $%d::text[], $%d::text[], $%d::text[]) AS s(hash, method, url, headers)
		ORDER BY s.hash
		ON CONFLICT DO NOTHING`, first, first+1, first+2, first+3)
}

// sqlInsertAttempts inserts attempts given as column arrays (attemptRows).
const sqlInsertAttempts = `INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns,
		request_headers, status_code, response_headers, response_body, error,
		request_method, request_url, request_body, request_body_truncated,
		request_shape, request_signature, request_body_hash)
	SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::bigint[], $6::text[],
		$7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[],
		$15::bytea[], $16::text[], $17::bytea[])`

// attemptRows are attempts as column arrays, their headers encoded and
// their requests packed (attemptpack), with the distinct shapes and bodies
// they refer to.
type attemptRows struct {
	pos                                []int32 // position of the completion, for sqlComplete
	id, deliveryID                     []string
	number, status                     []int32
	started                            []time.Time
	latency                            []int64
	reqHeaders, resHeaders, body, errs []string
	method, reqURL, reqBody            []string
	reqTruncated                       []bool
	shape, bodyHash                    [][]byte
	signature                          []string
	inline                             [][]byte // attemptpack's Inline of a packed attempt, else nil

	shapeHash, bodyKey                [][]byte
	shapeMethod, shapeURL, shapeHeads []string
	bodyText                          []string
	bodyDataAt                        []*int32        // nil: the body is whole
	seen                              map[string]bool // shapes and bodies already listed
}

// add appends a; eventData is its event's data, which a body holding it
// verbatim is stored without (attemptpack.Packed.CutData). It reports
// whether the request was packed.
func (r *attemptRows) add(a *herald.Attempt, eventData []byte) (bool, error) {
	res, err := jsonText(a.ResponseHeaders)
	if err != nil {
		return false, err
	}
	p, packed, err := attemptpack.Pack(a)
	if err != nil {
		return false, err
	}
	p.CutData(eventData)
	req := ""
	method, reqURL, reqBody := a.RequestMethod, a.RequestURL, a.RequestBody
	if packed {
		method, reqURL, reqBody = "", "", ""
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		if k := "s" + string(p.Shape.Hash); !r.seen[k] {
			r.seen[k] = true
			r.shapeHash = append(r.shapeHash, p.Shape.Hash)
			r.shapeMethod = append(r.shapeMethod, p.Shape.Method)
			r.shapeURL = append(r.shapeURL, p.Shape.URL)
			r.shapeHeads = append(r.shapeHeads, p.Shape.Headers)
		}
		if k := "b" + string(p.BodyHash); p.BodyHash != nil && !r.seen[k] {
			r.seen[k] = true
			r.bodyKey = append(r.bodyKey, p.BodyHash)
			r.bodyText = append(r.bodyText, p.Body)
			var at *int32
			if p.DataAt >= 0 {
				n := int32(p.DataAt)
				at = &n
			}
			r.bodyDataAt = append(r.bodyDataAt, at)
		}
	} else if req, err = jsonText(a.RequestHeaders); err != nil {
		return false, err
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
	r.method = append(r.method, method)
	r.reqURL = append(r.reqURL, reqURL)
	r.reqBody = append(r.reqBody, reqBody)
	r.reqTruncated = append(r.reqTruncated, a.RequestBodyTruncated)
	r.shape = append(r.shape, p.Shape.Hash) // nil (NULL) when not packed
	r.signature = append(r.signature, p.Signature)
	r.bodyHash = append(r.bodyHash, p.BodyHash)
	var inline []byte
	if packed {
		inline = attemptpack.EncodeInline(a.DeliveryID, attemptpack.Inline{
			Started: a.StartedAt.UnixMicro(), LatencyNS: int64(a.Latency), Status: a.StatusCode, Error: a.Error,
			ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody, Truncated: a.RequestBodyTruncated,
			ShapeHash: p.Shape.Hash, Signature: p.Signature, BodyHash: p.BodyHash,
		})
	}
	r.inline = append(r.inline, inline)
	return packed, nil
}

// addNone appends an empty entry, for a completion without an attempt:
// sqlComplete zips the attempts' arrays with the completions'.
func (r *attemptRows) addNone() {
	r.id = append(r.id, "")
	r.deliveryID = append(r.deliveryID, "")
	r.number = append(r.number, 0)
	r.started = append(r.started, time.Time{})
	r.latency = append(r.latency, 0)
	r.reqHeaders = append(r.reqHeaders, "")
	r.status = append(r.status, 0)
	r.resHeaders = append(r.resHeaders, "")
	r.body = append(r.body, "")
	r.errs = append(r.errs, "")
	r.method = append(r.method, "")
	r.reqURL = append(r.reqURL, "")
	r.reqBody = append(r.reqBody, "")
	r.reqTruncated = append(r.reqTruncated, false)
	r.shape = append(r.shape, nil)
	r.signature = append(r.signature, "")
	r.bodyHash = append(r.bodyHash, nil)
	r.inline = append(r.inline, nil)
}

// args are sqlInsertAttempts' arguments.
func (r *attemptRows) args() []any {
	return []any{r.id, r.deliveryID, r.number, r.started, r.latency, r.reqHeaders, r.status, r.resHeaders,
		r.body, r.errs, r.method, r.reqURL, r.reqBody, r.reqTruncated, r.shape, r.signature, r.bodyHash}
}

// insertParts writes the shapes and bodies r refers to, its attempts being
// of the delivery of event seq (a test send).
func (r *attemptRows) insertParts(ctx context.Context, tx pgx.Tx, seq int64) error {
	if len(r.shapeHash) > 0 {
		if _, err := tx.Exec(ctx, insertShapesSQL(1), r.shapeHash, r.shapeMethod, r.shapeURL, r.shapeHeads); err != nil {
			return err
		}
	}
	if len(r.bodyKey) > 0 {
		_, err := tx.Exec(ctx, `INSERT INTO request_bodies (event_seq, hash, body, data_at)
			SELECT $1, b.hash, b.body, b.data_at FROM unnest($2::bytea[], $3::text[], $4::int[]) AS b(hash, body, data_at)
			ORDER BY b.hash
			ON CONFLICT DO NOTHING`, seq, r.bodyKey, r.bodyText, r.bodyDataAt)
		return err
	}
	return nil
}

// completionRows are completions as column arrays, with their attempts.
type completionRows struct {
	pos                       []int32
	id, token, state, lastErr []string
	setNext, made, first      []bool
	next, started, now        []time.Time
	status                    []int32
	att                       attemptRows
}

func (r *completionRows) args() []any {
	return []any{r.pos, r.id, r.token, r.state, r.setNext, r.next, r.made, r.started, r.status, r.lastErr, r.now,
		nonNil(r.att.pos), nonNil(r.att.id), nonNil(r.att.deliveryID), nonNil(r.att.number),
		nonNil(r.att.started), nonNil(r.att.latency), nonNil(r.att.reqHeaders), nonNil(r.att.status),
		nonNil(r.att.resHeaders), nonNil(r.att.body), nonNil(r.att.errs),
		nonNil(r.att.method), nonNil(r.att.reqURL), nonNil(r.att.reqBody), nonNil(r.att.reqTruncated),
		nonNil(r.att.shape), nonNil(r.att.signature), nonNil(r.att.bodyHash),
		nonNil(r.att.shapeHash), nonNil(r.att.shapeMethod), nonNil(r.att.shapeURL), nonNil(r.att.shapeHeads),
		nonNil(r.att.bodyKey), nonNil(r.att.bodyText), r.first, nonNil(r.att.bodyDataAt), nonNil(r.att.inline)}
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
		var first bool
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
			packed, err := r.att.add(&withID, c.EventData)
			if err != nil {
				return nil, wrap("complete deliveries", err)
			}
			// Kept on the delivery's row if it is the row's first attempt.
			first = packed && a.ID == "" && (a.Number == 0 || a.Number == 1)
		} else {
			r.att.addNone()
		}
		r.att.pos = append(r.att.pos, int32(i))
		r.pos = append(r.pos, int32(i))
		r.id = append(r.id, c.DeliveryID)
		r.token = append(r.token, c.LeaseToken)
		r.state = append(r.state, string(c.State))
		r.setNext = append(r.setNext, setNext)
		r.next = append(r.next, next)
		r.made = append(r.made, c.Attempt != nil)
		r.first = append(r.first, first)
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
	kept := make([]bool, len(cs)) // the attempt is kept on the delivery's row
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
				var k bool
				_, err := pgx.ForEachRow(rows, []any{&pos, &n, &hook, &k}, func() error {
					applied[pos], attempts[pos], webhook[pos], kept[pos] = true, n, hook, k
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
			if kept[i] {
				a.ID, a.Number = store.FirstAttemptID(c.DeliveryID), 1
				continue
			}
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
