package storetest

import (
	"encoding/json"
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
// the rows of a table or of "table WHERE …", from the store's own SQL) must
// show each delivery's first attempt kept on its row (one attempts row
// each, for the second), one stored body for the event, kept without the
// event's data, one shape per webhook, and nothing left of either but the
// shapes once the deliveries and the event are pruned. The attempts read
// back whole, in order.
func RequestParts(t *testing.T, newStore func(t *testing.T) store.Store, rows func(s store.Store, table string) int) {
	b := setup(t, newStore)
	var hooks []string
	for i := range 3 {
		w := b.webhook("p", func(w *herald.Webhook) { w.URL = fmt.Sprintf("https://example.com/hook/%d", i) })
		hooks = append(hooks, w.ID)
	}
	data := `{"pad":"` + strings.Repeat("x", 1000) + `"}`
	ev := b.event("x", "p")
	ev.Data = json.RawMessage(data)
	b.ingest(t0, hooks, ev)
	body := `{"id":"evt","data":` + data + `}`
	var first []string // ID of each delivery's first attempt
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
				EventData: []byte(data),
			})
		}
		must.Equal(t, []bool{true, true, true}, b.complete(comps...))
		for k, c := range comps {
			must.Equal(t, round+1, c.Attempt.Number)
			must.True(t, c.Attempt.ID != "", "the attempt got its ID")
			if round == 0 {
				first = append(first, c.Attempt.ID)
			} else {
				must.True(t, c.Attempt.ID != first[k], "the second attempt's ID differs from the first's")
			}
		}
	}
	must.Equal(t, 3, rows(b.s, "attempts"), "the first attempts are kept on their delivery's row, the second ones in attempts")
	must.Equal(t, 1, rows(b.s, "request_bodies"), "one body for the event, whatever its webhooks and attempts")
	must.Equal(t, 1, rows(b.s, "request_bodies WHERE data_at IS NOT NULL AND length(body) < 100"),
		"the body is kept without the event's data")
	ds, _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{})
	must.NoError(t, err)
	must.Len(t, ds, 3)
	for _, d := range ds {
		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Len(t, as, 2)
		for n, a := range as {
			must.Equal(t, n+1, a.Number)
			must.Equal(t, body, a.RequestBody, "the body reads back whole")
			must.Equal(t, d.ID, a.DeliveryID)
			must.Equal(t, []string{d.ID}, a.RequestHeaders["Webhook-Id"])
			must.Equal(t, fmt.Sprint(at(time.Duration(n)*time.Minute).Unix()), a.RequestHeaders["Webhook-Timestamp"][0])
			must.Equal(t, "https://example.com/hook/"+d.WebhookID, a.RequestURL)
		}
		must.True(t, as[0].StartedAt.Before(as[1].StartedAt), "oldest first")
		st, err := b.s.WebhookStatus(b.ctx, d.WebhookID)
		must.NoError(t, err)
		must.Len(t, st, 1)
		must.Equal(t, d.ID, st[0].DeliveryID)
		must.Equal(t, string(herald.StateSucceeded), st[0].State)
	}
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
