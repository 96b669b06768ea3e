package storetest

import (
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var orderedTests = map[string]func(t *testing.T, b *bundle){
	// A webhook made ordered later: the deliveries made before, unordered,
	// neither wait for the ordered ones nor hold them back; the ordered ones
	// go one at a time among themselves.
	"OrderedAfterUnordered": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		early := b.event("x", "p")
		b.ingest(t0, []string{w.ID}, early)
		inFlight := b.claimOne(t0, "A", time.Hour)
		must.Equal(t, early.ID, inFlight.Event.ID)

		w.Ordered = true
		must.NoError(t, b.s.UpdateWebhook(b.ctx, w))
		e1, e2 := b.event("x", "p"), b.event("x", "p")
		b.ingest(at(time.Second), []string{w.ID}, e1, e2)
		got := b.claim(at(2*time.Second), 100, "B", time.Minute)
		must.Len(t, got, 1, "the ordered head only, though an older unordered one is in flight")
		must.Equal(t, e1.ID, got[0].Event.ID)
		b.complete(done(got[0], herald.StateSucceeded, 200, at(2*time.Second), time.Time{}))
		got = b.claim(at(3*time.Second), 100, "C", time.Minute)
		must.Len(t, got, 1)
		must.Equal(t, e2.ID, got[0].Event.ID)
	},

	// Only the oldest open delivery of an ordered webhook is claimable, so one
	// is in flight at a time, in event order, whichever node claims.
	"OneAtATimeInOrder": func(t *testing.T, b *bundle) {
		w := b.webhook("p", func(w *herald.Webhook) { w.Ordered = true })
		free := b.webhook("p")
		var evs []*herald.Event
		for range 3 {
			evs = append(evs, b.event("x", "p"))
		}
		res := b.ingest(t0, []string{w.ID, free.ID}, evs...)
		must.Equal(t, 6, res.Items[0].Deliveries+res.Items[1].Deliveries+res.Items[2].Deliveries)

		first := b.claim(t0, 100, "A", 24*time.Hour)
		var mine []string
		for _, c := range first {
			if c.Delivery.WebhookID == w.ID {
				mine = append(mine, c.Delivery.ID)
				must.Equal(t, evs[0].ID, c.Event.ID, "the oldest event first")
			}
		}
		must.Len(t, first, 4, "3 unordered + the head of the ordered webhook")
		must.Len(t, mine, 1)
		must.Empty(t, b.claim(at(time.Second), 100, "B", time.Minute), "nothing else while the head is in flight")

		var head = first[0]
		for _, c := range first {
			if c.Delivery.ID == mine[0] {
				head = c
			}
		}
		// The head fails and is retried later: the next waits behind it.
		b.complete(done(head, herald.StateRetrying, 500, at(time.Second), at(time.Minute)))
		must.Empty(t, b.claim(at(2*time.Second), 100, "C", time.Minute), "head-of-line: the next waits for the retry")
		again := b.claimOne(at(time.Minute), "D", time.Minute)
		must.Equal(t, head.Delivery.ID, again.Delivery.ID)
		b.complete(done(again, herald.StateFailed, 500, at(time.Minute), time.Time{}))

		second := b.claim(at(time.Minute), 100, "E", time.Minute)
		must.Len(t, second, 1, "a failed head lets the next go")
		must.Equal(t, evs[1].ID, second[0].Event.ID)
		b.complete(done(second[0], herald.StateSucceeded, 200, at(time.Minute), time.Time{}))
		third := b.claim(at(time.Minute), 100, "F", time.Minute)
		must.Len(t, third, 1)
		must.Equal(t, evs[2].ID, third[0].Event.ID)
	},

	"NeverLeasedAtIngest": func(t *testing.T, b *bundle) {
		w := b.webhook("p", func(w *herald.Webhook) { w.Ordered = true })
		items := []store.IngestItem{{Event: b.event("x", "p"), WebhookIDs: []string{w.ID}}, {Event: b.event("x", "p"), WebhookIDs: []string{w.ID}}}
		out, err := b.s.Ingest(b.ctx, store.IngestParams{Items: items, Now: t0, LeaseToken: "L", LeaseFor: time.Minute, LeaseLimit: 100})
		must.NoError(t, err)
		must.Empty(t, out.Claimed, "ordered deliveries wait for their turn in ClaimDeliveries")
		must.Len(t, b.claim(t0, 10, "A", time.Minute), 1)
	},
}
