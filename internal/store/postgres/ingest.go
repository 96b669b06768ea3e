package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Ingest implements store.Store in one transaction of four round trips
// (BEGIN; settings, webhooks and events pipelined in one batch; deliveries;
// COMMIT), whatever the batch size: rows go in as arrays, one parameter per
// column, through INSERT … SELECT FROM unnest(…).
//
// Events get an id (when they have none) and ReceivedAt (when zero) here, on
// the caller's structs, before they are stored. Webhooks that no longer exist
// or are disabled when the transaction runs are skipped: the caller matched
// against a cached list, and the store is the only place where "a disabled
// webhook gets no deliveries" can be decided without a race. The webhooks
// used are held FOR KEY SHARE until commit, which only a DELETE conflicts
// with: DeleteWebhook waits and then cancels what this ingest created. A
// delivery takes its webhook's project, so a platform webhook's log stays with
// the platform.
func (s *Store) Ingest(ctx context.Context, p store.IngestParams) (*store.IngestResult, error) {
	n := len(p.Items)
	res := &store.IngestResult{Items: make([]store.IngestItemResult, n)}
	if n == 0 {
		return res, nil
	}
	now := micro(p.Now)
	// Encoding is done before the transaction starts.
	ev := newEventRows(n)
	var hookIDs []string
	seenHook := map[string]bool{}
	type key struct{ id, project string }
	first := make(map[key]int, n) // (id, project) → index of its first item
	for i, it := range p.Items {
		e := it.Event
		if e.ID == "" {
			e.ID = s.ids.Next("evt")
		}
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = p.Now
		}
		res.Items[i].EventID = e.ID
		for _, id := range it.WebhookIDs {
			if !seenHook[id] {
				seenHook[id] = true
				hookIDs = append(hookIDs, id)
			}
		}
		k := key{e.ID, e.Project}
		if _, dup := first[k]; dup {
			continue
		}
		first[k] = i
		body, err := json.Marshal(e)
		if err != nil {
			return nil, wrap("ingest: encode event", err)
		}
		ev.add(e, string(body))
	}
	// Concurrent ingests of overlapping events then take the unique index's
	// locks in one order, and wait for each other instead of deadlocking.
	ev.sortByKey()
	slices.Sort(hookIDs)

	var claimed []*store.Claimed
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Every try starts from the inputs: the previous one was rolled back.
		for i := range res.Items {
			res.Items[i] = store.IngestItemResult{EventID: p.Items[i].Event.ID}
		}
		claimed = claimed[:0]

		b := &pgx.Batch{}
		var enabled bool
		b.Queue(lockSettings).QueryRow(func(row pgx.Row) error { return row.Scan(&enabled) })
		live := make(map[string]liveWebhook, len(hookIDs))
		b.Queue(`SELECT id, project, ordered FROM webhooks WHERE id = ANY($1) AND enabled ORDER BY id FOR KEY SHARE`,
			nonNil(hookIDs)).Query(func(rows pgx.Rows) error {
			var id string
			var w liveWebhook
			_, err := pgx.ForEachRow(rows, []any{&id, &w.project, &w.ordered}, func() error {
				live[id] = w
				return nil
			})
			return err
		})
		// ON CONFLICT DO NOTHING returns only the rows it inserted: the others
		// keep seq 0, which marks them duplicate.
		seqs := make([]int64, n)
		b.Queue(`INSERT INTO events (id, project, type, received_at, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
			ON CONFLICT (id, project) DO NOTHING
			RETURNING seq, id, project`,
			ev.id, ev.project, ev.typ, ev.received, ev.body).Query(func(rows pgx.Rows) error {
			var seq int64
			var k key
			_, err := pgx.ForEachRow(rows, []any{&seq, &k.id, &k.project}, func() error {
				seqs[first[k]] = seq
				return nil
			})
			return err
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}

		state := herald.StatePending
		if !enabled {
			state = herald.StateHeld
		}
		leaseLeft := 0
		if enabled && p.LeaseToken != "" {
			leaseLeft = p.LeaseLimit
		}
		var d deliveryRows
		seen := map[string]bool{}
		for i, it := range p.Items {
			if seqs[i] == 0 {
				res.Items[i].Duplicate = true
				continue
			}
			e := it.Event
			clear(seen)
			for _, hid := range it.WebhookIDs {
				w, ok := live[hid]
				if !ok || seen[hid] {
					continue
				}
				seen[hid] = true
				id := s.ids.Next("dlv")
				// Ordered deliveries wait for their turn in ClaimDeliveries.
				leased := leaseLeft > 0 && !w.ordered
				d.add(id, seqs[i], hid, w.project, e.Type, w.ordered, leased)
				res.Items[i].Deliveries++
				if leased {
					leaseLeft--
					claimed = append(claimed, &store.Claimed{
						Delivery: &herald.Delivery{
							ID: id, EventID: e.ID, WebhookID: hid, Project: w.project, EventType: e.Type,
							State: state, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
						},
						Event: e, LeaseToken: p.LeaseToken,
					})
				}
			}
		}
		if len(d.id) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO deliveries (id, event_seq, webhook_id, project, event_type, ordered,
				state, next_attempt_at, created_at, updated_at, lease_token, lease_until)
			SELECT u.id, u.seq, u.hook, u.project, u.type, u.ordered, $8, $9, $9, $9,
				CASE WHEN u.leased THEN $10 END,
				CASE WHEN u.leased THEN $11::timestamptz END
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[])
				AS u(id, seq, hook, project, type, ordered, leased)`,
			d.id, d.seq, d.hook, d.project, d.typ, d.ordered, d.leased, string(state), now,
			p.LeaseToken, now.Add(p.LeaseFor))
		return err
	})
	if err != nil {
		return nil, wrap("ingest", err)
	}
	if len(claimed) > 0 {
		res.Claimed = claimed
	}
	return res, nil
}

// eventRows are the new events of a batch, as column arrays.
type eventRows struct {
	id, project, typ, body []string
	received               []time.Time
}

func newEventRows(n int) *eventRows {
	return &eventRows{
		id: make([]string, 0, n), project: make([]string, 0, n), typ: make([]string, 0, n),
		body: make([]string, 0, n), received: make([]time.Time, 0, n),
	}
}

func (r *eventRows) add(e *herald.Event, body string) {
	r.id = append(r.id, e.ID)
	r.project = append(r.project, e.Project)
	r.typ = append(r.typ, e.Type)
	r.received = append(r.received, e.ReceivedAt)
	r.body = append(r.body, body)
}

// sortByKey orders the rows by (id, project), the unique index's order.
func (r *eventRows) sortByKey() {
	idx := make([]int, len(r.id))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(r.id[a], r.id[b]); c != 0 {
			return c
		}
		return strings.Compare(r.project[a], r.project[b])
	})
	out := eventRows{
		id: make([]string, len(idx)), project: make([]string, len(idx)), typ: make([]string, len(idx)),
		body: make([]string, len(idx)), received: make([]time.Time, len(idx)),
	}
	for to, from := range idx {
		out.id[to], out.project[to], out.typ[to] = r.id[from], r.project[from], r.typ[from]
		out.body[to], out.received[to] = r.body[from], r.received[from]
	}
	*r = out
}

// liveWebhook is what ingest needs of a webhook that gets deliveries.
type liveWebhook struct {
	project string
	ordered bool
}

// deliveryRows are new deliveries as column arrays.
type deliveryRows struct {
	id, hook, project, typ []string
	seq                    []int64
	ordered, leased        []bool
}

func (r *deliveryRows) add(id string, seq int64, hook, project, typ string, ordered, leased bool) {
	r.id = append(r.id, id)
	r.seq = append(r.seq, seq)
	r.hook = append(r.hook, hook)
	r.project = append(r.project, project)
	r.typ = append(r.typ, typ)
	r.ordered = append(r.ordered, ordered)
	r.leased = append(r.leased, leased)
}

// FindEvents implements store.Store.
func (s *Store) FindEvents(ctx context.Context, id string) ([]*herald.Event, error) {
	rows, err := s.db.Query(ctx, `SELECT body FROM events WHERE id = $1 ORDER BY project`, id)
	if err != nil {
		return nil, wrap("find events", err)
	}
	var out []*herald.Event
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
		ev := new(herald.Event)
		if err := json.Unmarshal(body, ev); err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	})
	return out, wrap("find events", err)
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
	var att *attemptRows
	if a != nil {
		if a.ID == "" {
			a.ID = s.ids.Next("att")
		}
		a.DeliveryID = d.ID
		if a.Number == 0 {
			a.Number = 1
		}
		att = &attemptRows{}
		if _, err := att.add(a, ev.Data); err != nil {
			return wrap("record test", err)
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// DO UPDATE rather than DO NOTHING so that RETURNING yields the seq
		// of an event already stored under this id.
		var seq int64
		err := tx.QueryRow(ctx, `INSERT INTO events (id, project, type, received_at, body) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id, project) DO UPDATE SET id = excluded.id RETURNING seq`,
			ev.ID, ev.Project, ev.Type, ev.ReceivedAt, string(body)).Scan(&seq)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (id, event_seq, webhook_id, project, event_type, state,
			attempts, next_attempt_at, last_attempt_at, last_status, last_error, test, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, true, $12, $13)`,
			d.ID, seq, d.WebhookID, d.Project, d.EventType, string(d.State), d.Attempts, d.NextAttemptAt,
			d.LastAttemptAt, d.LastStatus, d.LastError, d.CreatedAt, d.UpdatedAt); err != nil {
			return err
		}
		if d.LastAttemptAt != nil {
			if _, err := tx.Exec(ctx, sqlUpsertStatus, d.WebhookID, d.EventType, *d.LastAttemptAt, d.ID); err != nil {
				return err
			}
		}
		if att == nil {
			return nil
		}
		if err := att.insertParts(ctx, tx, seq); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlInsertAttempts, att.args()...)
		return err
	})
	return wrap("record test", err)
}

// sqlUpsertStatus records a delivery as its (webhook, event type)'s latest
// attempted one, unless a later one is there already.
const sqlUpsertStatus = `INSERT INTO delivery_status (webhook_id, event_type, last_attempt_at, delivery_id)
	VALUES ($1, $2, $3, $4)
	ON CONFLICT (webhook_id, event_type) DO UPDATE SET
		last_attempt_at = excluded.last_attempt_at, delivery_id = excluded.delivery_id
	WHERE (excluded.last_attempt_at, excluded.delivery_id) > (delivery_status.last_attempt_at, delivery_status.delivery_id)`
