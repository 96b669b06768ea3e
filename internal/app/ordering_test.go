package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serve starts a loopback server with h and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// An ordered webhook gets one request at a time, in event order, even when
// a delivery needs retries (head-of-line).
func TestOrderedWebhook(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) { c.Delivery.RetrySchedule = []string{"100ms", "100ms", "100ms"} })
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	var order []string
	failed := map[string]bool{}
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		var env struct{ ID string }
		json.NewDecoder(r.Body).Decode(&env)
		mu.Lock()
		defer mu.Unlock()
		// The first attempt of every 5th event fails: later events must wait.
		if num, _ := strconv.Atoi(env.ID[1:]); num%5 == 0 && !failed[env.ID] {
			failed[env.ID] = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		order = append(order, env.ID)
	}))
	wh := h.createWebhook(map[string]any{"url": url, "ordered": true})
	const n = 20
	for i := 0; i < n; i++ {
		h.sendEvents(map[string]any{"id": "o" + strconv.Itoa(i), "type": "x", "project": "p"})
	}
	eventually(t, 20*time.Second, "all ordered deliveries", func() bool {
		return len(h.deliveries("state=succeeded&webhook="+wh.ID)) == n
	})
	mu.Lock()
	defer mu.Unlock()
	if len(order) != n {
		t.Fatalf("received %d successful events, want %d: %v", len(order), n, order)
	}
	for i, id := range order {
		if id != "o"+strconv.Itoa(i) {
			t.Fatalf("out of order at %d: %v", i, order)
		}
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Fatalf("%d requests in flight at once to an ordered webhook", m)
	}
}

// rate_limit spaces requests to a webhook: 10 events at 5/s (burst 5) take
// at least 0.8s to arrive. (A lower bound only: it checks the limiter, not
// speed.)
func TestRateLimitedWebhook(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL, "rate_limit": 5})
	var evs []map[string]any
	for i := 0; i < 10; i++ {
		evs = append(evs, map[string]any{"type": "x", "project": "p"})
	}
	h.sendEvents(evs...)
	eventually(t, 20*time.Second, "10 deliveries", func() bool { return rc.count() == 10 })
	reqs := rc.all()
	if span := reqs[9].at.Sub(reqs[0].at); span < 750*time.Millisecond {
		t.Fatalf("10 requests at rate_limit 5/s arrived within %v", span)
	}
}

// delivery.per_webhook_concurrency caps the requests in flight to one
// webhook, while other webhooks still get theirs.
func TestPerWebhookConcurrencyCap(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) { c.Delivery.PerWebhookConcurrency = 3 })
	var inFlight, peak atomic.Int32
	var got atomic.Int32
	// The first requests are held until three are in flight at once, which
	// shows the cap lets three through; each then takes 30ms more, so that a
	// fourth request beyond the cap would be seen in flight with them.
	full := make(chan struct{})
	var fullOnce sync.Once
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := peak.Load()
			if cur <= m || peak.CompareAndSwap(m, cur) {
				break
			}
		}
		if cur >= 3 {
			fullOnce.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-time.After(10 * time.Second):
		}
		time.Sleep(30 * time.Millisecond) // the receiver's latency
		got.Add(1)
	}))
	h.createWebhook(map[string]any{"url": url})
	var evs []map[string]any
	for i := 0; i < 30; i++ {
		evs = append(evs, map[string]any{"type": "x", "project": "p"})
	}
	h.sendEvents(evs...)
	eventually(t, 20*time.Second, "30 deliveries", func() bool { return got.Load() == 30 })
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d to one webhook, want 3 (the cap)", p)
	}
}
