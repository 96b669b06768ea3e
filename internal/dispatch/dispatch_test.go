package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/retry"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/store"
)

// gate is a sender that blocks every request until released (or its
// context ends), then answers 200.
type gate struct {
	mu   sync.Mutex
	open chan struct{}
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) send(ctx context.Context, _ *herald.Webhook, _ sender.Request) sender.Result {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	select {
	case <-ch:
		return sender.Result{Outcome: sender.Success, StatusCode: 200}
	case <-ctx.Done():
		return sender.Result{Outcome: sender.Retry, Err: "cancelled"}
	}
}

func TestDeliversEveryRowOnce(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 8 })
	e.st.addWebhook("wh_a", "p1", nil)
	e.st.addWebhook("wh_b", "p2", nil)
	now := e.clk.Now()
	e.st.addDeliveries("wh_a", 150, now)
	e.st.addDeliveries("wh_b", 150, now)
	e.start()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 300
	})
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	for _, r := range e.st.rows {
		if len(r.attempts) != 1 || r.attempts[0].Number != 1 {
			t.Fatalf("%s: attempts %+v, want one attempt numbered 1", r.d.ID, r.attempts)
		}
	}
	if n := snd.sentTo("wh_a") + snd.sentTo("wh_b"); n != 300 {
		t.Fatalf("%d requests for 300 deliveries", n)
	}
}

func TestCompletionsAreBatchedWhileTheStoreIsBusy(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 16; o.PerProject = 16 })
	e.st.addWebhook("wh_a", "p1", nil)
	total := e.d.capacity() + 64
	e.st.addDeliveries("wh_a", total, e.clk.Now())
	// While the store fails, results pile up; the first call that succeeds
	// takes them all at once.
	e.st.setFail(true)
	e.start()
	e.waitFor("every request the capacity allows", 0, func() bool { return snd.sentTo("wh_a") == e.d.capacity() })
	e.st.setFail(false)
	e.waitFor("results recorded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == total
	})
	e.st.mu.Lock()
	first := e.st.completeCalls[0]
	e.st.mu.Unlock()
	if first < 2 {
		t.Fatalf("first recorded batch had %d results, want the waiting results in one batch", first)
	}
}

func TestClaimedBacklogIsBoundedAndLeasesAreShort(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 4 })
	e.st.addWebhook("wh_a", "p1", nil)
	e.st.addWebhook("wh_b", "p2", nil)
	e.st.addDeliveries("wh_a", 100, e.clk.Now())
	e.st.addDeliveries("wh_b", 100, e.clk.Now())
	e.start()
	e.waitFor("four requests in flight", 0, func() bool { _, n := snd.snapshot(); return n == 4 })
	// Let the claim loop run a few more rounds: the backlog must stay bounded.
	for range 20 {
		e.d.Wake()
		time.Sleep(time.Millisecond)
	}
	_, leased := e.st.count("", e.clk.Now())
	if c := e.d.capacity(); leased > c || c >= 200 {
		t.Fatalf("%d of 200 rows leased with 4 workers, want at most the capacity, %d", leased, c)
	}
	if _, n := snd.snapshot(); n != 4 {
		t.Fatalf("%d requests in flight, want 4 (Workers)", n)
	}
	e.st.mu.Lock()
	p := e.st.claims[0]
	e.st.mu.Unlock()
	if p.LeaseFor != 10*time.Second {
		t.Fatalf("lease %v, want the 10s default", p.LeaseFor)
	}
	if !strings.HasPrefix(p.LeaseToken, "node1-") {
		t.Fatalf("lease token %q, want the NodeID prefix node1-", p.LeaseToken)
	}
	// Rows leased past the default lease are not claimed twice: renewal.
	for range 8 {
		e.clk.Advance(2500 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	e.waitFor("leases renewed", 0, func() bool {
		_, leased := e.st.count("", e.clk.Now())
		return leased >= 4
	})
	g.release()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 200
	})
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	for _, r := range e.st.rows {
		if len(r.attempts) != 1 {
			t.Fatalf("%s: %d attempts, want 1 (claimed twice?)", r.d.ID, len(r.attempts))
		}
	}
}

func TestLeasesAreRenewedEveryQuarterLease(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 2 })
	e.st.addWebhook("wh_a", "p1", nil)
	ids := e.st.addDeliveries("wh_a", 1, e.clk.Now())
	e.start()
	e.waitFor("request in flight", 0, func() bool { _, n := snd.snapshot(); return n == 1 })
	start := e.clk.Now()
	for i := 1; i <= 12; i++ {
		e.clk.Advance(2500 * time.Millisecond)
		want := start.Add(time.Duration(i) * 2500 * time.Millisecond).Add(10 * time.Second)
		e.waitFor("lease renewed", 0, func() bool { return !e.st.row(ids[0]).leaseUntil.Before(want) })
	}
	// 30s on the clock, three times the lease: still ours, one attempt.
	g.release()
	e.waitFor("delivered", 0, func() bool { return e.st.row(ids[0]).d.State == herald.StateSucceeded })
	if n := snd.sentTo("wh_a"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestHeldEntryDeletedOnlyForTheSameClaim(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 2 })
	e.st.addWebhook("wh_a", "p1", nil)
	mk := func(token string) *store.Claimed {
		return &store.Claimed{LeaseToken: token, Delivery: &herald.Delivery{ID: "dlv_x", WebhookID: "wh_a", Project: "p1", State: herald.StatePending},
			Event: &herald.Event{ID: "evt_x", Type: "t"}}
	}
	e.d.mu.Lock()
	e.d.stopping = true // nothing starts: this test looks at the bookkeeping only
	e.d.mu.Unlock()
	l := func() *lane { e.d.mu.Lock(); defer e.d.mu.Unlock(); return e.d.laneLocked("wh_a", "p1") }()
	old := &item{c: mk("t1"), lane: l}
	newer := &item{c: mk("t2"), lane: l}
	e.d.mu.Lock()
	e.d.held["dlv_x"] = old
	e.d.held["dlv_x"] = newer // claimed again after the lease was lost
	e.d.inMemory, l.p.inMemory = 2, 2
	e.d.mu.Unlock()
	e.d.unhold([]completion{{it: old, c: store.Completion{DeliveryID: "dlv_x", LeaseToken: "t1"}}})
	e.d.mu.Lock()
	got := e.d.held["dlv_x"]
	e.d.mu.Unlock()
	if got != newer {
		t.Fatal("the old claim's completion removed the newer claim's entry")
	}
	e.d.unhold([]completion{{it: newer, c: store.Completion{DeliveryID: "dlv_x", LeaseToken: "t2"}}})
	e.d.mu.Lock()
	defer e.d.mu.Unlock()
	if len(e.d.held) != 0 || e.d.inMemory != 0 {
		t.Fatalf("held %d, inMemory %d after both completions, want 0", len(e.d.held), e.d.inMemory)
	}
}

func TestPerWebhookAndPerProjectCaps(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 10; o.PerWebhook = 3; o.PerProject = 4 })
	for _, id := range []string{"wh_a1", "wh_a2", "wh_a3"} {
		e.st.addWebhook(id, "A", nil)
		e.st.addDeliveries(id, 20, e.clk.Now())
	}
	e.st.addWebhook("wh_b1", "B", nil)
	e.st.addDeliveries("wh_b1", 20, e.clk.Now())
	e.start()
	e.waitFor("A and B at their caps", 0, func() bool {
		m, n := snd.snapshot()
		return n == 7 && m["wh_b1"] == 3
	})
	snd.mu.Lock()
	maxA, maxHook := snd.maxProj["A"], 0
	for _, v := range snd.maxHook {
		maxHook = max(maxHook, v)
	}
	snd.mu.Unlock()
	if maxA > 4 || maxHook > 3 {
		t.Fatalf("max in flight: project A %d (cap 4), one webhook %d (cap 3)", maxA, maxHook)
	}
	g.release()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 80
	})
	snd.mu.Lock()
	defer snd.mu.Unlock()
	if snd.maxProj["A"] > 4 || snd.maxTotal > 10 {
		t.Fatalf("max in flight: project A %d (cap 4), total %d (cap 10)", snd.maxProj["A"], snd.maxTotal)
	}
}

func TestWorkersGoRoundRobinAcrossProjects(t *testing.T) {
	// Every request waits at the gate: BIG holds its one-request share while
	// the test looks, so what the engine does next does not depend on how
	// fast a busy machine runs it.
	g := newGate()
	snd := newFakeSender(g.send)
	// One request at a time per project: with two workers both projects
	// are served at once.
	e := newEnv(t, snd, func(o *Options) { o.Workers, o.PerProject = 2, 1 })
	e.st.addWebhook("wh_big", "BIG", nil)
	e.st.addWebhook("wh_small", "SMALL", nil)
	now := e.clk.Now()
	e.st.addDeliveries("wh_big", 100, now)
	e.st.addDeliveries("wh_small", 5, now) // created after BIG's 100: last in due order
	e.start()
	// SMALL's first request starts while BIG's first is still in flight:
	// it does not wait behind BIG's hundred (with one queue for everything
	// it would be request 101).
	e.waitFor("a request of each project in flight", 0, func() bool {
		m, n := snd.snapshot()
		return n == 2 && m["wh_big"] == 1 && m["wh_small"] == 1
	})
	g.release()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 105
	})
	snd.mu.Lock()
	defer snd.mu.Unlock()
	if snd.maxProj["BIG"] > 1 || snd.maxProj["SMALL"] > 1 || snd.maxTotal > 2 {
		t.Fatalf("max in flight: BIG %d, SMALL %d (cap 1 each), total %d (2 workers)", snd.maxProj["BIG"], snd.maxProj["SMALL"], snd.maxTotal)
	}
}

func TestHangingWebhooksHoldABoundedShareAndShrinkToOne(t *testing.T) {
	// EVIL's endpoints hang until the test lets them time out (status 0).
	var mu sync.Mutex
	timeoutCh := make(chan struct{})
	timeouts := map[string]int{}
	snd := newFakeSender(func(ctx context.Context, w *herald.Webhook, _ sender.Request) sender.Result {
		if w.Project != "EVIL" {
			return sender.Result{Outcome: sender.Success, StatusCode: 200}
		}
		mu.Lock()
		ch := timeoutCh
		mu.Unlock()
		select {
		case <-ch:
			mu.Lock()
			timeouts[w.ID]++
			mu.Unlock()
			return sender.Result{Outcome: sender.Retry, Err: "timeout after 5m0s"}
		case <-ctx.Done():
			return sender.Result{Outcome: sender.Retry, Err: "cancelled"}
		}
	})
	expire := func() {
		mu.Lock()
		close(timeoutCh)
		timeoutCh = make(chan struct{})
		mu.Unlock()
	}
	e := newEnv(t, snd, func(o *Options) {
		o.Workers, o.PerWebhook = 32, 8
		o.Policy = retry.Policy{Schedule: []time.Duration{0, time.Minute, time.Minute, time.Minute, time.Minute,
			time.Minute, time.Minute, time.Minute, time.Minute, time.Minute}, Jitter: -1}
	})
	var evil []string
	for i := range 20 {
		id := fmt.Sprintf("wh_evil%02d", i)
		evil = append(evil, id)
		e.st.addWebhook(id, "EVIL", nil)
		e.st.addDeliveries(id, 30, e.clk.Now())
	}
	e.st.addWebhook("wh_nice", "NICE", nil)
	e.start()
	evilInFlight := func() int {
		snd.mu.Lock()
		defer snd.mu.Unlock()
		return snd.byProj["EVIL"]
	}
	e.waitFor("EVIL at its project cap", 0, func() bool { return evilInFlight() == 16 })
	// NICE is served at once while EVIL holds its share.
	ids := e.st.addDeliveries("wh_nice", 10, e.clk.Now())
	e.waitFor("NICE delivered", 5*time.Millisecond, func() bool {
		for _, id := range ids {
			if e.st.row(id).d.State != herald.StateSucceeded {
				return false
			}
		}
		return true
	})
	// Round after round, EVIL's requests time out, until every EVIL webhook
	// has timed out three times in a row; one more round flushes requests
	// started before the last of those timeouts was seen.
	allDown := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range evil {
			if timeouts[id] < downToOne {
				return false
			}
		}
		return true
	}
	round := func() {
		e.waitFor("EVIL requests in flight", 5*time.Second, func() bool { return evilInFlight() > 0 })
		for range 10 {
			e.d.Wake()
			time.Sleep(time.Millisecond) // let more start, if the engine would
		}
		expire()
	}
	for !allDown() {
		round()
	}
	round()
	snd.mu.Lock()
	for _, id := range evil {
		snd.maxHook[id] = 0
	}
	snd.mu.Unlock()
	// From then on each EVIL webhook gets one request at a time.
	for range 5 {
		round()
	}
	snd.mu.Lock()
	defer snd.mu.Unlock()
	for _, id := range evil {
		if snd.maxHook[id] > 1 {
			t.Fatalf("%s: %d concurrent requests after repeated timeouts, want 1", id, snd.maxHook[id])
		}
	}
	if snd.maxProj["EVIL"] > 16 {
		t.Fatalf("EVIL had %d requests in flight, want at most PerProject (16)", snd.maxProj["EVIL"])
	}
}

func TestConcurrencyGrowsBackOnSuccess(t *testing.T) {
	tokens := make(chan struct{}, 100)
	snd := newFakeSender(func(ctx context.Context, _ *herald.Webhook, _ sender.Request) sender.Result {
		select {
		case <-tokens:
			return sender.Result{Outcome: sender.Success, StatusCode: 200}
		case <-ctx.Done():
			return sender.Result{Outcome: sender.Retry, Err: "cancelled"}
		}
	})
	e := newEnv(t, snd, func(o *Options) { o.Workers = 16; o.PerWebhook = 8 })
	e.st.addWebhook("wh_a", "p", nil)
	e.st.addDeliveries("wh_a", 50, e.clk.Now())
	// The webhook timed out three times in a row a moment ago.
	e.d.degraded["wh_a"] = laneHealth{limit: 1, fails: downToOne, at: e.clk.Now()}
	e.start()
	inflight := func() int { m, _ := snd.snapshot(); return m["wh_a"] }
	e.waitFor("one request", 0, func() bool { return inflight() == 1 })
	for range 20 {
		e.d.Wake()
		time.Sleep(time.Millisecond)
	}
	if n := inflight(); n != 1 {
		t.Fatalf("%d in flight for a webhook down to 1", n)
	}
	// Each success lets one more request run at once: 1, 2, 3, ...
	for want := 2; want <= 8; want++ {
		tokens <- struct{}{}
		e.waitFor("one more concurrent request", 5*time.Millisecond, func() bool { return inflight() == want })
	}
	tokens <- struct{}{}
	for range 20 {
		e.d.Wake()
		time.Sleep(time.Millisecond)
	}
	if n := inflight(); n != 8 {
		t.Fatalf("%d in flight, want PerWebhook (8) at most", n)
	}
	for range 50 {
		tokens <- struct{}{}
	}
}

func TestRateLimitBySchedulingNotSleeping(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 8 })
	e.st.addWebhook("wh_r", "p", func(w *herald.Webhook) { w.RateLimit = 2 })
	ids := e.st.addDeliveries("wh_r", 6, e.clk.Now())
	e.start()
	e.waitFor("the burst sent", 0, func() bool { return snd.sentTo("wh_r") == 2 })
	// The clock does not move: nothing more is sent, and no worker waits.
	for range 20 {
		e.d.Wake()
		time.Sleep(time.Millisecond)
	}
	if n := snd.sentTo("wh_r"); n != 2 {
		t.Fatalf("%d sent without the clock moving, want the burst of 2", n)
	}
	e.d.mu.Lock()
	inflight := e.d.inflight
	e.d.mu.Unlock()
	if inflight != 0 {
		t.Fatalf("%d workers busy while the webhook waits for its rate, want 0", inflight)
	}
	// Each 500ms on the clock lets one more through.
	for want := 3; want <= 6; want++ {
		e.clk.Advance(500 * time.Millisecond)
		e.waitFor("one more sent", 0, func() bool { return snd.sentTo("wh_r") >= want })
		if n := snd.sentTo("wh_r"); n != want {
			t.Fatalf("%d sent after %d half seconds, want %d", n, want-2, want)
		}
	}
	e.waitFor("all succeeded", 0, func() bool { return e.st.row(ids[5]).d.State == herald.StateSucceeded })
	for _, id := range ids {
		if r := e.st.row(id); len(r.attempts) != 1 {
			t.Fatalf("%s: %d attempts, want 1 (waiting for the rate is not an attempt)", id, len(r.attempts))
		}
	}
}

func TestStopHonoursTheDeadlineAndReleasesLeases(t *testing.T) {
	release := make(chan struct{})
	snd := newFakeSender(func(ctx context.Context, w *herald.Webhook, _ sender.Request) sender.Result {
		if w.ID != "wh_hang" {
			return sender.Result{Outcome: sender.Success, StatusCode: 200}
		}
		select { // hangs until cancelled
		case <-ctx.Done():
			return sender.Result{Outcome: sender.Retry, Err: "cancelled"}
		case <-release:
			return sender.Result{Outcome: sender.Success, StatusCode: 200}
		}
	})
	e := newEnv(t, snd, func(o *Options) { o.Workers = 4; o.PerWebhook = 2; o.PerProject = 4 })
	e.st.addWebhook("wh_fast", "p", nil)
	e.st.addWebhook("wh_hang", "p", nil)
	e.st.addWebhook("wh_rate", "p", func(w *herald.Webhook) { w.RateLimit = 1 })
	fast := e.st.addDeliveries("wh_fast", 3, e.clk.Now())
	hang := e.st.addDeliveries("wh_hang", 4, e.clk.Now())
	rated := e.st.addDeliveries("wh_rate", 3, e.clk.Now())
	e.start()
	e.waitFor("fast delivered, two hanging, rate burst used", 0, func() bool {
		m, _ := snd.snapshot()
		return e.st.row(fast[2]).d.State == herald.StateSucceeded && m["wh_hang"] == 2 && snd.sentTo("wh_rate") == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	e.d.Stop(ctx)
	took := time.Since(began)
	if took > 300*time.Millisecond+time.Second {
		t.Fatalf("Stop took %v with a 300ms deadline", took)
	}
	// One rate-limited row was sent (its burst) and is recorded; the others
	// waited for the rate and are released, like the hanging ones.
	sent := 0
	for _, id := range append(hang, rated...) {
		r := e.st.row(id)
		if r.d.WebhookID == "wh_rate" && r.d.State == herald.StateSucceeded && len(r.attempts) == 1 {
			sent++
			continue
		}
		if r.d.State != herald.StatePending || r.leaseToken != "" || len(r.attempts) != 0 {
			t.Fatalf("%s after Stop: state %s, lease %q, %d attempts; want pending, released, no attempt",
				id, r.d.State, r.leaseToken, len(r.attempts))
		}
	}
	if sent != 1 {
		t.Fatalf("%d rate-limited requests recorded, want the one that finished before the deadline", sent)
	}
	if n := counterValue(e.d.o.Metrics.Dropped); n != 0 {
		t.Fatalf("%v results dropped, want 0", n)
	}
	close(release)
}

func TestStopDoesNotWaitForASenderIgnoringCancellation(t *testing.T) {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	snd := newFakeSender(func(ctx context.Context, w *herald.Webhook, _ sender.Request) sender.Result {
		<-never
		return sender.Result{Outcome: sender.Success, StatusCode: 200}
	})
	e := newEnv(t, snd, func(o *Options) { o.Workers = 2; o.PerProject = 2 })
	e.st.addWebhook("wh_a", "p", nil)
	ids := e.st.addDeliveries("wh_a", 5, e.clk.Now())
	e.start()
	e.waitFor("two in flight", 0, func() bool { _, n := snd.snapshot(); return n == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	e.d.Stop(ctx)
	if took := time.Since(began); took > 200*time.Millisecond+time.Second {
		t.Fatalf("Stop took %v with a 200ms deadline", took)
	}
	for _, id := range ids {
		if r := e.st.row(id); r.leaseToken != "" || r.d.State != herald.StatePending {
			t.Fatalf("%s: lease %q state %s after Stop, want released and pending", id, r.leaseToken, r.d.State)
		}
	}
}

func TestStopWithoutDeadlineDrainsRequestsInFlight(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 2; o.PerProject = 2 })
	e.st.addWebhook("wh_a", "p", nil)
	ids := e.st.addDeliveries("wh_a", 2, e.clk.Now())
	e.start()
	e.waitFor("two in flight", 0, func() bool { _, n := snd.snapshot(); return n == 2 })
	done := make(chan struct{})
	go func() { e.d.Stop(context.Background()); close(done) }()
	select {
	case <-done:
		t.Fatal("Stop returned with requests in flight and no deadline")
	case <-time.After(50 * time.Millisecond):
	}
	g.release()
	<-done
	for _, id := range ids {
		if r := e.st.row(id); r.d.State != herald.StateSucceeded {
			t.Fatalf("%s: %s after a drain, want succeeded", id, r.d.State)
		}
	}
}

func TestResultsAreKeptWhileTheStoreFails(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 2; o.PerProject = 2 })
	e.st.addWebhook("wh_a", "p", nil)
	capacity := e.d.capacity()
	e.st.addDeliveries("wh_a", capacity+20, e.clk.Now())
	e.st.setFail(true)
	e.start()
	e.waitFor("capacity used", 0, func() bool { return snd.sentTo("wh_a") == capacity })
	// Far longer than the old 1.5s give-up, but leases renewed (renewal
	// works while recording fails in this part).
	e.st.mu.Lock()
	e.st.failAll = false
	e.st.failNext = 1 << 30
	e.st.mu.Unlock()
	for range 40 {
		e.clk.Advance(500 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	// Claiming stopped while the results wait: nothing more was sent.
	if n := snd.sentTo("wh_a"); n != capacity {
		t.Fatalf("%d requests while %d results wait for the store, want %d (claiming stops)", n, capacity, capacity)
	}
	e.st.mu.Lock()
	e.st.failNext = 0
	e.st.mu.Unlock()
	e.waitFor("every delivery succeeded", 100*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == capacity+20
	})
	if n := counterValue(e.d.o.Metrics.Dropped); n != 0 {
		t.Fatalf("%v results dropped, want 0", n)
	}
	if n := snd.sentTo("wh_a"); n != capacity+20 {
		t.Fatalf("%d requests for %d deliveries", n, capacity+20)
	}
}

func TestResultsWhoseLeaseRanOutAreDroppedAndCounted(t *testing.T) {
	snd := newFakeSender(nil)
	var expired atomic.Int64
	e := newEnv(t, snd, func(o *Options) {
		o.Workers = 2
		o.PerProject = 2
		o.LeasesExpired = func(n int) { expired.Add(int64(n)) }
	})
	e.st.addWebhook("wh_a", "p", nil)
	e.st.addDeliveries("wh_a", 3, e.clk.Now())
	e.st.setFail(true) // recording and renewal fail
	e.start()
	e.waitFor("requests made", 0, func() bool { return snd.sentTo("wh_a") == 3 })
	e.waitFor("results dropped after the lease ran out", 500*time.Millisecond, func() bool {
		return counterValue(e.d.o.Metrics.Dropped) >= 3
	})
	// The rows are claimed again (at least once) and recorded once the
	// store answers.
	e.st.setFail(false)
	e.waitFor("every delivery succeeded", 500*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 3
	})
	e.waitFor("nothing held", 0, func() bool {
		e.d.mu.Lock()
		defer e.d.mu.Unlock()
		return e.d.inMemory == 0 && len(e.d.held) == 0
	})
	// Every row was claimed again after its lease ran out, and said so.
	if n := expired.Load(); n < 3 {
		t.Fatalf("LeasesExpired reported %d rows, want at least 3", n)
	}
}

func TestFailOutcomeFailsWithoutRetry(t *testing.T) {
	snd := newFakeSender(func(context.Context, *herald.Webhook, sender.Request) sender.Result {
		return sender.Result{Outcome: sender.Fail, Err: "render payload: over budget"}
	})
	e := newEnv(t, snd, nil)
	e.st.addWebhook("wh_a", "p", nil)
	ids := e.st.addDeliveries("wh_a", 1, e.clk.Now())
	e.start()
	e.waitFor("failed", 0, func() bool { return e.st.row(ids[0]).d.State == herald.StateFailed })
	r := e.st.row(ids[0])
	if len(r.attempts) != 1 || !strings.Contains(r.d.LastError, "over budget") {
		t.Fatalf("attempts %d, last error %q; want 1 attempt and the reason", len(r.attempts), r.d.LastError)
	}
	if sender.Fail.String() != "fail" {
		t.Fatalf("Fail.String() = %q", sender.Fail.String())
	}
}

func TestGoneDisablesAndEmitsValidJSON(t *testing.T) {
	snd := newFakeSender(func(context.Context, *herald.Webhook, sender.Request) sender.Result {
		return sender.Result{Outcome: sender.Gone, StatusCode: 410}
	})
	e := newEnv(t, snd, nil)
	e.st.addWebhook("wh_a", "p", func(w *herald.Webhook) { w.Name = "tab\there \"quoted\" \x01\x1b[31m \xff\xfe" })
	e.st.addDeliveries("wh_a", 1, e.clk.Now())
	e.start()
	var ev *herald.Event
	select {
	case ev = <-e.emits:
	case <-time.After(20 * time.Second):
		t.Fatal("no herald.webhook.disabled event")
	}
	if ev.Type != herald.EventTypeWebhookDisabled || !json.Valid(ev.Data) {
		t.Fatalf("event %s with data %q: want valid JSON", ev.Type, ev.Data)
	}
	// The ingester accepts it (it refuses data that is not JSON).
	if err := ingest.Normalize(ev, "", time.Now()); err != nil {
		t.Fatalf("the ingester refuses the event: %v", err)
	}
}

func TestDisabledEventDataIsValidJSONForAnyReason(t *testing.T) {
	e := newEnv(t, newFakeSender(nil), nil)
	e.st.addWebhook("wh_a", "p", nil)
	reason := "bad \x00 nul, \x07 bell, \x1b[31m escape, \"quotes\", \\ and invalid \xff\xfe\xc3 utf-8, \u2028"
	e.d.disable(context.Background(), "wh_a", reason)
	ev := <-e.emits
	if !json.Valid(ev.Data) {
		t.Fatalf("data is not valid JSON: %q", ev.Data)
	}
	if err := ingest.Normalize(ev, "", time.Now()); err != nil {
		t.Fatalf("the ingester refuses the event: %v", err)
	}
	var got disabledData
	if err := json.Unmarshal(ev.Data, &got); err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(got.Reason) || !strings.Contains(got.Reason, "\x00 nul, \x07 bell, \x1b[31m escape") || got.WebhookID != "wh_a" {
		t.Fatalf("decoded %+v", got)
	}
	if e.st.disabled["wh_a"] != reason {
		t.Fatalf("store got reason %q", e.st.disabled["wh_a"])
	}
}

func TestDeletedAndDisabledWebhooksCancel(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, nil)
	e.st.addWebhook("wh_off", "p", func(w *herald.Webhook) { w.Enabled = false })
	e.st.addWebhook("wh_del", "p", nil)
	off := e.st.addDeliveries("wh_off", 1, e.clk.Now())
	del := e.st.addDeliveries("wh_del", 1, e.clk.Now())
	e.st.mu.Lock()
	delete(e.st.hooks, "wh_del")
	e.st.mu.Unlock()
	e.start()
	e.waitFor("cancelled", 0, func() bool {
		return e.st.row(off[0]).d.State == herald.StateCancelled && e.st.row(del[0]).d.State == herald.StateCancelled
	})
	if n := snd.sentTo("wh_off") + snd.sentTo("wh_del"); n != 0 {
		t.Fatalf("%d requests to disabled or deleted webhooks", n)
	}
}

func TestRetryingRowsAreClaimedWhenDue(t *testing.T) {
	var calls atomic.Int32
	snd := newFakeSender(func(context.Context, *herald.Webhook, sender.Request) sender.Result {
		if calls.Add(1) == 1 {
			return sender.Result{Outcome: sender.Retry, StatusCode: 503}
		}
		return sender.Result{Outcome: sender.Success, StatusCode: 200}
	})
	e := newEnv(t, snd, nil)
	e.st.addWebhook("wh_a", "p", nil)
	ids := e.st.addDeliveries("wh_a", 1, e.clk.Now())
	e.start()
	e.waitFor("retrying", 0, func() bool { return e.st.row(ids[0]).d.State == herald.StateRetrying })
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != 1 {
		t.Fatalf("%d attempts before the retry is due, want 1", calls.Load())
	}
	e.waitFor("succeeded on retry", 10*time.Second, func() bool { return e.st.row(ids[0]).d.State == herald.StateSucceeded })
	if r := e.st.row(ids[0]); len(r.attempts) != 2 || r.attempts[1].Number != 2 {
		t.Fatalf("attempts %d, want 2", len(r.attempts))
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestRowsWaitingForAStuckProjectAreReleased(t *testing.T) {
	g := newGate()
	snd := newFakeSender(g.send)
	e := newEnv(t, snd, func(o *Options) { o.Workers, o.PerProject = 4, 2 })
	e.st.addWebhook("wh_evil", "EVIL", nil)
	e.st.addDeliveries("wh_evil", 20, e.clk.Now())
	e.start()
	// Two in flight (the project's cap) and more waiting behind them.
	e.waitFor("EVIL at its cap with rows waiting", 0, func() bool {
		_, n := snd.snapshot()
		_, leased := e.st.count("", e.clk.Now())
		return n == 2 && leased > 2
	})
	// No request ends for a lease: the waiting rows are released, not
	// claimed again, and only the two in flight stay leased (and renewed).
	for range 6 {
		e.clk.Advance(2500 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	e.waitFor("waiting rows released", 0, func() bool {
		_, leased := e.st.count("", e.clk.Now())
		return leased == 2
	})
	for range 20 {
		e.d.Wake()
		time.Sleep(time.Millisecond)
	}
	if _, leased := e.st.count("", e.clk.Now()); leased != 2 {
		t.Fatalf("%d rows leased while the project is stuck, want the 2 in flight", leased)
	}
	if n, _ := e.st.count(herald.StatePending, e.clk.Now()); n != 20 {
		t.Fatalf("%d rows pending, want all 20 (released rows keep their state)", n)
	}
	// Once requests end, the rest is claimed and delivered.
	g.release()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 20
	})
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	for _, r := range e.st.rows {
		if len(r.attempts) != 1 {
			t.Fatalf("%s: %d attempts, want 1 (a release is no attempt)", r.d.ID, len(r.attempts))
		}
	}
}

// A result that comes while many requests are in flight waits for theirs:
// they are recorded in one transaction, not one by one.
func TestResultsWaitForTheOthersInFlight(t *testing.T) {
	first, rest := newGate(), newGate()
	var calls atomic.Int64
	snd := newFakeSender(func(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result {
		if calls.Add(1) == 1 {
			return first.send(ctx, w, req)
		}
		return rest.send(ctx, w, req)
	})
	e := newEnv(t, snd, func(o *Options) { o.Workers = 64; o.PerProject = 64; o.PerWebhook = 64 })
	e.d.completeTarget, e.d.completeLinger = 64, time.Minute
	e.st.addWebhook("wh_a", "p1", nil)
	e.st.addDeliveries("wh_a", 64, e.clk.Now())
	e.start()
	e.waitFor("64 requests in flight", 0, func() bool { _, n := snd.snapshot(); return n == 64 })
	first.release()
	e.waitFor("the first result taken by the recorder", 0, func() bool {
		_, n := snd.snapshot()
		e.d.rmu.Lock()
		defer e.d.rmu.Unlock()
		return n == 63 && len(e.d.results) == 0
	})
	rest.release()
	e.waitFor("every delivery succeeded", 0, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 64
	})
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	if len(e.st.completeCalls) != 1 || e.st.completeCalls[0] != 64 {
		t.Fatalf("results recorded in batches of %v, want one batch of 64", e.st.completeCalls)
	}
}

// A goroutine that has sent goes on with the next request rather than a new
// goroutine starting for each.
func TestSendGoroutinesGoOn(t *testing.T) {
	snd := newFakeSender(nil)
	e := newEnv(t, snd, func(o *Options) { o.Workers = 4; o.PerProject = 4 })
	e.st.addWebhook("wh_a", "p1", nil)
	e.st.addDeliveries("wh_a", 200, e.clk.Now())
	e.start()
	e.waitFor("every delivery succeeded", 5*time.Millisecond, func() bool {
		n, _ := e.st.count(herald.StateSucceeded, e.clk.Now())
		return n == 200
	})
	if n := snd.sentTo("wh_a"); n != 200 {
		t.Fatalf("%d requests for 200 deliveries", n)
	}
	// Each claim or handoff starts at most Workers goroutines; the sends
	// after the first of each go on in those.
	if n := e.d.spawned.Load(); n >= 100 {
		t.Fatalf("%d goroutines started for 200 sends with 4 workers, want far fewer", n)
	}
}
