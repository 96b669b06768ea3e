package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// completion is a store.Completion in column form, computed before the write
// lock is taken.
type completion struct {
	state   herald.State
	next    sql.NullInt64 // NULL: keep next_attempt_at (final states)
	made    bool          // an attempt was made
	started int64
	status  int
	lastErr string
	now     int64
	// first: the attempt may be kept on the delivery's row, which happens
	// when the row had no attempt before (see migration 0014).
	first bool
}

// attemptRow is an attempt ready to insert, its headers encoded and its
// request packed (attemptpack) unless it recorded none.
type attemptRow struct {
	a      *herald.Attempt
	req    string
	packed bool
	p      attemptpack.Packed
	seq    int64 // the delivery's event, which keeps the body
}

// inline is r's attempt as kept on its delivery's row (started: its start
// in µs).
func (r *attemptRow) inline(started int64) []byte {
	a := r.a
	return attemptpack.EncodeInline(a.DeliveryID, attemptpack.Inline{
		Started: started, LatencyNS: int64(a.Latency), Status: a.StatusCode, Error: a.Error,
		ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody, Truncated: a.RequestBodyTruncated,
		ShapeHash: r.p.Shape.Hash, Signature: r.p.Signature, BodyHash: r.p.BodyHash,
	})
}

func newAttemptRow(a *herald.Attempt, eventData []byte) (attemptRow, error) {
	r := attemptRow{a: a}
	var err error
	if r.p, r.packed, err = attemptpack.Pack(a); err != nil {
		return attemptRow{}, err
	}
	r.p.CutData(eventData)
	if !r.packed {
		req, err := json.Marshal(a.RequestHeaders)
		if err != nil {
			return attemptRow{}, err
		}
		r.req = string(req)
	}
	return r, nil
}

// CompleteDeliveries implements store.Store. The batch is written with one
// UPDATE … FROM (VALUES …) per chunk and multi-row INSERTs for the attempts,
// rather than two statements per completion: per-statement overhead in
// database/sql and the driver was half the cost of a completion.
//
// A delivery may appear twice in one batch (a release and a late result,
// say). Completions are applied in rounds: the first completion of each
// delivery, then the second, and so on, which is the same as applying them
// one by one in order, since distinct deliveries do not interact. Attempts
// of completions that do not apply are dropped: the newer lease holder's
// result stands.
func (s *Store) CompleteDeliveries(ctx context.Context, cs []store.Completion) ([]bool, error) {
	rows := make([]completion, len(cs))
	atts := make([]attemptRow, len(cs))
	var rounds [][]int
	seen := make(map[string]int, len(cs))
	for i, c := range cs {
		if !herald.ValidState(c.State) {
			return nil, fmt.Errorf("sqlite: complete delivery %s: invalid state %q", c.DeliveryID, c.State)
		}
		r := completion{state: c.State, lastErr: c.Error, now: toDB(c.Now)}
		if c.State == herald.StatePending || c.State == herald.StateRetrying {
			at := c.NextAttemptAt
			if at.IsZero() {
				at = c.Now
			}
			r.next = sql.NullInt64{Int64: toDB(at), Valid: true}
		}
		if a := c.Attempt; a != nil {
			if a.StartedAt.IsZero() {
				a.StartedAt = c.Now
			}
			a.DeliveryID = c.DeliveryID
			r.made, r.started, r.status = true, toDB(a.StartedAt), a.StatusCode
			if a.Error != "" {
				r.lastErr = a.Error
			}
			var err error
			if atts[i], err = newAttemptRow(a, c.EventData); err != nil {
				return nil, wrap("complete deliveries", err)
			}
			r.first = atts[i].packed && a.ID == "" && (a.Number == 0 || a.Number == 1)
		}
		rows[i] = r
		n := seen[c.DeliveryID]
		seen[c.DeliveryID] = n + 1
		if n == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[n] = append(rounds[n], i)
	}
	applied := make([]bool, len(cs))
	if len(cs) == 0 {
		return applied, nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		on, err := s.webhooksEnabled(ctx, tx)
		if err != nil {
			return err
		}
		// Of each applied completion: the row's new attempt count, webhook,
		// event and event type.
		res := make([]applied1, len(cs))
		for _, round := range rounds {
			for _, n := range chunks(len(round)) {
				chunk := round[:n]
				round = round[n:]
				if err := s.completeChunkTx(ctx, tx, on, cs, rows, atts, chunk, applied, res); err != nil {
					return err
				}
			}
		}
		var parts, ins []attemptRow
		var status statusRows
		var counts minuteCounts
		for i, c := range cs {
			if applied[i] {
				counts.add(res[i].hook, c.State, rows[i].now)
			}
		}
		if err := s.upsertCounts(ctx, tx, counts); err != nil {
			return err
		}
		hooks := map[string]*health{}
		var order []string
		for i, c := range cs {
			if !applied[i] || c.Attempt == nil {
				continue
			}
			a := c.Attempt
			webhook := res[i].webhook
			if rows[i].first && res[i].attempts == 1 {
				// Kept on the delivery's row by the UPDATE.
				a.ID, a.Number = store.FirstAttemptID(c.DeliveryID), 1
			} else {
				if a.ID == "" {
					a.ID = s.ids.Next("att")
				}
				if a.Number == 0 {
					a.Number = res[i].attempts
				}
				ins = append(ins, atts[i])
			}
			atts[i].seq = res[i].seq
			parts = append(parts, atts[i])
			status.add(webhook, res[i].eventType, rows[i].started, c.DeliveryID)
			h := hooks[webhook]
			if h == nil {
				h = &health{}
				hooks[webhook] = h
				order = append(order, webhook)
			}
			if c.State == herald.StateSucceeded {
				h.succeeded, h.failedAt = true, nil
			} else if h.failedAt == nil {
				h.failedAt = &a.StartedAt
			}
		}
		if err := s.insertParts(ctx, tx, parts); err != nil {
			return err
		}
		if err := s.insertAttempts(ctx, tx, ins); err != nil {
			return err
		}
		if err := s.upsertStatus(ctx, tx, status); err != nil {
			return err
		}
		return s.updateHealth(ctx, tx, order, hooks)
	})
	if err != nil {
		return nil, wrap("complete deliveries", err)
	}
	return applied, nil
}

// applied1 is what the UPDATE returns of one applied completion.
type applied1 struct {
	attempts  int
	hook      int64
	webhook   string
	seq       int64
	eventType string
}

// completeChunkTx applies the completions chunk (indexes into cs, distinct
// deliveries) in one statement, fenced on the lease token, and records which
// applied. A pending or retrying result becomes held while the switch is off.
func (s *Store) completeChunkTx(ctx context.Context, tx *sql.Tx, on bool, cs []store.Completion, rows []completion,
	atts []attemptRow, chunk []int, applied []bool, out []applied1) error {
	args := make([]any, 0, completeColumns*len(chunk))
	for _, i := range chunk {
		r := rows[i]
		state := r.state
		if !on && (state == herald.StatePending || state == herald.StateRetrying) {
			state = herald.StateHeld
		}
		args = append(args, dkey(cs[i].DeliveryID), cs[i].LeaseToken, string(state), r.next, r.made, r.started,
			r.status, r.lastErr, r.now)
		if !r.first {
			args = append(args, nil)
			continue
		}
		args = append(args, atts[i].inline(r.started))
	}
	st, err := s.prepared(ctx, tx, completeSQL(len(chunk)))
	if err != nil {
		return err
	}
	res, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer res.Close()
	at := make(map[string]int, len(chunk))
	for k, i := range chunk {
		at[cs[i].DeliveryID] = k
	}
	for res.Next() {
		var id string
		var a applied1
		var eventType int64
		if err := res.Scan(did(&id), &a.attempts, &a.hook, &a.seq, &eventType); err != nil {
			return err
		}
		var err error
		if a.webhook, err = s.hooks.textOf(ctx, tx, a.hook); err != nil {
			return err
		}
		if a.eventType, err = s.names.textOf(ctx, tx, eventType); err != nil {
			return err
		}
		k, ok := at[id]
		if !ok {
			return fmt.Errorf("update returned delivery %s that was not in the batch", id)
		}
		i := chunk[k]
		applied[i], out[i] = true, a
	}
	return res.Err()
}

// completeColumns is the number of parameters per completion of completeSQL.
const completeColumns = 10

// completeSQL is the UPDATE of n completions: per row, ?1 id, ?2 lease
// token, ?3 state, ?4 next_attempt_at (NULL keeps it), ?5 1 if an attempt
// was made, ?6 its start, ?7 its status, ?8 last_error, ?9 now, then ?10 the
// attempt to keep on the row if it is the row's first (attemptpack's Inline;
// NULL: not one to keep there). The VALUES rows drive the join: one
// primary-key seek each. RETURNING gives the new attempt count, so the
// caller knows whether the attempt was kept on the row (count 1, ?10 set).
func completeSQL(n int) string {
	var q strings.Builder
	q.WriteString(`UPDATE deliveries SET
		state = c.column3,
		next_attempt_at = coalesce(c.column4, deliveries.next_attempt_at),
		attempts = deliveries.attempts + c.column5,
		last_attempt_at = CASE WHEN c.column5 THEN c.column6 ELSE deliveries.last_attempt_at END,
		last_status = CASE WHEN c.column5 THEN c.column7 ELSE deliveries.last_status END,
		last_error = c.column8,
		lease_token = NULL, lease_until = NULL,
		updated_at = c.column9,
		first_attempt = CASE WHEN deliveries.attempts = 0 AND c.column10 IS NOT NULL
			THEN c.column10 ELSE deliveries.first_attempt END
		FROM (VALUES `)
	values(&q, n, completeColumns)
	q.WriteString(`) AS c
		WHERE deliveries.id = c.column1 AND deliveries.lease_token = c.column2
		RETURNING deliveries.id, deliveries.attempts, deliveries.hook, deliveries.event_seq, deliveries.event_type`)
	return q.String()
}

// insertAttempts writes attempts with multi-row INSERTs of the prepared
// shapes (plain "?" only; see deliveryInserter), and first the request
// shapes and bodies they refer to, each distinct one once (INSERT OR IGNORE:
// most are there already).
func (s *Store) insertAttempts(ctx context.Context, tx *sql.Tx, rows []attemptRow) error {
	for _, n := range chunks(len(rows)) {
		chunk := rows[:n]
		rows = rows[n:]
		args := make([]any, 0, attemptColumns*n)
		for _, r := range chunk {
			a := r.a
			res, err := json.Marshal(a.ResponseHeaders)
			if err != nil {
				return err
			}
			if r.packed {
				args = append(args, a.ID, dkey(a.DeliveryID), a.Number, toDB(a.StartedAt), int64(a.Latency), "",
					a.StatusCode, string(res), a.ResponseBody, a.Error,
					"", "", "", a.RequestBodyTruncated, r.p.Shape.Hash, r.p.Signature, r.p.BodyHash)
				continue
			}
			args = append(args, a.ID, dkey(a.DeliveryID), a.Number, toDB(a.StartedAt), int64(a.Latency), r.req,
				a.StatusCode, string(res), a.ResponseBody, a.Error,
				a.RequestMethod, a.RequestURL, a.RequestBody, a.RequestBodyTruncated, nil, "", nil)
		}
		st, err := s.prepared(ctx, tx, insertAttemptsSQL(n))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// insertParts writes the distinct request shapes and bodies of rows.
func (s *Store) insertParts(ctx context.Context, tx *sql.Tx, rows []attemptRow) error {
	type bodyKey struct {
		seq  int64
		hash string
	}
	var shapes, bodies []any
	seenShape := map[string]bool{}
	seenBody := map[bodyKey]bool{}
	for _, r := range rows {
		if !r.packed {
			continue
		}
		if h := string(r.p.Shape.Hash); !seenShape[h] {
			seenShape[h] = true
			sh := r.p.Shape
			shapes = append(shapes, sh.Hash, sh.Method, sh.URL, sh.Headers)
		}
		if r.p.BodyHash == nil {
			continue
		}
		if k := (bodyKey{r.seq, string(r.p.BodyHash)}); !seenBody[k] {
			seenBody[k] = true
			var at sql.NullInt64
			if r.p.DataAt >= 0 {
				at = sql.NullInt64{Int64: int64(r.p.DataAt), Valid: true}
			}
			bodies = append(bodies, r.seq, r.p.BodyHash, r.p.Body, at)
		}
	}
	if err := s.insertChunked(ctx, tx, shapes, 4, insertShapesSQL); err != nil {
		return err
	}
	return s.insertChunked(ctx, tx, bodies, 4, insertBodiesSQL)
}

// insertChunked runs the prepared INSERT shapes of sqlFor over args, k
// arguments per row.
func (s *Store) insertChunked(ctx context.Context, tx *sql.Tx, args []any, k int, sqlFor func(n int) string) error {
	for _, n := range chunks(len(args) / k) {
		st, err := s.prepared(ctx, tx, sqlFor(n))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:n*k]...); err != nil {
			return err
		}
		args = args[n*k:]
	}
	return nil
}

const attemptColumns = 17

// insertAttemptsSQL is the INSERT of n attempts.
func insertAttemptsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns, request_headers,
		status_code, response_headers, response_body, error,
		request_method, request_url, request_body, request_body_truncated,
		request_shape, request_signature, request_body_hash) VALUES `)
	values(&q, n, attemptColumns)
	return q.String()
}

func insertShapesSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT OR IGNORE INTO request_shapes (hash, method, url, headers) VALUES `)
	values(&q, n, 4)
	return q.String()
}

func insertBodiesSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT OR IGNORE INTO request_bodies (event_seq, hash, body, data_at) VALUES `)
	values(&q, n, 4)
	return q.String()
}

// values writes n rows of k plain parameters: (?,?),(?,?).
func values(q *strings.Builder, n, k int) {
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for j := range k {
			if j > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
		}
		q.WriteByte(')')
	}
}

// statusRows are the (webhook, event type) pairs of a batch with the latest
// attempted delivery of each, for delivery_status.
type statusRows struct {
	at    map[[2]string]int // index into args/4
	args  []any             // webhook, event type, last attempt, delivery, per pair
	order [][2]string
}

func (r *statusRows) add(webhook, eventType string, started int64, deliveryID string) {
	k := [2]string{webhook, eventType}
	if r.at == nil {
		r.at = map[[2]string]int{}
	}
	i, ok := r.at[k]
	if !ok {
		r.at[k] = len(r.args) / 4
		r.args = append(r.args, webhook, eventType, started, deliveryID)
		return
	}
	j := 4 * i
	if t := r.args[j+2].(int64); started > t || started == t && deliveryID > r.args[j+3].(string) {
		r.args[j+2], r.args[j+3] = started, deliveryID
	}
}

// upsertStatus records each pair's latest attempted delivery, unless the
// table has a later one already (a late result of an older attempt).
func (s *Store) upsertStatus(ctx context.Context, tx *sql.Tx, r statusRows) error {
	args := slices.Clone(r.args)
	for i := 3; i < len(args); i += 4 {
		args[i] = dkey(args[i].(string))
	}
	return s.insertChunked(ctx, tx, args, 4, upsertStatusSQL)
}

func upsertStatusSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO delivery_status (webhook_id, event_type, last_attempt_at, delivery_id) VALUES `)
	values(&q, n, 4)
	q.WriteString(` ON CONFLICT (webhook_id, event_type) DO UPDATE SET
		last_attempt_at = excluded.last_attempt_at, delivery_id = excluded.delivery_id
		WHERE (excluded.last_attempt_at, excluded.delivery_id) > (delivery_status.last_attempt_at, delivery_status.delivery_id)`)
	return q.String()
}

// health is what one batch of completions did to a webhook's FailingSince.
type health struct {
	succeeded bool       // some attempt succeeded
	failedAt  *time.Time // first failed attempt after the last success, if any
}

// updateHealth writes FailingSince: cleared by a success, set by a failed
// attempt when unset (or when this batch's success cleared it first). The
// conditions in WHERE make the no-change case write nothing.
func (s *Store) updateHealth(ctx context.Context, tx *sql.Tx, order []string, hooks map[string]*health) error {
	for _, id := range order {
		h := hooks[id]
		q, args := healthSQL[0], []any{id}
		switch {
		case h.failedAt == nil:
		case h.succeeded:
			q, args = healthSQL[1], []any{toDB(*h.failedAt), id}
		default:
			q, args = healthSQL[2], []any{toDB(*h.failedAt), id}
		}
		st, err := s.prepared(ctx, tx, q)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// healthSQL: a success cleared FailingSince; a failure after this batch's
// success set it; a failure set it when unset.
var healthSQL = [3]string{
	`UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`,
	`UPDATE webhooks SET failing_since = ? WHERE id = ?`,
	`UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL`,
}
