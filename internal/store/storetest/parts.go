package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// RequestParts checks how a store keeps the requests of attempts (see
// internal/store/attemptpack): three webhooks of one format get one event,
// each delivery fails once and succeeds once, and rows(table) (a count of
// the rows of a table, from the store's own SQL) must show one stored body
// for the event, one shape per webhook, and nothing left of either but the
// shapes once the deliveries and the event are pruned.
func RequestParts(t *testing.T, newStore func(t *testing.T) store.Store, rows func(s store.Store, table string) int) {
	b := setup(t, newStore)
	var hooks []string
	for i := range 3 {
		w := b.webhook("p", func(w *herald.Webhook) { w.URL = fmt.Sprintf("https://example.com/hook/%d", i) })
		hooks = append(hooks, w.ID)
	}
	b.ingest(t0, hooks, b.event("x", "p"))
	body := `{"id":"evt","data":{"pad":"` + strings.Repeat("x", 1000) + `"}}`
	for round, state := range []herald.State{herald.StateRetrying, herald.StateSucceeded} {
		now := at(time.Duration(round) * time.Minute)
		cs := b.claim(now, 10, b.uniq("lease"), time.Minute)
		must.Len(t, cs, 3)
		var comps []store.Completion
		for _, c := range cs {
			a := attempt(now, 200, "")
			a.DeliveryID = c.Delivery.ID
			a.RequestURL = "https://example.com/hook/" + c.Delivery.WebhookID
			a.RequestHeaders = map[string][]string{
				"Content-Type": {"application/json"}, "Webhook-Id": {c.Delivery.ID},
				"Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {"v1," + b.uniq("sig")},
			}
			a.RequestBody = body
			comps = append(comps, store.Completion{
				DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
				State: state, NextAttemptAt: now.Add(time.Minute), Now: now, Attempt: a,
			})
		}
		must.Equal(t, []bool{true, true, true}, b.complete(comps...))
	}
	must.Equal(t, 6, rows(b.s, "attempts"))
	must.Equal(t, 1, rows(b.s, "request_bodies"), "one body for the event, whatever its webhooks and attempts")
	must.Equal(t, 3, rows(b.s, "request_shapes"), "one shape per webhook: its attempts share it")
	for range 10 {
		n, err := b.s.Prune(b.ctx, at(time.Hour), 100)
		must.NoError(t, err)
		if n == 0 {
			break
		}
	}
	must.Equal(t, 0, rows(b.s, "attempts"))
	must.Equal(t, 0, rows(b.s, "request_bodies"), "bodies go with their event")
}
