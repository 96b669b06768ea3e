package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/sqlite"
)

func newStore(tb testing.TB) store.Store {
	tb.Helper()
	key, _ := seal.ParseKey(seal.GenerateKey())
	box, _ := seal.New(key)
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(tb.TempDir(), "h.db"), Box: box})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func addWebhook(tb testing.TB, st store.Store, project string, types ...string) *herald.Webhook {
	tb.Helper()
	now := time.Now().UTC()
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: herald.NewID("n"), Project: project, URL: "https://example.com",
		Enabled: true, EventTypes: types, Auth: herald.Auth{Type: herald.AuthNone}, SigningSecret: "whsec_x",
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(context.Background(), w); err != nil {
		tb.Fatal(err)
	}
	return w
}

func start(tb testing.TB, st store.Store) *ingest.Ingester {
	tb.Helper()
	g := ingest.New(ingest.Options{Store: st, Router: ingest.NewRouter(st, time.Hour)})
	ctx, cancel := context.WithCancel(context.Background())
	g.Start(ctx)
	tb.Cleanup(func() { cancel(); g.Wait() })
	return g
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &herald.Event{Type: " image.push ", Data: json.RawMessage(`null`)}
	if err := ingest.Normalize(ev, "", now); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "image.push" || ev.ID == "" || ev.Severity != herald.SeverityInfo || !ev.ReceivedAt.Equal(now) || !ev.OccurredAt.Equal(now) || ev.Data != nil {
		t.Fatalf("normalized %+v", ev)
	}
	for _, tc := range []struct {
		ev    herald.Event
		field string
	}{
		{herald.Event{}, "events[2].type"},
		{herald.Event{Type: "x", Severity: "loud"}, "events[2].severity"},
		{herald.Event{Type: "x", Data: json.RawMessage(`{nope`)}, "events[2].data"},
	} {
		err := ingest.Normalize(&tc.ev, "events[2].", now)
		if herald.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want field %s", tc.ev, err, tc.field)
		}
	}
}

// Many concurrent callers are group-committed; each gets its own results,
// in order, and every event is stored once with its deliveries.
func TestConcurrentIngestGroupCommit(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	a := addWebhook(t, st, "", "image.*")
	addWebhook(t, st, "other", "*")
	g := start(t, st)
	const callers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var evs []*herald.Event
			for i := 0; i < each; i++ {
				evs = append(evs, &herald.Event{ID: fmt.Sprintf("c%d-%d", c, i), Type: "image.push", Project: "p"})
			}
			res, err := g.Ingest(context.Background(), evs)
			if err != nil {
				errs <- err
				return
			}
			for i, r := range res {
				if r.EventID != evs[i].ID || r.Duplicate || r.Deliveries != 1 {
					errs <- fmt.Errorf("caller %d item %d: %+v", c, i, r)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := st.CountDeliveries(context.Background(), herald.StatePending)
	if err != nil || n != callers*each {
		t.Fatalf("%d pending deliveries (%v), want %d", n, err, callers*each)
	}
	ds, _, _ := st.ListDeliveries(context.Background(), store.DeliveryFilter{WebhookID: a.ID, Limit: 1})
	if len(ds) != 1 {
		t.Fatal("deliveries went to the wrong webhook")
	}
	// Batch limits are enforced before anything is written.
	if _, err := g.Ingest(context.Background(), make([]*herald.Event, ingest.MaxBatch+1)); herald.ErrorField(err) != "events" {
		t.Fatalf("oversized batch: %v", err)
	}
}

// BenchmarkIngestConcurrent measures group-committed ingest of single events
// from 32 concurrent callers, each fanned out to 10 webhooks, on SQLite with
// synchronous=FULL (go test ./internal/ingest -run '^$' -bench .).
func BenchmarkIngestConcurrent(b *testing.B) {
	st := newStore(b)
	for i := 0; i < 10; i++ {
		addWebhook(b, st, "", "*")
	}
	g := start(b, st)
	b.SetParallelism(16) // 16 × GOMAXPROCS(2) = 32 callers
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.Ingest(context.Background(), []*herald.Event{{Type: "bench", Project: "p"}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "deliveries/s")
}
