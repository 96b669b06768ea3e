package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/retry"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/signing"
	"github.com/herald-hq/herald/internal/store"
)

// fakeClock is a manual clock: timers fire when Advance passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	if d <= 0 {
		go f()
		return func() bool { return false }
	}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock by d, firing due timers in time order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due, rest []*fakeTimer
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			due = append(due, t)
		default:
			rest = append(rest, t)
		}
	}
	c.timers = rest
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// fakeRow is a delivery row of the fake store.
type fakeRow struct {
	d          herald.Delivery
	seq        int
	leaseToken string
	leaseUntil time.Time
	attempts   []*herald.Attempt
}

// fakeStore implements Store in memory with the real stores' claim and
// fencing rules.
type fakeStore struct {
	mu       sync.Mutex
	rows     map[string]*fakeRow
	hooks    map[string]*herald.Webhook
	seq      int
	failNext int  // CompleteDeliveries calls to fail
	failAll  bool // CompleteDeliveries and ExtendLeases fail until cleared
	// observed
	completeCalls []int // batch sizes of successful calls
	claims        []store.ClaimParams
	extends       int
	disabled      map[string]string
	tests         int
}

var errStoreDown = errors.New("store down")

func newFakeStore() *fakeStore {
	return &fakeStore{rows: map[string]*fakeRow{}, hooks: map[string]*herald.Webhook{}, disabled: map[string]string{}}
}

func (s *fakeStore) addWebhook(id, project string, mod func(*herald.Webhook)) *herald.Webhook {
	w := &herald.Webhook{
		ID: id, Name: "hook " + id, Project: project, URL: "http://127.0.0.1:1/" + id, Enabled: true,
		SigningSecret: herald.Secret(signing.NewSecret()), RetryClientErrors: true, StandardHeaders: true,
	}
	if mod != nil {
		mod(w)
	}
	s.mu.Lock()
	s.hooks[id] = w
	s.mu.Unlock()
	return w
}

// addDeliveries adds n pending deliveries to webhook id, due at due.
func (s *fakeStore) addDeliveries(webhookID string, n int, due time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.hooks[webhookID]
	var ids []string
	for range n {
		s.seq++
		id := fmt.Sprintf("dlv_%s_%05d", webhookID, s.seq)
		s.rows[id] = &fakeRow{seq: s.seq, d: herald.Delivery{
			ID: id, EventID: "evt_" + id, WebhookID: webhookID, Project: w.Project, EventType: "test.event",
			State: herald.StatePending, NextAttemptAt: due, CreatedAt: due,
		}}
		ids = append(ids, id)
	}
	return ids
}

func (s *fakeStore) row(id string) fakeRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := *s.rows[id]
	r.attempts = append([]*herald.Attempt(nil), r.attempts...)
	return r
}

// count returns how many rows are in state st (any state if ""), and how
// many of them are leased at now.
func (s *fakeStore) count(st herald.State, now time.Time) (n, leased int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rows {
		if st != "" && r.d.State != st {
			continue
		}
		n++
		if r.leaseToken != "" && r.leaseUntil.After(now) {
			leased++
		}
	}
	return n, leased
}

func (s *fakeStore) setFail(all bool) {
	s.mu.Lock()
	s.failAll = all
	s.mu.Unlock()
}

func (s *fakeStore) ClaimDeliveries(_ context.Context, p store.ClaimParams) ([]*store.Claimed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = append(s.claims, p)
	ex := map[string]bool{}
	for _, id := range p.ExcludeWebhooks {
		ex[id] = true
	}
	var due []*fakeRow
	for _, r := range s.rows {
		if (r.d.State != herald.StatePending && r.d.State != herald.StateRetrying) || r.d.NextAttemptAt.After(p.Now) ||
			(r.leaseToken != "" && r.leaseUntil.After(p.Now)) || ex[r.d.WebhookID] {
			continue
		}
		due = append(due, r)
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].d.NextAttemptAt.Equal(due[j].d.NextAttemptAt) {
			return due[i].d.NextAttemptAt.Before(due[j].d.NextAttemptAt)
		}
		return due[i].seq < due[j].seq
	})
	if len(due) > p.Limit {
		due = due[:p.Limit]
	}
	out := make([]*store.Claimed, len(due))
	for i, r := range due {
		expired := r.leaseToken != "" // due while leased: its lease ran out
		r.leaseToken, r.leaseUntil = p.LeaseToken, p.Now.Add(p.LeaseFor)
		d := r.d
		out[i] = &store.Claimed{Delivery: &d, LeaseToken: p.LeaseToken, LeaseExpired: expired,
			Event: &herald.Event{ID: d.EventID, Type: d.EventType, Project: d.Project, Source: "test",
				Severity: herald.SeverityInfo, Data: []byte(`{"n":1}`), OccurredAt: d.CreatedAt, ReceivedAt: d.CreatedAt}}
	}
	return out, nil
}

func (s *fakeStore) CompleteDeliveries(_ context.Context, cs []store.Completion) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll || s.failNext > 0 {
		s.failNext = max(0, s.failNext-1)
		return nil, errStoreDown
	}
	s.completeCalls = append(s.completeCalls, len(cs))
	applied := make([]bool, len(cs))
	for i, c := range cs {
		r := s.rows[c.DeliveryID]
		if r == nil || r.leaseToken != c.LeaseToken {
			continue
		}
		applied[i] = true
		r.leaseToken, r.leaseUntil = "", time.Time{}
		r.d.State, r.d.LastError = c.State, c.Error
		if c.State == herald.StatePending || c.State == herald.StateRetrying {
			r.d.NextAttemptAt = c.NextAttemptAt
		}
		if c.Attempt != nil {
			r.d.Attempts++
			r.attempts = append(r.attempts, c.Attempt)
			if c.Attempt.Error != "" {
				r.d.LastError = c.Attempt.Error
			}
		}
	}
	return applied, nil
}

func (s *fakeStore) ExtendLeases(_ context.Context, token string, ids []string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll {
		return errStoreDown
	}
	s.extends++
	for _, id := range ids {
		if r := s.rows[id]; r != nil && r.leaseToken == token {
			r.leaseUntil = until
		}
	}
	return nil
}

func (s *fakeStore) NextDue(context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	ok := false
	for _, r := range s.rows {
		if r.d.State != herald.StatePending && r.d.State != herald.StateRetrying {
			continue
		}
		at := r.d.NextAttemptAt
		if r.leaseToken != "" && r.leaseUntil.After(at) {
			at = r.leaseUntil
		}
		if !ok || at.Before(next) {
			next, ok = at, true
		}
	}
	return next, ok, nil
}

func (s *fakeStore) GetWebhook(_ context.Context, id string) (*herald.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.hooks[id]
	if w == nil {
		return nil, herald.NotFound("webhook")
	}
	c := *w
	return &c, nil
}

func (s *fakeStore) ListWebhooks(context.Context, store.WebhookFilter) ([]*herald.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*herald.Webhook
	for _, w := range s.hooks {
		c := *w
		out = append(out, &c)
	}
	return out, nil
}

func (s *fakeStore) DisableWebhook(_ context.Context, id, reason string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.hooks[id]; w != nil {
		w.Enabled, w.DisabledReason = false, reason
	}
	s.disabled[id] = reason
	return nil
}

func (s *fakeStore) RecordTest(context.Context, *herald.Event, *herald.Delivery, *herald.Attempt) error {
	s.mu.Lock()
	s.tests++
	s.mu.Unlock()
	return nil
}

// fakeSender answers with fn (success when nil) and tracks concurrency per
// webhook and per project.
type fakeSender struct {
	fn func(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result

	mu       sync.Mutex
	inflight map[string]int // by webhook
	byProj   map[string]int
	maxHook  map[string]int
	maxProj  map[string]int
	total    int
	maxTotal int
	order    []string // webhook IDs in start order
	sent     map[string]int
}

func newFakeSender(fn func(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result) *fakeSender {
	return &fakeSender{fn: fn, inflight: map[string]int{}, byProj: map[string]int{}, maxHook: map[string]int{},
		maxProj: map[string]int{}, sent: map[string]int{}}
}

func (f *fakeSender) Send(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result {
	f.mu.Lock()
	f.inflight[w.ID]++
	f.byProj[w.Project]++
	f.total++
	f.maxHook[w.ID] = max(f.maxHook[w.ID], f.inflight[w.ID])
	f.maxProj[w.Project] = max(f.maxProj[w.Project], f.byProj[w.Project])
	f.maxTotal = max(f.maxTotal, f.total)
	f.order = append(f.order, w.ID)
	f.sent[w.ID]++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight[w.ID]--
		f.byProj[w.Project]--
		f.total--
		f.mu.Unlock()
	}()
	if f.fn == nil {
		return sender.Result{Outcome: sender.Success, StatusCode: 200}
	}
	return f.fn(ctx, w, req)
}

func (f *fakeSender) snapshot() (inflight map[string]int, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for k, v := range f.inflight {
		m[k] = v
	}
	return m, f.total
}

func (f *fakeSender) sentTo(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[id]
}

// env is a dispatcher on a fake store, sender and clock.
type env struct {
	t     *testing.T
	st    *fakeStore
	snd   *fakeSender
	clk   *fakeClock
	d     *Dispatcher
	ctx   context.Context
	stop  context.CancelFunc
	emits chan *herald.Event
}

func newEnv(t *testing.T, snd *fakeSender, mod func(*Options)) *env {
	t.Helper()
	e := &env{t: t, st: newFakeStore(), snd: snd, clk: newFakeClock(), emits: make(chan *herald.Event, 16)}
	o := Options{
		Store: e.st, Sender: snd, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Policy: retry.Policy{Schedule: []time.Duration{0, time.Minute, time.Minute}, Jitter: -1},
		Now:    e.clk.Now, AfterFunc: e.clk.AfterFunc, NodeID: "node1",
		Emit: func(_ context.Context, ev *herald.Event) error {
			e.emits <- ev
			return nil
		},
	}
	if mod != nil {
		mod(&o)
	}
	e.d = New(o)
	return e
}

func (e *env) start() {
	e.ctx, e.stop = context.WithCancel(context.Background())
	e.d.Start(e.ctx)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		e.d.Stop(ctx)
	})
}

// waitFor polls cond until it holds or the deadline passes. While waiting it
// nudges the engine (Wake), and advances the fake clock by step if step > 0.
func (e *env) waitFor(what string, step time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		e.d.Wake()
		if step > 0 {
			e.clk.Advance(step)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
