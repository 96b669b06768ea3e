package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var ingestTests = map[string]func(t *testing.T, b *bundle){
	"StoresEventsAndDeliveries": func(t *testing.T, b *bundle) {
		w1, w2 := b.webhook("p"), b.webhook("p")
		e1, e2 := b.event("image.push", "p"), b.event("image.delete", "p")
		res, err := b.s.Ingest(b.ctx, store.IngestParams{
			Items: []store.IngestItem{
				{Event: e1, WebhookIDs: []string{w1.ID, w2.ID}},
				{Event: e2, WebhookIDs: nil},
			},
			Now: t0,
		})
		must.NoError(t, err)
		must.Equal(t, []store.IngestItemResult{
			{EventID: e1.ID, Deliveries: 2},
			{EventID: e2.ID, Deliveries: 0},
		}, res.Items)
		must.Empty(t, res.Claimed, "nothing is leased without LeaseLimit")

		for _, ev := range []*herald.Event{e1, e2} {
			got, err := b.s.FindEvents(b.ctx, ev.ID)
			must.NoError(t, err)
			must.Equal(t, []*herald.Event{ev}, got, "an event without deliveries is stored too")
		}
		got, err := b.s.FindEvents(b.ctx, "evt_missing")
		must.NoError(t, err)
		must.Empty(t, got)

		ds, next, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{})
		must.NoError(t, err)
		must.Empty(t, next)
		must.Len(t, ds, 2)
		hooks := map[string]bool{}
		for _, d := range ds {
			hooks[d.WebhookID] = true
			must.NotEmpty(t, d.ID)
			must.Equal(t, e1.ID, d.EventID)
			must.Equal(t, "p", d.Project)
			must.Equal(t, "image.push", d.EventType)
			must.Equal(t, herald.StatePending, d.State)
			must.Zero(t, d.Attempts)
			must.Nil(t, d.LastAttemptAt)
			must.False(t, d.Test)
			requireTime(t, t0, d.NextAttemptAt, "due at once")
			requireTime(t, t0, d.CreatedAt)
			requireTime(t, t0, d.UpdatedAt)
			must.Equal(t, d, b.delivery(d.ID))
		}
		must.Equal(t, map[string]bool{w1.ID: true, w2.ID: true}, hooks)
	},

	// The same (project, id) is stored once; the same id in another project
	// is another event.
	"Idempotent": func(t *testing.T, b *bundle) {
		w := b.webhook("")
		ev := b.event("image.push", "p1")
		res := b.ingest(t0, []string{w.ID}, ev)
		must.Equal(t, store.IngestItemResult{EventID: ev.ID, Deliveries: 1}, res.Items[0])

		again := *ev
		again.Message = "changed"
		res = b.ingest(at(time.Second), []string{w.ID}, &again)
		must.Equal(t, store.IngestItemResult{EventID: ev.ID, Duplicate: true}, res.Items[0])

		other := *ev
		other.Project = "p2"
		res = b.ingest(at(2*time.Second), []string{w.ID}, &other)
		must.Equal(t, store.IngestItemResult{EventID: ev.ID, Deliveries: 1}, res.Items[0])

		got, err := b.s.FindEvents(b.ctx, ev.ID)
		must.NoError(t, err)
		must.Len(t, got, 2)
		byProject := map[string]*herald.Event{got[0].Project: got[0], got[1].Project: got[1]}
		must.Equal(t, "image pushed", byProject["p1"].Message, "the first copy is kept")
		must.Equal(t, &other, byProject["p2"])
		must.Equal(t, 2, b.count(herald.StatePending))
	},

	"DuplicateInBatch": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		ev := b.event("image.push", "p")
		twin := *ev
		res, err := b.s.Ingest(b.ctx, store.IngestParams{
			Items: []store.IngestItem{
				{Event: ev, WebhookIDs: []string{w.ID}},
				{Event: &twin, WebhookIDs: []string{w.ID}},
			},
			Now: t0,
		})
		must.NoError(t, err)
		must.Equal(t, []store.IngestItemResult{
			{EventID: ev.ID, Deliveries: 1},
			{EventID: ev.ID, Duplicate: true},
		}, res.Items)
		must.Equal(t, 1, b.count(herald.StatePending))
	},

	"AssignsID": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		ev := b.event("image.push", "p")
		ev.ID = ""
		res := b.ingest(t0, []string{w.ID}, ev)
		id := res.Items[0].EventID
		must.NotEmpty(t, id)
		got, err := b.s.FindEvents(b.ctx, id)
		must.NoError(t, err)
		must.Len(t, got, 1)
		must.Equal(t, "image.push", got[0].Type)
	},

	// A webhook ID that is repeated, unknown, deleted or disabled by the
	// time the transaction runs gets no delivery.
	"SkipsDisabledAndDeleted": func(t *testing.T, b *bundle) {
		live, off, gone := b.webhook("p"), b.webhook("p"), b.webhook("p")
		must.NoError(t, b.s.DisableWebhook(b.ctx, off.ID, "", t0))
		must.NoError(t, b.s.DeleteWebhook(b.ctx, gone.ID, t0))
		res := b.ingest(t0, []string{live.ID, off.ID, gone.ID, "wh_unknown", live.ID}, b.event("image.push", "p"))
		must.Equal(t, 1, res.Items[0].Deliveries)
		ds, _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{})
		must.NoError(t, err)
		must.Len(t, ds, 1)
		must.Equal(t, live.ID, ds[0].WebhookID)
	},

	// A delivery belongs to its webhook's project: a platform webhook's
	// deliveries are the platform's, whatever the event's project.
	"DeliveryProjectIsWebhookProject": func(t *testing.T, b *bundle) {
		platform, project := b.webhook(""), b.webhook("p")
		b.ingest(t0, []string{platform.ID, project.ID}, b.event("image.push", "p"))
		for _, want := range []*herald.Webhook{platform, project} {
			ds, _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{WebhookID: want.ID})
			must.NoError(t, err)
			must.Len(t, ds, 1)
			must.Equal(t, want.Project, ds[0].Project)
		}
	},

	// LeaseLimit leases that many new deliveries to the caller in the same
	// transaction; they are not claimable until the lease expires.
	"Lease": func(t *testing.T, b *bundle) {
		w1, w2, w3 := b.webhook("p"), b.webhook("p"), b.webhook("p")
		hooks := []string{w1.ID, w2.ID, w3.ID}
		e1, e2 := b.event("image.push", "p"), b.event("image.push", "p")
		dup := b.event("image.push", "p")
		b.ingest(at(-time.Hour), hooks, dup)
		res, err := b.s.Ingest(b.ctx, store.IngestParams{
			Items: []store.IngestItem{
				{Event: dup, WebhookIDs: hooks},
				{Event: e1, WebhookIDs: hooks},
				{Event: e2, WebhookIDs: hooks},
			},
			Now: t0, LeaseToken: "T", LeaseFor: time.Minute, LeaseLimit: 4,
		})
		must.NoError(t, err)
		must.Len(t, res.Claimed, 4)
		leased := map[string]bool{}
		for _, c := range res.Claimed {
			leased[c.Delivery.ID] = true
			must.Equal(t, "T", c.LeaseToken)
			must.Zero(t, c.RoundStart)
			must.Contains(t, []string{e1.ID, e2.ID}, c.Event.ID, "a duplicate is never leased")
			must.Equal(t, c.Event.ID, c.Delivery.EventID)
			must.Equal(t, herald.StatePending, c.Delivery.State)
			must.Zero(t, c.Delivery.Attempts)
			requireTime(t, t0, c.Delivery.NextAttemptAt)
			must.Equal(t, c.Delivery, b.delivery(c.Delivery.ID))
		}
		var ev *herald.Event
		for _, c := range res.Claimed {
			if c.Event.ID == e1.ID {
				ev = c.Event
			}
		}
		must.Equal(t, e1, ev)

		// dup's 3 deliveries from an hour ago and the 2 unleased new ones.
		rest := b.claim(t0, 10, "C", time.Hour)
		must.Len(t, rest, 5)
		for _, c := range rest {
			must.False(t, leased[c.Delivery.ID])
		}
		must.Empty(t, b.claim(at(59*time.Second), 10, "C2", time.Minute))
		must.Len(t, b.claim(at(61*time.Second), 10, "C3", time.Minute), 4, "the ingest lease expires like any other")

		applied := b.complete(done(res.Claimed[0], herald.StateSucceeded, 200, at(time.Second), time.Time{}))
		must.Equal(t, []bool{false}, applied, "the ingest lease was lost to C3")
	},

	// Nothing of a failed Ingest is stored.
	"CancelledStoresNothing": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()
		ev := b.event("image.push", "p")
		_, err := b.s.Ingest(ctx, store.IngestParams{
			Items: []store.IngestItem{{Event: ev, WebhookIDs: []string{w.ID}}}, Now: t0,
		})
		must.Error(t, err)
		got, err := b.s.FindEvents(b.ctx, ev.ID)
		must.NoError(t, err)
		must.Empty(t, got)
		must.Zero(t, b.count(herald.StatePending))
	},

	"Empty": func(t *testing.T, b *bundle) {
		res, err := b.s.Ingest(b.ctx, store.IngestParams{Now: t0, LeaseToken: "T", LeaseFor: time.Minute, LeaseLimit: 10})
		must.NoError(t, err)
		must.Empty(t, res.Items)
		must.Empty(t, res.Claimed)
	},
}

var claimTests = map[string]func(t *testing.T, b *bundle){
	// A row claimed again after its lease ran out says so; a first claim,
	// a row released by its holder and a finished retry do not.
	"LeaseExpired": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("x", "p"))
		first := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, first, 2)
		for _, c := range first {
			must.False(t, c.LeaseExpired, "a first claim")
		}
		// The second row's holder gives it back (a release: no attempt).
		must.Equal(t, []bool{true}, b.complete(store.Completion{
			DeliveryID: first[1].Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
			State: herald.StatePending, NextAttemptAt: at(2 * time.Minute), Now: at(time.Second),
		}))
		again := b.claim(at(2*time.Minute), 10, "B", time.Minute)
		must.Len(t, again, 2)
		expired := map[string]bool{}
		for _, c := range again {
			expired[c.Delivery.ID] = c.LeaseExpired
		}
		must.True(t, expired[first[0].Delivery.ID], "its lease ran out without a result")
		must.False(t, expired[first[1].Delivery.ID], "released by its holder")
		lease := b.claim(at(2*time.Minute), 10, "C", time.Minute)
		must.Empty(t, lease, "both are leased again")
	},
	// A claimed delivery carries its event and lease; due time is honoured.
	"CarriesEvent": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		ev := b.event("image.push", "p")
		b.ingest(t0, []string{w.ID}, ev)
		must.Empty(t, b.claim(at(-time.Millisecond), 10, "A", time.Minute), "not due yet")
		c := b.claimOne(t0, "A", time.Minute)
		must.Equal(t, ev, c.Event)
		must.Equal(t, w.ID, c.Delivery.WebhookID)
		must.Equal(t, herald.StatePending, c.Delivery.State)
		must.Zero(t, c.RoundStart)
		must.Zero(t, c.Delivery.Attempts)
	},

	"NextAttemptAt": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "A", time.Minute)
		b.complete(done(c, herald.StateRetrying, 503, at(time.Second), at(5*time.Minute)))
		must.Empty(t, b.claim(at(5*time.Minute-time.Millisecond), 10, "B", time.Minute))
		c = b.claimOne(at(5*time.Minute), "B", time.Minute)
		must.Equal(t, herald.StateRetrying, c.Delivery.State)
		must.Equal(t, 1, c.Delivery.Attempts)
		requireTime(t, at(5*time.Minute), c.Delivery.NextAttemptAt)
	},

	// Oldest due first, at most Limit.
	"OrderAndLimit": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		// Ingested in reverse due order.
		b.ingest(at(3*time.Second), []string{w.ID}, b.event("c", "p"))
		b.ingest(at(2*time.Second), []string{w.ID}, b.event("b", "p"))
		b.ingest(at(1*time.Second), []string{w.ID}, b.event("a", "p"))
		cs := b.claim(at(time.Minute), 2, "A", time.Minute)
		must.Len(t, cs, 2)
		must.Equal(t, "a", cs[0].Event.Type)
		must.Equal(t, "b", cs[1].Event.Type)
		cs = b.claim(at(time.Minute), 2, "B", time.Minute)
		must.Len(t, cs, 1)
		must.Equal(t, "c", cs[0].Event.Type)
		must.Empty(t, b.claim(at(time.Minute), 2, "C", time.Minute))
		must.Empty(t, b.claim(at(time.Minute), 0, "D", time.Minute), "limit 0 claims nothing")
	},

	// Deliveries due at the same time come in creation order, so an ordered
	// webhook sees its events in the order they were ingested.
	"CreationOrderWithinDueTime": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		var evs []*herald.Event
		for range 20 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID}, evs[:10]...)
		b.ingest(t0, []string{w.ID}, evs[10:]...)
		cs := b.claim(t0, 100, "A", time.Minute)
		must.Len(t, cs, 20)
		for i, c := range cs {
			must.Equal(t, evs[i].ID, c.Event.ID, "position %d", i)
		}
	},

	// A live lease keeps a row from being claimed; an expired one does not.
	"LeaseExpiry": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		first := b.claimOne(t0, "A", 30*time.Second)
		must.Empty(t, b.claim(at(29*time.Second), 10, "B", time.Minute))
		second := b.claimOne(at(31*time.Second), "B", time.Minute)
		must.Equal(t, first.Delivery.ID, second.Delivery.ID)
		must.Equal(t, "B", second.LeaseToken)
		must.Empty(t, b.claim(at(90*time.Second-time.Millisecond), 10, "C", time.Minute))
	},

	"ExcludeWebhooks": func(t *testing.T, b *bundle) {
		w1, w2, w3 := b.webhook("p"), b.webhook("p"), b.webhook("p")
		b.ingest(t0, []string{w1.ID, w2.ID, w3.ID}, b.event("x", "p"), b.event("y", "p"))
		cs := b.claim(t0, 10, "A", time.Minute, w1.ID, w3.ID)
		must.Len(t, cs, 2)
		for _, c := range cs {
			must.Equal(t, w2.ID, c.Delivery.WebhookID)
		}
		cs = b.claim(t0, 10, "B", time.Minute, w2.ID)
		must.Len(t, cs, 4)
	},

	// ExtendLeases moves lease_until only for rows still held with token.
	"ExtendLeases": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"))
		cs := b.claim(t0, 10, "A", 10*time.Second)
		must.Len(t, cs, 2)
		must.NoError(t, b.s.ExtendLeases(b.ctx, "A", []string{cs[0].Delivery.ID}, at(time.Minute)))
		must.NoError(t, b.s.ExtendLeases(b.ctx, "other", []string{cs[1].Delivery.ID}, at(time.Hour)))
		must.NoError(t, b.s.ExtendLeases(b.ctx, "A", nil, at(time.Hour)))

		got := b.claim(at(11*time.Second), 10, "B", time.Minute)
		must.Equal(t, []string{cs[1].Delivery.ID}, ids(got), "a foreign token extends nothing")
		got = b.claim(at(61*time.Second), 10, "C", time.Minute)
		must.Equal(t, []string{cs[0].Delivery.ID}, ids(got))

		// A lease lost to another claim cannot be extended back.
		must.NoError(t, b.s.ExtendLeases(b.ctx, "A", []string{cs[0].Delivery.ID}, at(time.Hour)))
		must.Equal(t, []bool{false}, b.complete(done(cs[0], herald.StateSucceeded, 200, at(62*time.Second), time.Time{})))
	},

	"NextDue": func(t *testing.T, b *bundle) {
		next := func() (time.Time, bool) {
			t.Helper()
			tm, ok, err := b.s.NextDue(b.ctx)
			must.NoError(t, err)
			return tm, ok
		}
		_, ok := next()
		must.False(t, ok, "nothing stored")

		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		tm, ok := next()
		must.True(t, ok)
		requireTime(t, t0, tm)

		c := b.claimOne(t0, "A", time.Minute)
		tm, ok = next()
		must.True(t, ok)
		requireTime(t, at(time.Minute), tm, "a leased row is due when its lease ends")

		b.complete(done(c, herald.StateRetrying, 500, at(time.Second), at(5*time.Minute)))
		tm, ok = next()
		must.True(t, ok)
		requireTime(t, at(5*time.Minute), tm)

		b.ingest(at(2*time.Minute), []string{w.ID}, b.event("y", "p"))
		tm, ok = next()
		must.True(t, ok)
		requireTime(t, at(2*time.Minute), tm, "the earliest wins")

		c = b.claimOne(at(2*time.Minute), "B", time.Minute)
		b.complete(done(c, herald.StateSucceeded, 200, at(2*time.Minute), time.Time{}))
		tm, ok = next()
		must.True(t, ok)
		requireTime(t, at(5*time.Minute), tm, "finished rows are not due")

		b.settings(false, at(3*time.Minute))
		_, ok = next()
		must.False(t, ok, "nothing is due while the switch is off")
	},
}
