package storetest

import (
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
}
