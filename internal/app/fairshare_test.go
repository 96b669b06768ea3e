package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/config"
)

// hangingReceiver accepts requests and never answers until released (or the
// client gives up), like a dead endpoint behind a load balancer.
type hangingReceiver struct {
	*httptest.Server
	active  atomic.Int64
	peak    atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	hr := &hangingReceiver{release: make(chan struct{})}
	hr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hr.active.Add(1)
		defer hr.active.Add(-1)
		for {
			p := hr.peak.Load()
			if n <= p || hr.peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-hr.release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	// Cleanups run last-in first-out: the endpoint is released before
	// Herald is closed, so the close does not wait for the 5m timeout.
	t.Cleanup(func() {
		hr.once.Do(func() { close(hr.release) })
		hr.Close()
	})
	return hr
}

// Twenty webhooks of one project hang at the maximum timeout while a healthy
// webhook of another project keeps its latency under a second (issue 9 §2).
func TestFairShareHangingProjectDoesNotStarveOthers(t *testing.T) {
	h := start(t, func(c *config.Config) {
		c.Delivery.Workers = 256 // the default, as in the report: 20 webhooks × 64 would take them all
	})
	hang := newHangingReceiver(t)
	nice := newReceiver(t, nil)

	const hanging = 20
	for i := range hanging {
		h.createWebhook(map[string]any{
			"name": fmt.Sprintf("evil-%02d", i), "url": hang.URL + fmt.Sprintf("/hook/%d", i),
			"project": "evil", "timeout": "5m", "event_types": []string{"evil.*"},
		})
	}
	h.createWebhook(map[string]any{"name": "nice", "url": nice.URL, "project": "nice", "event_types": []string{"nice.*"}})

	// A backlog for every EVIL webhook: 100 events × 20 webhooks.
	for b := range 4 {
		var evs []map[string]any
		for i := range 25 {
			evs = append(evs, map[string]any{"type": "evil.flood", "project": "evil", "id": fmt.Sprintf("evil-%d-%d", b, i)})
		}
		h.sendEvents(evs...)
	}
	// EVIL holds its share of the workers: many requests hang at once.
	waitUntil(t, 30*time.Second, "EVIL requests hanging", func() bool { return hang.active.Load() >= 64 })

	// Delivery latency: from the acknowledgement (202: the event and its
	// delivery are committed) to the receipt. The time to acknowledge is
	// logged too; it is the database's, not the workers'.
	const n = 50
	lat := make([]time.Duration, 0, n)
	var ack []time.Duration
	for i := range n {
		before := nice.count()
		began := time.Now()
		h.sendEvents(map[string]any{"type": "nice.ping", "project": "nice", "id": fmt.Sprintf("nice-%d", i)})
		acked := time.Now()
		waitUntil(t, 30*time.Second, "NICE delivery", func() bool { return nice.count() > before })
		// Handed to the engine in the ingest transaction, the delivery may
		// even arrive before the 202 does: that counts as 0.
		lat = append(lat, max(0, nice.lastAt().Sub(acked)))
		ack = append(ack, acked.Sub(began))
		if i%10 == 0 {
			// Keep EVIL's pressure up while NICE is measured.
			h.sendEvents(map[string]any{"type": "evil.flood", "project": "evil", "id": fmt.Sprintf("evil-more-%d", i)})
		}
	}
	if a := hang.active.Load(); a < 64 {
		t.Fatalf("only %d EVIL requests were hanging at the end: the test did not load the engine", a)
	}
	if p := hang.peak.Load(); p > 128 {
		t.Fatalf("EVIL held %d workers at once, want at most half of the 256 workers", p)
	}
	p50, p99 := percentiles(lat)
	a50, a99 := percentiles(ack)
	t.Logf("healthy webhook with %d hanging webhooks (%d EVIL requests hanging, peak %d): delivery p50 %v p99 %v; acknowledgement p50 %v p99 %v",
		hanging, hang.active.Load(), hang.peak.Load(), p50, p99, a50, a99)
	if p99 >= time.Second {
		t.Fatalf("healthy webhook delivery p99 %v (p50 %v) with %d hanging webhooks of another project, want < 1s", p99, p50, hanging)
	}
}

// percentiles returns the p50 and p99 of ds (sorted in place).
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[(len(ds)*99+99)/100-1]
}

// lastAt is when the receiver got its latest request.
func (rc *receiver) lastAt() time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests[len(rc.requests)-1].at
}

// waitUntil polls cond every 5ms until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
