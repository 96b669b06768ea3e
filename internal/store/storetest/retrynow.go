package storetest

import (
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func init() {
	// Retry now: a retrying delivery waiting for its next attempt is due
	// at once; one whose attempt is in flight (leased) is refused; the
	// retry schedule stays as it was.
	logTests["RetryNow"] = func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "A", time.Minute)
		b.complete(store.Completion{DeliveryID: c.Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
			Attempt: attempt(t0, 503, ""), State: herald.StateRetrying, NextAttemptAt: at(5 * time.Minute), Now: at(time.Second)})
		d, err := b.s.RetryDelivery(b.ctx, c.Delivery.ID, at(10*time.Second))
		must.NoError(t, err)
		must.Equal(t, herald.StateRetrying, d.State)
		must.Equal(t, 1, d.Attempts)
		requireTime(t, at(10*time.Second), d.NextAttemptAt)
		c = b.claimOne(at(10*time.Second), "B", time.Minute)
		must.Equal(t, 0, c.RoundStart, "the schedule goes on")
		_, err = b.s.RetryDelivery(b.ctx, c.Delivery.ID, at(11*time.Second))
		requireCode(t, err, herald.EConflict)
		// Once the lease expired (its node died), retry now works again.
		_, err = b.s.RetryDelivery(b.ctx, c.Delivery.ID, at(2*time.Minute))
		must.NoError(t, err)
	}
}
