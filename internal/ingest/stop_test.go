package ingest_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
)

// returnsWithin runs fn and fails the test if it has not returned by d.
func returnsWithin(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// After Stop, Ingest fails at once with EUnavailable, every time (the
// request queue still has room, which must not matter).
func TestIngestAfterStopFailsAtOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	addWebhook(t, st, "p", "*")
	g := ingest.New(ingest.Options{Store: st, Router: ingest.NewRouter(st, time.Hour)})
	g.Start(context.Background())
	if _, err := g.Ingest(t.Context(), []*herald.Event{{Type: "x", Project: "p"}}); err != nil {
		t.Fatal(err)
	}
	g.Stop()
	returnsWithin(t, 10*time.Second, "100 Ingest calls after Stop", func() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := g.Ingest(context.Background(), []*herald.Event{{Type: "x", Project: "p"}})
				if herald.ErrorCode(err) != herald.EUnavailable {
					t.Errorf("Ingest after Stop: %v, want EUnavailable", err)
				}
			}()
		}
		wg.Wait()
	})
	g.Stop() // twice is harmless
}

// Many clients ingesting while the ingester stops: every call returns, and
// its answer is the truth: an acknowledged event is stored, a refused one
// (EUnavailable) is not.
func TestIngestRacingStop(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	addWebhook(t, st, "p", "*")
	g := ingest.New(ingest.Options{Store: st, Router: ingest.NewRouter(st, time.Hour)})
	g.Start(context.Background())

	const clients = 64
	var (
		mu       sync.Mutex
		acked    []string
		refused  []string
		total    atomic.Int64
		wg       sync.WaitGroup
		stopping = make(chan struct{})
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ev := &herald.Event{ID: herald.NewID("evt"), Type: "x", Project: "p"}
				_, err := g.Ingest(context.Background(), []*herald.Event{ev})
				total.Add(1)
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, ev.ID)
				case herald.ErrorCode(err) == herald.EUnavailable:
					refused = append(refused, ev.ID)
				default:
					t.Errorf("client %d: %v", c, err)
				}
				mu.Unlock()
				select {
				case <-stopping:
					if err != nil {
						return // refused after the stop: done
					}
				default:
				}
			}
		}()
	}
	// Stop once writes are flowing.
	deadline := time.Now().Add(30 * time.Second)
	for total.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(stopping)
	returnsWithin(t, 30*time.Second, "Stop", g.Stop)
	returnsWithin(t, 30*time.Second, "every Ingest racing Stop", wg.Wait)

	if len(acked) == 0 || len(refused) < clients {
		t.Fatalf("%d acknowledged, %d refused: the race was not exercised", len(acked), len(refused))
	}
	ctx := t.Context()
	for _, id := range acked {
		if evs, err := st.FindEvents(ctx, id); err != nil || len(evs) != 1 {
			t.Fatalf("acknowledged event %s not stored: %v %v", id, evs, err)
		}
	}
	for _, id := range refused {
		if evs, err := st.FindEvents(ctx, id); err != nil || len(evs) != 0 {
			t.Fatalf("refused event %s stored: %v %v", id, evs, err)
		}
	}
	t.Logf("%d acknowledged and stored, %d refused and not stored", len(acked), len(refused))
}
