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

func init() {
	// The log filters by event type prefix ("image.*") and by error text,
	// taking % and _ literally.
	logTests["FilterWildcardAndError"] = func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("image.push", "p"), b.event("image.delete", "p"), b.event("imagex", "p"), b.event("chart.push", "p"))
		cs := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, cs, 4)
		for i, c := range cs {
			errText := "dial tcp: connection refused"
			if i == 0 {
				errText = "100% _done_"
			}
			b.complete(store.Completion{DeliveryID: c.Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
				Attempt: attempt(t0, 0, errText), State: herald.StateFailed, Now: at(time.Second)})
		}
		count := func(f store.DeliveryFilter) int {
			f.WebhookID = w.ID
			return len(b.deliveryIDs(f))
		}
		must.Equal(t, 2, count(store.DeliveryFilter{EventType: "image.*"}))
		must.Equal(t, 3, count(store.DeliveryFilter{EventType: "image*"}))
		must.Equal(t, 4, count(store.DeliveryFilter{EventType: "*"}))
		must.Equal(t, 1, count(store.DeliveryFilter{EventType: "chart.push"}))
		must.Equal(t, 0, count(store.DeliveryFilter{EventType: "image.%"}))
		must.Equal(t, 3, count(store.DeliveryFilter{ErrorContains: "connection refused"}))
		must.Equal(t, 1, count(store.DeliveryFilter{ErrorContains: "100% _"}))
		must.Equal(t, 0, count(store.DeliveryFilter{ErrorContains: "0%x"}))
		must.Equal(t, 1, count(store.DeliveryFilter{EventType: "image.*", ErrorContains: "refused"}), "image.push failed otherwise")
	}
}
