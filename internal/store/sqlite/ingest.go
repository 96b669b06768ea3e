package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Ingest implements store.Store.
//
// Events get an id (when they have none) and ReceivedAt (when zero) here, on
// the caller's structs, before they are stored. Webhooks that no longer exist
// or are disabled when the transaction runs are skipped: the caller matched
// against a cached list, and the store is the only place where "a disabled
// webhook gets no deliveries" can be decided without a race. A delivery takes
// its webhook's project, so a platform webhook's log stays with the platform.
func (s *Store) Ingest(ctx context.Context, p store.IngestParams) (*store.IngestResult, error) {
	n := len(p.Items)
	res := &store.IngestResult{Items: make([]store.IngestItemResult, n)}
	if n == 0 {
		return res, nil
	}
	// JSON encoding is done before taking the write lock.
	bodies := make([]string, n)
	var hookIDs []string
	seenHook := map[string]bool{}
	for i, it := range p.Items {
		ev := it.Event
		if ev.ID == "" {
			ev.ID = s.ids.Next("evt")
		}
		if ev.ReceivedAt.IsZero() {
			ev.ReceivedAt = p.Now
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, wrap("ingest: encode event", err)
		}
		bodies[i] = string(b)
		res.Items[i].EventID = ev.ID
		for _, id := range it.WebhookIDs {
			if !seenHook[id] {
				seenHook[id] = true
				hookIDs = append(hookIDs, id)
			}
		}
	}
	now := toDB(p.Now)
	leaseUntil := toDB(p.Now.Add(p.LeaseFor))
	var names *interner
	err := s.write(ctx, func(tx *sql.Tx) error {
		enabled, err := s.webhooksEnabled(ctx, tx)
		if err != nil {
			return err
		}
		projectOf, err := s.liveWebhooks(ctx, tx, hookIDs)
		if err != nil {
			return err
		}
		seqs, err := s.insertEvents(ctx, tx, p.Items, bodies)
		if err != nil {
			return err
		}
		state := herald.StatePending
		if !enabled {
			state = herald.StateHeld
		}
		leaseLeft := 0
		if enabled {
			leaseLeft = p.LeaseLimit
		}
		names = s.interner(tx)
		ins := deliveryInserter{s: s, tx: tx, names: names, state: state, now: now, token: p.LeaseToken, until: leaseUntil}
		seen := map[string]bool{} // webhooks of the current item, against repeats
		for i, it := range p.Items {
			if seqs[i] == 0 {
				res.Items[i].Duplicate = true
				continue
			}
			ev := it.Event
			clear(seen)
			for _, hid := range it.WebhookIDs {
				live, ok := projectOf[hid]
				if !ok || seen[hid] {
					continue
				}
				seen[hid] = true
				d := &herald.Delivery{
					ID: s.ids.Next("dlv"), EventID: ev.ID, WebhookID: hid, Project: live.project,
					EventType: ev.Type, State: state, NextAttemptAt: p.Now, CreatedAt: p.Now, UpdatedAt: p.Now,
				}
				// Ordered deliveries wait for their turn in ClaimDeliveries.
				leased := leaseLeft > 0 && !live.ordered
				if leased {
					leaseLeft--
					res.Claimed = append(res.Claimed, &store.Claimed{Delivery: d, Event: ev, LeaseToken: p.LeaseToken})
				}
				if err := ins.add(ctx, seqs[i], d, live.hook, leased, live.ordered); err != nil {
					return err
				}
				res.Items[i].Deliveries++
			}
		}
		return ins.flush(ctx)
	})
	if err != nil {
		return nil, wrap("ingest", err)
	}
	names.committed()
	return res, nil
}

// liveWebhook is what ingest needs of a webhook that gets deliveries.
type liveWebhook struct {
	project string
	ordered bool
	hook    int64 // its number (hooks)
}

// liveWebhooks returns each webhook in ids that exists and is enabled.
func (s *Store) liveWebhooks(ctx context.Context, tx *sql.Tx, ids []string) (map[string]liveWebhook, error) {
	out := make(map[string]liveWebhook, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	st, err := s.prepared(ctx, tx, liveWebhooksSQL)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, jsonList(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var w liveWebhook
		if err := rows.Scan(&id, &w.project, &w.ordered, &w.hook); err != nil {
			return nil, err
		}
		out[id] = w
	}
	return out, rows.Err()
}

const liveWebhooksSQL = `SELECT w.id, w.project, w.ordered, h.hook FROM webhooks w JOIN hooks h ON h.webhook_id = w.id
	WHERE w.enabled AND w.id IN (SELECT value FROM json_each(?))`

// insertEvents stores the events that are new and returns, per item, the
// seq of the stored row, or 0 for a duplicate: already stored, or repeated
// earlier in this batch.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, items []store.IngestItem, bodies []string) ([]int64, error) {
	type key struct{ id, project string }
	seqs := make([]int64, len(items))
	first := make(map[key]int, len(items)) // key → index of its first item
	var todo []int
	for i, it := range items {
		k := key{it.Event.ID, it.Event.Project}
		if _, dup := first[k]; dup {
			continue
		}
		first[k] = i
		todo = append(todo, i)
	}
	for _, n := range chunks(len(todo)) {
		chunk := todo[:n]
		todo = todo[n:]
		args := make([]any, 0, 5*n)
		for _, i := range chunk {
			ev := items[i].Event
			args = append(args, ev.ID, ev.Project, ev.Type, toDB(ev.ReceivedAt), bodies[i])
		}
		st, err := s.prepared(ctx, tx, insertEventsSQL(n))
		if err != nil {
			return nil, err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var seq int64
			var k key
			if err := rows.Scan(&seq, &k.id, &k.project); err != nil {
				rows.Close()
				return nil, err
			}
			seqs[first[k]] = seq
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

// insertEventsSQL is the INSERT of n events. ON CONFLICT DO NOTHING returns
// only the rows it inserted: the others keep seq 0, which marks them
// duplicate.
func insertEventsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO events (id, project, type, received_at, body) VALUES `)
	values(&q, n, 5)
	q.WriteString(` ON CONFLICT (id, project) DO NOTHING RETURNING seq, id, project`)
	return q.String()
}

// deliveryInserter buffers new deliveries and writes them with multi-row
// INSERTs. Every value is a plain "?": modernc.org/sqlite looks up each
// parameter's name when binding, which is a linear scan over the numbered
// ("?NNN") ones, so sharing values through ?1..?4 made a 500-row statement
// quadratic (60% of ingest time). Repeating the values costs less.
type deliveryInserter struct {
	s     *Store
	tx    *sql.Tx
	names *interner
	state herald.State
	now   int64
	token string
	until int64
	args  []any
	rows  int
}

const newDeliveryColumns = 12

func (di *deliveryInserter) add(ctx context.Context, seq int64, d *herald.Delivery, hook int64, leased, ordered bool) error {
	token, until := sql.NullString{}, sql.NullInt64{}
	if leased {
		token, until = sql.NullString{String: di.token, Valid: true}, sql.NullInt64{Int64: di.until, Valid: true}
	}
	project, err := di.names.num(ctx, d.Project)
	if err != nil {
		return err
	}
	eventType, err := di.names.num(ctx, d.EventType)
	if err != nil {
		return err
	}
	di.args = append(di.args, dkey(d.ID), seq, hook, project, eventType, string(di.state), di.now, di.now, di.now,
		ordered, token, until)
	di.rows++
	if di.rows == chunkSizes[0] {
		return di.flush(ctx)
	}
	return nil
}

// flush writes the buffered rows in chunks of the prepared shapes.
func (di *deliveryInserter) flush(ctx context.Context) error {
	args := di.args
	for _, n := range chunks(di.rows) {
		st, err := di.s.prepared(ctx, di.tx, insertDeliveriesSQL(n))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:n*newDeliveryColumns]...); err != nil {
			return err
		}
		args = args[n*newDeliveryColumns:]
	}
	clear(di.args)
	di.args, di.rows = di.args[:0], 0
	return nil
}

// insertDeliveriesSQL is the INSERT of n new deliveries.
func insertDeliveriesSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO deliveries (id, event_seq, hook, project, event_type, state,
		next_attempt_at, created_at, updated_at, ordered, lease_token, lease_until) VALUES `)
	values(&q, n, newDeliveryColumns)
	return q.String()
}

// FindEvents implements store.Store.
func (s *Store) FindEvents(ctx context.Context, id string) ([]*herald.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT body FROM events WHERE id = ? ORDER BY project`, id)
	if err != nil {
		return nil, wrap("find events", err)
	}
	defer rows.Close()
	var out []*herald.Event
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, wrap("find events", err)
		}
		var ev herald.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, wrap("find events", err)
		}
		out = append(out, &ev)
	}
	return out, wrap("find events", rows.Err())
}

// RecordTest implements store.Store. The delivery is stored as given (in its
// final state, Test set) and is never claimed.
func (s *Store) RecordTest(ctx context.Context, ev *herald.Event, d *herald.Delivery, a *herald.Attempt) error {
	if ev.ID == "" {
		ev.ID = s.ids.Next("evt")
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = d.CreatedAt
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return wrap("record test", err)
	}
	if d.ID == "" {
		d.ID = s.ids.Next("dlv")
	}
	d.Test = true
	d.EventID = ev.ID
	var names *interner
	err = s.write(ctx, func(tx *sql.Tx) error {
		var seq int64
		err := tx.QueryRowContext(ctx, `INSERT INTO events (id, project, type, received_at, body) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id, project) DO UPDATE SET id = excluded.id RETURNING seq`,
			ev.ID, ev.Project, ev.Type, toDB(ev.ReceivedAt), string(body)).Scan(&seq)
		if err != nil {
			return err
		}
		hook, err := s.hooks.assign(ctx, tx, d.WebhookID)
		if err != nil {
			return err
		}
		names = s.interner(tx)
		project, err := names.num(ctx, d.Project)
		if err != nil {
			return err
		}
		eventType, err := names.num(ctx, d.EventType)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, event_seq, hook, project, event_type, state,
			attempts, next_attempt_at, last_attempt_at, last_status, last_error, test, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			dkey(d.ID), seq, hook, project, eventType, string(d.State), d.Attempts, toDB(d.NextAttemptAt),
			toDBNull(d.LastAttemptAt), d.LastStatus, d.LastError, toDB(d.CreatedAt), toDB(d.UpdatedAt)); err != nil {
			return err
		}
		if d.LastAttemptAt != nil {
			var st statusRows
			st.add(d.WebhookID, d.EventType, toDB(*d.LastAttemptAt), d.ID)
			if err := s.upsertStatus(ctx, tx, st); err != nil {
				return err
			}
		}
		if a == nil {
			return nil
		}
		if a.ID == "" {
			a.ID = s.ids.Next("att")
		}
		a.DeliveryID = d.ID
		if a.Number == 0 {
			a.Number = 1
		}
		r, err := newAttemptRow(a, ev.Data)
		if err != nil {
			return err
		}
		r.seq = seq
		if err := s.insertParts(ctx, tx, []attemptRow{r}); err != nil {
			return err
		}
		return s.insertAttempts(ctx, tx, []attemptRow{r})
	})
	if err == nil {
		names.committed()
	}
	return wrap("record test", err)
}
