package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func (b *bundle) backlog() store.Backlog {
	b.t.Helper()
	st, ok := b.s.(store.Stats)
	must.True(b.t, ok, "the store implements store.Stats")
	bl, err := st.Backlog(b.ctx)
	must.NoError(b.t, err)
	return bl
}

var statsTests = map[string]func(t *testing.T, b *bundle){
	"BacklogEmpty": func(t *testing.T, b *bundle) {
		must.Equal(t, store.Backlog{}, b.backlog())
	},

	// Pending, retrying and held are counted; the oldest due time is the
	// earliest next_attempt_at of an unleased waiting row, a live lease
	// counting as due when it expires; finished rows count for nothing.
	"Backlog": func(t *testing.T, b *bundle) {
		w1, w2 := b.webhook("p"), b.webhook("p")
		off := b.webhook("p")
		must.NoError(t, b.s.DisableWebhook(b.ctx, off.ID, "410 Gone", t0))
		b.ingest(t0, []string{w1.ID}, b.event("image.push", "p"))
		b.ingest(at(time.Second), []string{w1.ID, w2.ID}, b.event("image.push", "p"), b.event("image.push", "p"))

		bl := b.backlog()
		must.Equal(t, store.Backlog{Pending: 5, OldestDue: t0, WebhooksEnabled: 2, WebhooksDisabled: 1}, bl)

		// The oldest is leased for a minute: the next one is the oldest due.
		c := b.claim(at(2*time.Second), 1, "L", time.Minute)
		must.Len(t, c, 1)
		must.Equal(t, at(time.Second), b.backlog().OldestDue)

		// It fails and waits to be retried in an hour; one more succeeds.
		b.complete(store.Completion{DeliveryID: c[0].Delivery.ID, WebhookID: w1.ID, LeaseToken: "L",
			Attempt: attempt(at(2*time.Second), 503, ""), State: herald.StateRetrying, NextAttemptAt: at(time.Hour)})
		c = b.claim(at(3*time.Second), 1, "M", time.Minute)
		must.Len(t, c, 1)
		b.complete(store.Completion{DeliveryID: c[0].Delivery.ID, WebhookID: c[0].Delivery.WebhookID, LeaseToken: "M",
			Attempt: attempt(at(3*time.Second), 200, ""), State: herald.StateSucceeded})
		bl = b.backlog()
		must.Equal(t, 3, bl.Pending)
		must.Equal(t, 1, bl.Retrying)
		must.Equal(t, 0, bl.Held)
		must.Equal(t, at(time.Second), bl.OldestDue)

		// The global switch off holds everything waiting: nothing is due.
		b.settings(false, at(4*time.Second))
		must.Equal(t, store.Backlog{Held: 4, WebhooksEnabled: 2, WebhooksDisabled: 1}, b.backlog())
	},

	// Finished deliveries are counted per webhook and bucket; test sends,
	// waiting and cancelled rows and anything before since are not.
	"DeliveryCountsAndLatency": func(t *testing.T, b *bundle) {
		w1, w2 := b.webhook("p"), b.webhook("p")
		b.ingest(t0, []string{w1.ID}, b.event("image.push", "p"), b.event("image.push", "p"), b.event("image.push", "p"),
			b.event("image.push", "p"), b.event("image.push", "p"))
		b.ingest(t0, []string{w2.ID}, b.event("image.push", "p"))
		cs := b.claim(t0, 10, "L", time.Minute)
		must.Len(t, cs, 6)
		finish := func(c *store.Claimed, state herald.State, at time.Time, latency time.Duration) {
			a := attempt(at, 200, "")
			if state != herald.StateSucceeded {
				a = attempt(at, 500, "")
			}
			a.Latency = herald.Duration(latency)
			b.complete(store.Completion{DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: "L",
				Attempt: a, State: state, NextAttemptAt: at.Add(time.Hour), Now: at})
		}
		var h1 []*store.Claimed
		for _, c := range cs {
			if c.Delivery.WebhookID == w1.ID {
				h1 = append(h1, c)
			} else {
				finish(c, herald.StateFailed, at(90*time.Second), 300*time.Millisecond)
			}
		}
		finish(h1[0], herald.StateSucceeded, at(-time.Minute), time.Millisecond) // before since
		finish(h1[1], herald.StateSucceeded, at(10*time.Second), 10*time.Millisecond)
		finish(h1[2], herald.StateSucceeded, at(70*time.Second), 20*time.Millisecond)
		finish(h1[3], herald.StateFailed, at(80*time.Second), 30*time.Millisecond)
		finish(h1[4], herald.StateRetrying, at(85*time.Second), 40*time.Millisecond) // not finished
		last := at(100 * time.Second)
		ev := b.event(herald.EventTypeTest, "p")
		d := &herald.Delivery{ID: herald.NewID("dlv"), EventID: ev.ID, WebhookID: w1.ID, Project: "p",
			EventType: herald.EventTypeTest, State: herald.StateSucceeded, Attempts: 1, NextAttemptAt: last,
			LastAttemptAt: &last, LastStatus: 204, Test: true, CreatedAt: last, UpdatedAt: last}
		a := attempt(last, 204, "")
		a.DeliveryID, a.Number = d.ID, 1
		must.NoError(t, b.s.RecordTest(b.ctx, ev, d, a))

		st := b.s.(store.Stats)
		got, err := st.DeliveryCounts(b.ctx, t0, time.Minute)
		must.NoError(t, err)
		slices.SortFunc(got, func(x, y store.DeliveryCount) int {
			return strings.Compare(x.WebhookID+x.Bucket.String(), y.WebhookID+y.Bucket.String())
		})
		want := []store.DeliveryCount{
			{WebhookID: w1.ID, Bucket: t0, Succeeded: 1},
			{WebhookID: w1.ID, Bucket: at(time.Minute), Succeeded: 1, Failed: 1},
			{WebhookID: w2.ID, Bucket: at(time.Minute), Failed: 1},
		}
		slices.SortFunc(want, func(x, y store.DeliveryCount) int {
			return strings.Compare(x.WebhookID+x.Bucket.String(), y.WebhookID+y.Bucket.String())
		})
		must.Equal(t, want, got)

		day, err := st.DeliveryCounts(b.ctx, at(-30*time.Second), 24*time.Hour)
		must.NoError(t, err)
		must.Len(t, day, 2, "one bucket per webhook")
		for _, c := range day {
			must.Equal(t, at(-30*time.Second), c.Bucket)
			if c.WebhookID == w1.ID {
				must.Equal(t, [2]int{2, 1}, [2]int{c.Succeeded, c.Failed})
			}
		}

		ls, err := st.LatencySamples(b.ctx, t0, 10)
		must.NoError(t, err)
		must.Equal(t, []store.LatencySample{
			{WebhookID: w2.ID, At: at(90 * time.Second), Latency: 300 * time.Millisecond},
			{WebhookID: w1.ID, At: at(80 * time.Second), Latency: 30 * time.Millisecond},
			{WebhookID: w1.ID, At: at(70 * time.Second), Latency: 20 * time.Millisecond},
			{WebhookID: w1.ID, At: at(10 * time.Second), Latency: 10 * time.Millisecond},
		}, ls)
		ls, err = st.LatencySamples(b.ctx, t0, 2)
		must.NoError(t, err)
		must.Len(t, ls, 2, "at most limit")
	},
}
