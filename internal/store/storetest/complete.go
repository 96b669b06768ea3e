package storetest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var completeTests = map[string]func(t *testing.T, b *bundle){
	// The request of every attempt reads back as sent, though the parts
	// that repeat (headers of a webhook, the body of an event) are stored
	// once: the per-attempt headers of two webhooks' deliveries of one
	// event, a retry of the same request, a foreign Webhook-Id, and an
	// attempt that sent nothing.
	"RequestAsSent": func(t *testing.T, b *bundle) {
		w1, w2 := b.webhook("p"), b.webhook("p")
		b.ingest(t0, []string{w1.ID, w2.ID}, b.event("x", "p"))
		cs := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, cs, 2)
		sent := func(c *store.Claimed, started time.Time, sig string) *herald.Attempt {
			a := attempt(started, 503, "failed with 503")
			a.DeliveryID = c.Delivery.ID
			a.RequestHeaders = map[string][]string{
				"Content-Type": {"application/json"}, "User-Agent": {"Herald/test"},
				"Authorization": {"[redacted]"}, "Herald-Hops": {"1"},
				"Webhook-Id":        {c.Delivery.ID},
				"Webhook-Timestamp": {fmt.Sprint(started.Unix())},
				"Webhook-Signature": {sig},
			}
			a.RequestBody = `{"id":"evt","data":{"pad":"` + strings.Repeat("x", 900) + `"}}`
			return a
		}
		var want []map[string][]*herald.Attempt
		for round, now := range []time.Time{at(time.Second), at(time.Minute)} {
			if round > 0 {
				cs = b.claim(at(time.Minute), 10, "B", time.Minute)
				must.Len(t, cs, 2)
			}
			byID := map[string][]*herald.Attempt{}
			var comps []store.Completion
			for i, c := range cs {
				a := sent(c, now.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("v1,sig-%d-%d", round, i))
				if i == 0 {
					// A signature as Herald makes it (kept as its 32 bytes)
					// and response dates in and out of the form a store may
					// keep as a number.
					a.RequestHeaders["Webhook-Signature"] = []string{
						fmt.Sprintf("v1,%c5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", 'K'+round)}
					a.ResponseHeaders = map[string][]string{
						"Date":    {now.UTC().Format(http.TimeFormat)},
						"Expires": {"Thu, 01 Jan 1970 00:00:00 GMT", "0"},
						"X-Date":  {"Fri, 4 Dec 2026 18:45:43 GMT"},
					}
				}
				if round == 1 && i == 1 {
					a.RequestHeaders["Webhook-Id"] = []string{"msg_foreign"}
				}
				comps = append(comps, store.Completion{
					DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
					State: herald.StateRetrying, NextAttemptAt: at(time.Minute), Now: now, Attempt: a,
				})
				cp := *a
				byID[c.Delivery.ID] = append(byID[c.Delivery.ID], &cp)
			}
			must.Equal(t, []bool{true, true}, b.complete(comps...))
			want = append(want, byID)
		}
		cs = b.claim(at(time.Minute), 10, "C", time.Minute)
		must.Len(t, cs, 2)
		unsent := &herald.Attempt{StartedAt: at(2 * time.Minute), Error: "render payload: boom"}
		must.Equal(t, []bool{true}, b.complete(store.Completion{
			DeliveryID: cs[0].Delivery.ID, WebhookID: cs[0].Delivery.WebhookID, LeaseToken: cs[0].LeaseToken,
			State: herald.StateFailed, Now: at(2 * time.Minute), Attempt: unsent,
		}))
		for _, c := range cs {
			as, err := b.s.ListAttempts(b.ctx, c.Delivery.ID)
			must.NoError(t, err)
			exp := append(want[0][c.Delivery.ID], want[1][c.Delivery.ID]...)
			if c.Delivery.ID == cs[0].Delivery.ID {
				exp = append(exp, unsent)
			}
			must.Len(t, as, len(exp))
			for i, a := range as {
				e := *exp[i]
				e.ID, e.Number, e.DeliveryID = a.ID, a.Number, c.Delivery.ID
				must.Equal(t, &e, a, "attempt %d of %s", i, c.Delivery.ID)
			}
		}
	},

	"Success": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "A", time.Minute)
		comp := done(c, herald.StateSucceeded, 200, at(time.Second), time.Time{})
		want := *comp.Attempt
		must.Equal(t, []bool{true}, b.complete(comp))

		d := b.delivery(c.Delivery.ID)
		must.Equal(t, herald.StateSucceeded, d.State)
		must.Equal(t, 1, d.Attempts)
		must.NotNil(t, d.LastAttemptAt)
		requireTime(t, at(time.Second), *d.LastAttemptAt)
		must.Equal(t, 200, d.LastStatus)
		must.Empty(t, d.LastError)
		requireTime(t, comp.Now, d.UpdatedAt)
		requireTime(t, t0, d.CreatedAt)

		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Len(t, as, 1)
		must.NotEmpty(t, as[0].ID)
		want.ID = as[0].ID
		must.Equal(t, &want, as[0])
		must.Equal(t, 1, as[0].Number)
		must.Equal(t, d.ID, as[0].DeliveryID)

		must.Empty(t, b.claim(at(time.Hour), 10, "B", time.Minute), "a finished row is not claimed")
		must.Equal(t, []bool{false}, b.complete(comp), "the lease was cleared: a second result is refused")
		as, err = b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Len(t, as, 1)
	},

	// Attempts accumulate, oldest first; the state follows each result.
	"RetryThenFail": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "A", time.Minute)
		must.Equal(t, []bool{true}, b.complete(done(c, herald.StateRetrying, 503, at(time.Second), at(time.Minute))))
		d := b.delivery(c.Delivery.ID)
		must.Equal(t, herald.StateRetrying, d.State)
		must.Equal(t, 1, d.Attempts)
		must.Equal(t, 503, d.LastStatus)
		must.Equal(t, "failed with 503", d.LastError)
		requireTime(t, at(time.Minute), d.NextAttemptAt)

		c = b.claimOne(at(time.Minute), "B", time.Minute)
		must.Equal(t, 1, c.Delivery.Attempts)
		must.Equal(t, []bool{true}, b.complete(done(c, herald.StateRetrying, 0, at(61*time.Second), at(time.Hour))))
		c = b.claimOne(at(time.Hour), "C", time.Minute)
		must.Equal(t, 2, c.Delivery.Attempts)
		must.Equal(t, []bool{true}, b.complete(done(c, herald.StateFailed, 500, at(time.Hour+time.Second), time.Time{})))

		d = b.delivery(c.Delivery.ID)
		must.Equal(t, herald.StateFailed, d.State)
		must.Equal(t, 3, d.Attempts)
		must.Equal(t, 500, d.LastStatus)
		requireTime(t, at(time.Hour+time.Second), *d.LastAttemptAt)

		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Len(t, as, 3)
		for i, a := range as {
			must.Equal(t, i+1, a.Number)
		}
		must.Equal(t, []int{503, 0, 500}, []int{as[0].StatusCode, as[1].StatusCode, as[2].StatusCode})
		must.Empty(t, b.claim(at(48*time.Hour), 10, "D", time.Minute), "failed is final")
	},

	// A completion without an attempt changes state and last_error only.
	"NoAttempt": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"))
		cs := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, cs, 2)
		cancel := store.Completion{DeliveryID: cs[0].Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
			State: herald.StateCancelled, Error: "webhook deleted", Now: at(time.Second)}
		// Released unsent, as a stopping dispatcher does: due as before.
		release := store.Completion{DeliveryID: cs[1].Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
			State: herald.StatePending, NextAttemptAt: t0, Now: at(time.Second)}
		must.Equal(t, []bool{true, true}, b.complete(cancel, release))

		d := b.delivery(cs[0].Delivery.ID)
		must.Equal(t, herald.StateCancelled, d.State)
		must.Equal(t, "webhook deleted", d.LastError)
		must.Zero(t, d.Attempts)
		must.Nil(t, d.LastAttemptAt)
		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Empty(t, as)

		got := b.claim(at(2*time.Second), 10, "B", time.Minute)
		must.Equal(t, []string{cs[1].Delivery.ID}, ids(got), "a released row is claimable at once")
		must.Zero(t, got[0].Delivery.Attempts)
		must.Equal(t, herald.StatePending, got[0].Delivery.State)
	},

	// A completion applies only under its own lease: a node that lost its
	// lease cannot overwrite the newer holder's result, and its attempt is
	// not recorded.
	"Fencing": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"))
		stale := b.claim(t0, 1, "A", 10*time.Second)
		must.Len(t, stale, 1)
		fresh := b.claim(at(11*time.Second), 2, "B", time.Minute)
		must.Len(t, fresh, 2)
		must.Equal(t, stale[0].Delivery.ID, fresh[0].Delivery.ID)

		applied := b.complete(
			done(stale[0], herald.StateSucceeded, 200, at(12*time.Second), time.Time{}),
			done(fresh[1], herald.StateSucceeded, 200, at(12*time.Second), time.Time{}),
		)
		must.Equal(t, []bool{false, true}, applied)
		d := b.delivery(stale[0].Delivery.ID)
		must.Equal(t, herald.StatePending, d.State, "the stale result did not apply")
		must.Zero(t, d.Attempts)
		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Empty(t, as, "nor was its attempt recorded")

		must.Equal(t, []bool{true}, b.complete(done(fresh[0], herald.StateRetrying, 500, at(13*time.Second), at(time.Hour))))
		must.Equal(t, []bool{false}, b.complete(done(stale[0], herald.StateSucceeded, 200, at(14*time.Second), time.Time{})),
			"a stale result after the new holder's does not overwrite it")
		d = b.delivery(stale[0].Delivery.ID)
		must.Equal(t, herald.StateRetrying, d.State)
		must.Equal(t, 1, d.Attempts)
		must.Equal(t, 500, d.LastStatus)
		must.Equal(t, []bool{false}, b.complete(done(fresh[0], herald.StateSucceeded, 200, at(15*time.Second), time.Time{})),
			"completing twice under one lease: the first cleared it")
	},

	// FailingSince: set by the first failed attempt, kept by later failures,
	// cleared by a success; within one batch, in order.
	"FailingSince": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p"), b.webhook("p")
		var evs []*herald.Event
		for range 8 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID, other.ID}, evs...)
		var cs []*store.Claimed
		for _, c := range b.claim(t0, 100, "A", time.Hour) {
			if c.Delivery.WebhookID == w.ID {
				cs = append(cs, c)
			}
		}
		must.Len(t, cs, 8)
		failing := func() *time.Time {
			t.Helper()
			return b.getWebhook(w.ID).FailingSince
		}
		must.Nil(t, failing())

		b.complete(done(cs[0], herald.StateRetrying, 500, at(1*time.Second), at(time.Hour)))
		must.NotNil(t, failing())
		requireTime(t, at(time.Second), *failing(), "set by the first failure")
		b.complete(done(cs[1], herald.StateFailed, 0, at(2*time.Second), time.Time{}))
		requireTime(t, at(time.Second), *failing(), "kept by later failures")
		b.complete(store.Completion{DeliveryID: cs[2].Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
			State: herald.StateCancelled, Error: "webhook disabled", Now: at(3 * time.Second)})
		requireTime(t, at(time.Second), *failing(), "untouched without an attempt")
		must.Nil(t, b.getWebhook(other.ID).FailingSince, "other webhooks are untouched")

		b.complete(done(cs[3], herald.StateSucceeded, 200, at(4*time.Second), time.Time{}))
		must.Nil(t, failing(), "cleared by a success")

		b.complete(
			done(cs[4], herald.StateSucceeded, 200, at(5*time.Second), time.Time{}),
			done(cs[5], herald.StateRetrying, 429, at(6*time.Second), at(time.Hour)),
		)
		must.NotNil(t, failing())
		requireTime(t, at(6*time.Second), *failing(), "a failure after a success in one batch")

		b.complete(
			done(cs[6], herald.StateRetrying, 500, at(7*time.Second), at(time.Hour)),
			done(cs[7], herald.StateSucceeded, 200, at(8*time.Second), time.Time{}),
		)
		must.Nil(t, failing(), "a success after a failure in one batch")
	},

	"CountDeliveries": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"), b.event("z", "p"))
		cs := b.claim(t0, 2, "A", time.Minute)
		b.complete(
			done(cs[0], herald.StateSucceeded, 200, at(time.Second), time.Time{}),
			done(cs[1], herald.StateRetrying, 500, at(time.Second), at(time.Hour)),
		)
		for state, want := range map[herald.State]int{
			herald.StatePending: 1, herald.StateRetrying: 1, herald.StateSucceeded: 1,
			herald.StateFailed: 0, herald.StateCancelled: 0, herald.StateHeld: 0,
		} {
			must.Equal(t, want, b.count(state), state)
		}
	},
}
