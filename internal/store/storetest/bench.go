package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Bench runs the store benchmarks every backend shares, so a regression in
// the ingest or the completion path shows in `go test -bench` and the
// backends compare on the same work:
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Bench(b, func(b *testing.B) store.Store { ... })
//	}
//
// newStore is called once per sub-benchmark and must return an empty,
// migrated store that cleans up after itself. The sub-benchmarks:
//
//   - Ingest: one op is one Ingest of 100 events of about 1 KiB fanned out
//     to 10 webhooks (1,000 deliveries, one group commit).
//   - ClaimComplete: one op claims 256 due deliveries and completes them as
//     succeeded with one attempt each (two transactions); the backlog is
//     refilled off the clock.
//   - EndToEnd: one op is the store's share of 1,000 deliveries: the Ingest
//     above, then claim and complete them all in batches of 256.
//
// Each reports deliveries/s besides ns/op.
func Bench(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("Ingest", func(b *testing.B) {
		s, hooks := benchSetup(b, newStore)
		ops := 0
		for b.Loop() {
			benchIngest(b, s, hooks, time.Now())
			ops++
		}
		b.ReportMetric(float64(ops*benchEvents*benchFanout)/b.Elapsed().Seconds(), "deliveries/s")
	})
	b.Run("ClaimComplete", func(b *testing.B) {
		s, hooks := benchSetup(b, newStore)
		due, ops := 0, 0
		for b.Loop() {
			if due < benchBatch {
				b.StopTimer()
				for range 20 {
					benchIngest(b, s, hooks, time.Now())
				}
				due += 20 * benchEvents * benchFanout
				b.StartTimer()
			}
			n := benchClaimComplete(b, s, fmt.Sprint("bench-", ops))
			if n != benchBatch {
				b.Fatalf("claimed %d deliveries, want %d", n, benchBatch)
			}
			due -= n
			ops++
		}
		b.ReportMetric(float64(ops*benchBatch)/b.Elapsed().Seconds(), "deliveries/s")
	})
	b.Run("EndToEnd", func(b *testing.B) {
		s, hooks := benchSetup(b, newStore)
		ops := 0
		for b.Loop() {
			benchIngest(b, s, hooks, time.Now())
			got := 0
			for k := 0; ; k++ {
				n := benchClaimComplete(b, s, fmt.Sprint("e2e-", ops, "-", k))
				if n == 0 {
					break
				}
				got += n
			}
			if got != benchEvents*benchFanout {
				b.Fatalf("delivered %d, want %d", got, benchEvents*benchFanout)
			}
			ops++
		}
		b.ReportMetric(float64(ops*benchEvents*benchFanout)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

const (
	benchEvents = 100 // events per Ingest
	benchFanout = 10  // webhooks per event
	benchBatch  = 256 // deliveries per claim
)

// benchData is an event's data of about 1 KiB, the size `herald bench`
// posts by default.
var benchData = json.RawMessage(`{"repository":"library/nginx","tag":"1.27","digest":"sha256:0123456789abcdef","pad":"` +
	strings.Repeat("x", 900) + `"}`)

func benchSetup(b *testing.B, newStore func(b *testing.B) store.Store) (store.Store, []string) {
	b.Helper()
	s := newStore(b)
	now := time.Now().UTC()
	hooks := make([]string, benchFanout)
	for i := range hooks {
		w := &herald.Webhook{
			ID: herald.NewID("wh"), Name: fmt.Sprint("bench-", i), Project: "bench", URL: "https://example.com/hook",
			Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"*"},
			Severity: herald.SeverityPresetAll, Language: "en", Format: herald.FormatStandard,
			Auth: herald.Auth{Type: herald.AuthNone}, SigningSecret: herald.Secret("whsec_bench"),
			CreatedAt: now, UpdatedAt: now,
		}
		if err := s.CreateWebhook(context.Background(), w); err != nil {
			b.Fatal(err)
		}
		hooks[i] = w.ID
	}
	return s, hooks
}

// benchIngest stores benchEvents new events, each to hooks. Building the
// events is part of the op (it is small next to the commit).
func benchIngest(b *testing.B, s store.Store, hooks []string, now time.Time) {
	now = now.UTC()
	items := make([]store.IngestItem, benchEvents)
	for i := range items {
		items[i] = store.IngestItem{WebhookIDs: hooks, Event: &herald.Event{
			ID: herald.NewID("evt"), Type: "image.push", Project: "bench", Source: "registry",
			Subject: "library/nginx:1.27", Severity: herald.SeverityInfo, Labels: map[string]string{"env": "prod"},
			Data: benchData, OccurredAt: now, ReceivedAt: now,
		}}
	}
	res, err := s.Ingest(context.Background(), store.IngestParams{Items: items, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Items) != benchEvents {
		b.Fatalf("ingested %d events, want %d", len(res.Items), benchEvents)
	}
}

// benchBody is a delivered body of about 1.1 KiB for ev: its data in an
// envelope, as the standard format sends it.
func benchBody(ev *herald.Event) []byte {
	return []byte(`{"id":"` + ev.ID + `","type":"` + ev.Type + `","data":` + string(ev.Data) + `,"message":"bench"}`)
}

// benchClaimComplete claims up to benchBatch due deliveries and completes
// them as succeeded with an attempt like the dispatcher records; it returns
// how many it claimed.
func benchClaimComplete(b *testing.B, s store.Store, token string) int {
	ctx := context.Background()
	now := time.Now().UTC()
	cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, Limit: benchBatch, LeaseToken: token, LeaseFor: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if len(cs) == 0 {
		return 0
	}
	comps := make([]store.Completion, len(cs))
	for i, c := range cs {
		comps[i] = store.Completion{
			DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
			State: herald.StateSucceeded, Now: now,
			Attempt: &herald.Attempt{
				Number: 1, StartedAt: now, Latency: herald.Duration(12 * time.Millisecond),
				RequestHeaders: map[string][]string{
					"Content-Type": {"application/json"}, "User-Agent": {"Herald/0.1.0"},
					"Webhook-Id": {c.Delivery.ID}, "Webhook-Timestamp": {"1767225600"},
					"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
				},
				StatusCode: 200, ResponseHeaders: map[string][]string{"Content-Type": {"text/plain"}},
				ResponseBody:  "ok",
				RequestMethod: "POST", RequestURL: "https://hooks.example.com/herald",
				// The body as sent: the event in Herald's envelope, the same for
				// every webhook of the event, as with the default json format.
				RequestBody: string(benchBody(c.Event)),
			},
			EventData: c.Event.Data,
		}
	}
	applied, err := s.CompleteDeliveries(ctx, comps)
	if err != nil {
		b.Fatal(err)
	}
	for _, ok := range applied {
		if !ok {
			b.Fatal("completion fenced")
		}
	}
	return len(cs)
}
