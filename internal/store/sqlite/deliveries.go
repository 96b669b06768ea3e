package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// ClaimDeliveries implements store.Store. deliveries_due is keyed by
// (webhook_id, due_at, id), so the claim works per webhook: a skip scan
// lists the webhooks with pending or retrying rows (one seek each), those
// not excluded give their share of Limit claimable rows, oldest due first
// (pickDue), and those are leased, in due order. Rows of
// an excluded webhook are never read, however many there are (a project at
// its share of the workers with a large backlog, say); a single index in due
// order would have to step over all of them on every claim. With one write
// connection no other claim can interleave, so no row is leased twice.
//
// The events are loaded after the commit; if that fails, the rows stay
// leased until their lease expires and are claimed again then.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Claimed, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	excluded := make(map[string]bool, len(p.ExcludeWebhooks))
	for _, id := range p.ExcludeWebhooks {
		excluded[id] = true
	}
	now, until := toDB(p.Now), toDB(p.Now.Add(p.LeaseFor))
	var out []*store.Claimed
	var seqs []int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		out, seqs = out[:0], seqs[:0]
		on, err := s.webhooksEnabled(ctx, tx)
		if err != nil || !on {
			return err
		}
		picked, err := s.pickDue(ctx, tx, excluded, now, p.Limit)
		if err != nil || len(picked) == 0 {
			return err
		}
		ids := make([]string, len(picked))
		rank := make(map[string]int, len(picked))
		for i, c := range picked {
			ids[i], rank[c.id] = c.id, i
		}
		st, err := s.prepared(ctx, tx, sqlLease)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, p.LeaseToken, until, keyList(ids))
		if err != nil {
			return err
		}
		defer rows.Close()
		out, seqs = make([]*store.Claimed, len(picked)), make([]int64, len(picked))
		n := 0
		for rows.Next() {
			var seq, leaseUntil, hook, project, eventType int64
			d, roundStart, err := scanDelivery(withExtra{rows, &leaseUntil}, &seq, &hook, &project, &eventType)
			if err != nil {
				return err
			}
			if d.WebhookID, err = s.hooks.textOf(ctx, tx, hook); err != nil {
				return err
			}
			if d.Project, err = s.names.textOf(ctx, tx, project); err != nil {
				return err
			}
			if d.EventType, err = s.names.textOf(ctx, tx, eventType); err != nil {
				return err
			}
			i, ok := rank[d.ID]
			if !ok || out[i] != nil {
				return fmt.Errorf("lease returned delivery %s that was not picked", d.ID)
			}
			out[i] = &store.Claimed{Delivery: d, LeaseToken: p.LeaseToken, RoundStart: roundStart,
				LeaseExpired: leaseUntil != until}
			seqs[i] = seq
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n != len(picked) {
			return fmt.Errorf("leased %d of the %d deliveries picked", n, len(picked))
		}
		return nil
	})
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Events never change once stored, so they are read after the commit,
	// from the read pool, without holding the write lock.
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		return nil, wrap("claim deliveries: load events", err)
	}
	if err := store.AttachEvents(out, seqs, events); err != nil {
		return nil, wrap("claim deliveries", err)
	}
	return out, nil
}

// dueRow is a claimable row ClaimDeliveries picked.
type dueRow struct {
	id  string
	due int64
}

// pickDue returns up to limit claimable rows due at now of the webhooks not
// excluded, in due order (ties in id order, which is creation order). Each
// webhook gives its share first (limit over the number of webhooks, rounded
// up), so one claim reads about limit rows however many webhooks there are;
// when that leaves room, the webhooks that had more give the rest, oldest
// due first. A webhook with an old backlog thus gets its share of each claim
// rather than all of it, beside the webhooks with fresh rows.
func (s *Store) pickDue(ctx context.Context, tx *sql.Tx, excluded map[string]bool, now int64, limit int) ([]dueRow, error) {
	hooks, err := s.dueHooks(ctx, tx)
	if err != nil {
		return nil, err
	}
	var keep []int64
	for _, h := range hooks {
		id, err := s.hooks.textOf(ctx, tx, h)
		if err != nil {
			return nil, err
		}
		if !excluded[id] {
			keep = append(keep, h)
		}
	}
	hooks = keep
	if len(hooks) == 0 {
		return nil, nil
	}
	st, err := s.prepared(ctx, tx, sqlDueOf)
	if err != nil {
		return nil, err
	}
	fetch := func(h int64, n int) ([]dueRow, error) {
		rows, err := st.QueryContext(ctx, h, now, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []dueRow
		for rows.Next() {
			var r dueRow
			if err := rows.Scan(did(&r.id), &r.due); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
	byDue := func(a, b dueRow) int { return cmp.Or(cmp.Compare(a.due, b.due), strings.Compare(a.id, b.id)) }
	share := (limit + len(hooks) - 1) / len(hooks)
	var picked []dueRow
	var more []int64 // webhooks that gave a full share
	for _, h := range hooks {
		rows, err := fetch(h, share)
		if err != nil {
			return nil, err
		}
		picked = append(picked, rows...)
		if len(rows) == share {
			more = append(more, h)
		}
	}
	if room := limit - len(picked); room > 0 && len(more) > 0 && share < limit {
		// The rest from those with more: up to room beyond their share each,
		// then the oldest due of all.
		seen := make(map[string]bool, len(picked))
		for _, r := range picked {
			seen[r.id] = true
		}
		for _, h := range more {
			rows, err := fetch(h, share+room)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if !seen[r.id] {
					picked = append(picked, r)
				}
			}
		}
	}
	slices.SortFunc(picked, byDue)
	return picked[:min(len(picked), limit)], nil
}

// dueHooks lists the webhooks (by number) that have pending or retrying rows.
func (s *Store) dueHooks(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	st, err := s.prepared(ctx, tx, sqlDueHooks)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hooks []int64
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		hooks = append(hooks, h)
	}
	return hooks, rows.Err()
}

// dueHooksCTE is a skip scan of deliveries_due: the webhooks with pending or
// retrying rows, one index seek each.
const dueHooksCTE = `WITH RECURSIVE due_hooks(w) AS (
		SELECT (SELECT min(hook) FROM deliveries INDEXED BY deliveries_due WHERE state IN ('pending', 'retrying'))
		UNION ALL
		SELECT (SELECT min(hook) FROM deliveries INDEXED BY deliveries_due
			WHERE state IN ('pending', 'retrying') AND hook > due_hooks.w)
		FROM due_hooks WHERE due_hooks.w IS NOT NULL)`

const sqlDueHooks = dueHooksCTE + ` SELECT w FROM due_hooks WHERE w IS NOT NULL`

// headRule: a row of an ordered webhook is claimable only while it is the
// oldest open ordered one of its webhook (deliveries_open), so one is in
// flight at a time, in event order. Deliveries made while the webhook was
// not ordered neither wait nor hold the others back.
const headRule = `(ordered = 0 OR id = (SELECT o.id FROM deliveries o INDEXED BY deliveries_open
		WHERE o.hook = deliveries.hook AND o.ordered = 1 AND o.state IN ('pending', 'retrying', 'held')
		ORDER BY o.id LIMIT 1))`

// sqlDueOf: up to ?3 claimable rows of webhook number ?1 due at ?2, oldest
// due first.
const sqlDueOf = `SELECT id, due_at FROM deliveries INDEXED BY deliveries_due
	WHERE hook = ?1 AND state IN ('pending', 'retrying') AND due_at <= ?2 AND ` + headRule + `
	ORDER BY due_at, id LIMIT ?3`

// sqlLease leases the rows picked (?3, a keyList) with token ?1
// until ?2. SET sees the row as it was, RETURNING as it is: a row that was
// still leased (its lease expired) gets one microsecond more, so RETURNING
// can tell it apart (Claimed.LeaseExpired).
var sqlLease = `UPDATE deliveries SET lease_token = ?1, lease_until = ?2 + (lease_token IS NOT NULL)
	WHERE id IN ` + keysOf("?3") + `
	RETURNING id, event_seq, hook, project, event_type, state, attempts, round_start,
		next_attempt_at, last_attempt_at, last_status, last_error, test, created_at, updated_at, lease_until`

// eventsBySeq loads events by seq. Deliveries of one event share one
// *herald.Event, which callers treat as read-only.
func (s *Store) eventsBySeq(ctx context.Context, seqs []int64) (map[int64]*herald.Event, error) {
	uniq := make([]int64, 0, len(seqs))
	seen := make(map[int64]bool, len(seqs))
	for _, q := range seqs {
		if !seen[q] {
			seen[q] = true
			uniq = append(uniq, q)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, body FROM events WHERE seq IN (SELECT value FROM json_each(?))`, jsonList(uniq))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*herald.Event, len(uniq))
	for rows.Next() {
		var seq int64
		var body []byte
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, err
		}
		ev := new(herald.Event)
		if err := json.Unmarshal(body, ev); err != nil {
			return nil, err
		}
		out[seq] = ev
	}
	return out, rows.Err()
}

// scanDelivery reads the columns of RETURNING in ClaimDeliveries; EventID is
// filled by the caller from seq.
// withExtra scans the columns of scanDelivery and then one more.
type withExtra struct {
	sc    interface{ Scan(...any) error }
	extra any
}

func (w withExtra) Scan(dest ...any) error { return w.sc.Scan(append(dest, w.extra)...) }

// scanDelivery leaves WebhookID, Project and EventType to the caller, which
// maps their numbers.
func scanDelivery(sc interface{ Scan(...any) error }, seq, hook, project, eventType *int64) (*herald.Delivery, int, error) {
	var d herald.Delivery
	var state string
	var roundStart int
	var next, created, updated int64
	var last sql.NullInt64
	err := sc.Scan(did(&d.ID), seq, hook, project, eventType, &state, &d.Attempts, &roundStart,
		&next, &last, &d.LastStatus, &d.LastError, &d.Test, &created, &updated)
	if err != nil {
		return nil, 0, err
	}
	d.State = herald.State(state)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromDB(next), fromDB(created), fromDB(updated)
	d.LastAttemptAt = fromDBNull(last)
	return &d, roundStart, nil
}

// ExtendLeases implements store.Store.
func (s *Store) ExtendLeases(ctx context.Context, token string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_until = ?
			WHERE lease_token = ? AND id IN `+keysOf("?")+``, toDB(until), token, keyList(ids))
		return err
	})
	return wrap("extend leases", err)
}

// sqlNextDue is the earliest due time of a claimable row: per webhook with
// pending or retrying rows, its first claimable row in deliveries_due.
const sqlNextDue = dueHooksCTE + ` SELECT
	(SELECT webhooks_enabled FROM settings WHERE id = 1),
	(SELECT min((SELECT due_at FROM deliveries INDEXED BY deliveries_due
		WHERE hook = due_hooks.w AND state IN ('pending', 'retrying') AND ` + headRule + `
		ORDER BY due_at, id LIMIT 1)) FROM due_hooks WHERE due_hooks.w IS NOT NULL)`

// NextDue implements store.Store: the head of the deliveries_due index. A
// live lease counts as due when it expires; the dispatcher only uses the
// answer to decide how long to sleep.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var on bool
	var due sql.NullInt64
	err := s.r.QueryRowContext(ctx, sqlNextDue).Scan(&on, &due)
	if err != nil {
		return time.Time{}, false, wrap("next due", err)
	}
	if !on || !due.Valid {
		return time.Time{}, false, nil
	}
	return fromDB(due.Int64), true, nil
}

// deliveryColumns are read by scanLogDelivery; the join supplies EventID.
// sqlWebhookOfD is the webhook ID of delivery d.
var sqlWebhookOfD = hooksTable.sqlTextOf("d.hook")

var deliveryColumns = `d.id, e.id, ` + sqlWebhookOfD + `, ` + namesTable.sqlTextOf("d.project") + `, ` + namesTable.sqlTextOf("d.event_type") + `, d.state, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.test, d.created_at, d.updated_at
	FROM deliveries d LEFT JOIN events e ON e.seq = d.event_seq`

func scanLogDelivery(sc interface{ Scan(...any) error }) (*herald.Delivery, error) {
	var d herald.Delivery
	var eventID sql.NullString
	var state string
	var next, created, updated int64
	var last sql.NullInt64
	if err := sc.Scan(did(&d.ID), &eventID, &d.WebhookID, &d.Project, &d.EventType, &state, &d.Attempts,
		&next, &last, &d.LastStatus, &d.LastError, &d.Test, &created, &updated); err != nil {
		return nil, err
	}
	d.EventID = eventID.String
	d.State = herald.State(state)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromDB(next), fromDB(created), fromDB(updated)
	d.LastAttemptAt = fromDBNull(last)
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
		if f.Oldest {
			where, args = append(where, `d.id > ?`), append(args, dkey(f.Cursor))
		} else {
			where, args = append(where, `d.id < ?`), append(args, dkey(f.Cursor))
		}
	}
	q := `SELECT ` + deliveryColumns
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Oldest {
		q += ` ORDER BY d.id LIMIT ?`
	} else {
		q += ` ORDER BY d.id DESC LIMIT ?`
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
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
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+` LIMIT ?)`, append(args, max+1)...).Scan(&n)
	if err != nil {
		return 0, false, wrap("count deliveries", err)
	}
	return min(n, max), n > max, nil
}

// deliveryWhere is the WHERE of the filter f without its cursor, over
// deliveries d joined with their events e.
func deliveryWhere(f store.DeliveryFilter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.WebhookID != "" {
		add(`d.hook = `+hooksTable.sqlNumOf("?"), f.WebhookID)
	}
	if f.Projects != nil {
		add(`d.project IN (SELECT n FROM names WHERE name IN (SELECT value FROM json_each(?)))`, jsonList(f.Projects))
	}
	if f.State != "" {
		add(`d.state = ?`, string(f.State))
		if store.StateIndexed(f.State) {
			where = append(where, `d.state IN `+store.IndexedStates) // deliveries_state's predicate
		}
	}
	if prefix, ok := strings.CutSuffix(f.EventType, "*"); ok {
		if prefix != "" {
			add(`d.event_type IN (SELECT n FROM names WHERE name LIKE ? ESCAPE '\')`, store.LikePrefix(prefix))
		}
	} else if f.EventType != "" {
		add(`d.event_type = `+namesTable.sqlNumOf("?"), f.EventType)
	}
	if f.ErrorContains != "" {
		add(`d.last_error LIKE ? ESCAPE '\'`, store.LikeContains(f.ErrorContains))
	}
	if f.EventID != "" {
		add(`d.event_seq IN (SELECT seq FROM events WHERE id = ?)`, f.EventID)
	}
	if !f.Since.IsZero() {
		add(`d.created_at >= ?`, toDB(f.Since))
	}
	if !f.Until.IsZero() {
		add(`d.created_at < ?`, toDB(f.Until))
	}
	if f.SubjectContains != "" {
		add(`json_extract(e.body, '$.subject') LIKE ? ESCAPE '\'`, store.LikeContains(f.SubjectContains))
	}
	return where, args
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, id string) (*herald.Delivery, error) {
	return s.getDelivery(ctx, s.r.QueryRowContext, id)
}

type queryRower func(ctx context.Context, query string, args ...any) *sql.Row

func (s *Store) getDelivery(ctx context.Context, q queryRower, id string) (*herald.Delivery, error) {
	d, err := scanLogDelivery(q(ctx, `SELECT `+deliveryColumns+` WHERE d.id = ?`, dkey(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFound("delivery")
	}
	return d, wrap("get delivery", err)
}

// ListAttempts implements store.Store: in the order they were made. The
// first attempt may be kept on the delivery's row (migration 0014); the
// others are rows of attempts. A packed attempt (request shape set) gets its
// request back from its shape and its event's body (and the event's data,
// when the body was kept without it); an older one has it inline.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string) ([]*herald.Attempt, error) {
	var out []*herald.Attempt
	var inline []byte
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT first_attempt, event_seq FROM deliveries WHERE id = ?`, dkey(deliveryID)).
		Scan(&inline, &seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("list attempts", err)
	}
	if inline != nil {
		a, err := s.inlineAttempt(ctx, deliveryID, seq, inline)
		if err != nil {
			return nil, wrap("list attempts", err)
		}
		out = append(out, a)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.delivery_id, a.number, a.started_at, a.latency_ns,
		a.request_headers, a.status_code, a.response_headers, a.response_body, a.error,
		a.request_method, a.request_url, a.request_body, a.request_body_truncated,
		a.request_shape IS NOT NULL, coalesce(sh.method, ''), coalesce(sh.url, ''), coalesce(sh.headers, ''),
		a.request_signature, a.request_body_hash, coalesce(b.body, ''), coalesce(b.data_at, -1), coalesce(e.body, '')
		FROM attempts a
		LEFT JOIN request_shapes sh ON sh.hash = a.request_shape
		LEFT JOIN request_bodies b ON a.request_body_hash IS NOT NULL
			AND b.event_seq = (SELECT event_seq FROM deliveries WHERE id = a.delivery_id) AND b.hash = a.request_body_hash
		LEFT JOIN events e ON b.data_at IS NOT NULL AND e.seq = b.event_seq
		WHERE a.delivery_id = ? ORDER BY a.started_at, a.rowid`, dkey(deliveryID))
	if err != nil {
		return nil, wrap("list attempts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a herald.Attempt
		var started, latency int64
		var req, resp, signature, body, event string
		var dataAt int
		var bodyHash []byte
		var packed bool
		var sh attemptpack.Shape
		if err := rows.Scan(&a.ID, did(&a.DeliveryID), &a.Number, &started, &latency, &req,
			&a.StatusCode, &resp, &a.ResponseBody, &a.Error,
			&a.RequestMethod, &a.RequestURL, &a.RequestBody, &a.RequestBodyTruncated,
			&packed, &sh.Method, &sh.URL, &sh.Headers, &signature, &bodyHash, &body, &dataAt, &event); err != nil {
			return nil, wrap("list attempts", err)
		}
		a.StartedAt = fromDB(started)
		a.Latency = herald.Duration(latency)
		if packed {
			err = unpackAttempt(&a, sh, signature, body, dataAt, event, bodyHash, resp)
		} else if err = json.Unmarshal([]byte(req), &a.RequestHeaders); err == nil {
			err = json.Unmarshal([]byte(resp), &a.ResponseHeaders)
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
			rows, err := s.r.QueryContext(ctx, `SELECT method, url, headers FROM request_shapes
				WHERE hash >= ?1 AND (?2 IS NULL OR hash < ?2) LIMIT 2`, lo, hi)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []attemptpack.Shape
			for rows.Next() {
				var sh attemptpack.Shape
				if err := rows.Scan(&sh.Method, &sh.URL, &sh.Headers); err != nil {
					return nil, err
				}
				out = append(out, sh)
			}
			return out, rows.Err()
		},
		Bodies: func(lo, hi []byte) ([]attemptpack.StoredBody, error) {
			rows, err := s.r.QueryContext(ctx, `SELECT b.hash, b.body, coalesce(b.data_at, -1), coalesce(e.body, '')
				FROM request_bodies b LEFT JOIN events e ON b.data_at IS NOT NULL AND e.seq = b.event_seq
				WHERE b.event_seq = ?1 AND b.hash >= ?2 AND (?3 IS NULL OR b.hash < ?3) LIMIT 2`, seq, lo, hi)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []attemptpack.StoredBody
			for rows.Next() {
				var sb attemptpack.StoredBody
				if err := rows.Scan(&sb.Hash, &sb.Body, &sb.DataAt, &sb.Event); err != nil {
					return nil, err
				}
				out = append(out, sb)
			}
			return out, rows.Err()
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
	return json.Unmarshal([]byte(resp), &a.ResponseHeaders)
}

// sqlRetry starts a fresh retry schedule for the rows its WHERE (appended by
// the caller) selects. ?1 is now, ?2 is 1 when the global switch is off: the
// row is then held, and released as pending or retrying when it comes on.
// The lease is cleared so a late result of an older claim is fenced off.
const sqlRetry = `UPDATE deliveries SET
	state = CASE WHEN ?2 THEN 'held' WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,
	round_start = attempts, next_attempt_at = ?1, updated_at = ?1,
	lease_token = NULL, lease_until = NULL `

// sqlRetryNow makes a retrying delivery due at ?1, its schedule unchanged.
const sqlRetryNow = `UPDATE deliveries SET next_attempt_at = ?1, updated_at = ?1 `

// errBeingSent refuses to retry a delivery whose attempt is in flight.
var errBeingSent = herald.Errorf(herald.EConflict, "delivery is being sent right now; wait for this attempt's result")

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) (*herald.Delivery, error) {
	var d *herald.Delivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = ?`, dkey(id)).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return herald.NotFound("delivery")
		}
		if err != nil {
			return err
		}
		if herald.State(state) == herald.StateRetrying {
			// Retry now: its next attempt is due at once, unless it is
			// being made right now (leased).
			res, err := tx.ExecContext(ctx, sqlRetryNow+`WHERE id = ?2 AND (lease_until IS NULL OR lease_until <= ?1)`, toDB(now), dkey(id))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return cmp.Or(err, error(errBeingSent))
			}
			d, err = s.getDelivery(ctx, tx.QueryRowContext, id)
			return err
		}
		if s := herald.State(state); s == herald.StatePending {
			return herald.Errorf(herald.EConflict, "delivery is already %s", s)
		}
		on, err := s.webhooksEnabled(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlRetry+`WHERE id = ?3`, toDB(now), !on, dkey(id)); err != nil {
			return err
		}
		d, err = s.getDelivery(ctx, tx.QueryRowContext, id)
		return err
	})
	if err != nil {
		return nil, wrap("retry delivery", err)
	}
	return d, nil
}

// RecoverFailed implements store.Store. A zero since recovers every failed
// delivery of the webhook.
func (s *Store) RecoverFailed(ctx context.Context, webhookID string, since, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		on, err := s.webhooksEnabled(ctx, tx)
		if err != nil {
			return err
		}
		q := sqlRetry + `WHERE hook = ` + hooksTable.sqlNumOf("?3") + ` AND state = 'failed' AND test = 0`
		args := []any{toDB(now), !on, webhookID}
		if !since.IsZero() {
			q += ` AND last_attempt_at >= ?4`
			args = append(args, toDB(since))
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
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
	rows, err := s.r.QueryContext(ctx, `SELECT st.event_type, d.last_attempt_at, d.state, d.last_status, d.last_error, d.id
		FROM delivery_status st JOIN deliveries d ON d.id = st.delivery_id
		WHERE st.webhook_id = ? AND d.last_attempt_at IS NOT NULL
		ORDER BY st.event_type`, webhookID)
	if err != nil {
		return nil, wrap("webhook status", err)
	}
	defer rows.Close()
	var out []herald.EventTypeStatus
	for rows.Next() {
		var st herald.EventTypeStatus
		var at int64
		if err := rows.Scan(&st.EventType, &at, &st.State, &st.StatusCode, &st.Error, did(&st.DeliveryID)); err != nil {
			return nil, wrap("webhook status", err)
		}
		st.LastAttemptAt = fromDB(at)
		out = append(out, st)
	}
	return out, wrap("webhook status", rows.Err())
}
