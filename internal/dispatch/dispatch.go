// Package dispatch is the delivery engine: it claims due deliveries from the
// store with a lease, sends them through the sender with bounded concurrency
// (globally and per webhook), and records each attempt and the next state in
// batches, fenced by the lease token.
//
// Retries are rows, not loops: a failed attempt writes next_attempt_at and the
// row is claimed again when due. A node that dies mid-request loses nothing;
// its leases expire and the rows are claimed again (at least once).
package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/retry"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/store"
)

// Sender sends one request; *sender.Sender implements it.
type Sender interface {
	Send(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result
}

// Options configure a Dispatcher.
type Options struct {
	Store  store.Store
	Sender Sender
	Policy retry.Policy
	Logger *slog.Logger
	// NodeID is this node's identity, the prefix of its lease tokens
	// (NodeID + "-" + sequence), so a restarted node and the other nodes can
	// release its leases (store.ReleaseLeases). Defaults to a random value.
	NodeID string
	// Workers bounds concurrent requests. Defaults to 256.
	Workers int
	// PerWebhook caps concurrent requests to one webhook. Defaults to 64.
	PerWebhook int
	// Lease is how long claimed rows stay reserved. Defaults to 2m; it is
	// extended while a row waits or is in flight, so it only matters when this
	// node dies.
	Lease time.Duration
	// ClaimBatch is the most rows claimed at once. Defaults to 512.
	ClaimBatch int
	// PollEvery bounds the sleep between claims when nothing wakes the
	// dispatcher (other nodes' work, expired leases). Defaults to 1s.
	PollEvery time.Duration
	// DisableAfter disables a webhook failing without success this long.
	// Defaults to 120h.
	DisableAfter time.Duration
	// Emit ingests an event Herald raises itself (herald.webhook.disabled).
	Emit func(ctx context.Context, ev *herald.Event) error
	// OnWebhookChange is called after the engine disables a webhook.
	OnWebhookChange func(id string)
	Metrics         *Metrics
	Now             func() time.Time
}

// Dispatcher is the delivery engine of one node.
type Dispatcher struct {
	o      Options
	node   string
	seq    atomic.Uint64
	wakeCh chan struct{}
	ready  chan *item
	doneCh chan completion

	hooks *webhookCache

	mu       sync.Mutex
	lanes    map[string]*lane
	held     map[string]*item // claimed and not yet completed, by delivery ID
	inMemory int
	// waiting are lanes with queued items that found the ready channel full,
	// oldest first: a finishing worker pumps them, not every lane.
	waiting []*lane
	// readyClosed is set once the workers are told to finish; nothing is
	// pumped to them after that.
	readyClosed bool

	wg      sync.WaitGroup
	cancel  context.CancelFunc
	sendCtx context.Context
}

type item struct {
	c    *store.Claimed
	lane *lane
}

type lane struct {
	id       string
	queue    []*item
	inflight int // items in the ready channel or being sent
	// waiting is set while the lane is in Dispatcher.waiting.
	waiting bool
	// cap is the webhook's concurrency cap: Options.PerWebhook, lowered for a
	// rate-limited webhook so waiting for its rate does not hold many workers.
	cap int
}

type completion struct {
	c    store.Completion
	it   *item
	gone bool
}

// New returns a Dispatcher; Start runs it.
func New(o Options) *Dispatcher {
	if o.Workers <= 0 {
		o.Workers = 256
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = 64
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 512
	}
	if o.PollEvery <= 0 {
		o.PollEvery = time.Second
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 120 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	node := o.NodeID
	if node == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		node = hex.EncodeToString(b[:])
	}
	return &Dispatcher{
		o:      o,
		node:   node,
		wakeCh: make(chan struct{}, 1),
		ready:  make(chan *item, o.Workers),
		doneCh: make(chan completion, o.Workers*2),
		hooks:  newWebhookCache(o.Store, 2*time.Second),
		lanes:  map[string]*lane{},
		held:   map[string]*item{},
	}
}

// capacity is how many claimed rows the node keeps in memory at most: enough
// to keep every worker busy while the next batch is claimed.
func (d *Dispatcher) capacity() int { return d.o.Workers * 4 }

// Start runs the engine until Stop. It returns at once.
func (d *Dispatcher) Start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(ctx)
	// Requests in flight get their own context: Stop lets them finish (drain)
	// instead of cutting them off.
	d.sendCtx = context.WithoutCancel(ctx)
	var workers sync.WaitGroup
	for i := 0; i < d.o.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d.worker()
		}()
	}
	d.wg.Add(4)
	go func() { defer d.wg.Done(); d.claimLoop(ctx) }()
	go func() { defer d.wg.Done(); d.extendLoop(ctx) }()
	go func() { defer d.wg.Done(); d.healthLoop(ctx) }()
	go func() {
		defer d.wg.Done()
		// The completer outlives the workers so that every in-flight result is
		// recorded before Stop returns.
		d.completeLoop()
	}()
	go func() {
		<-ctx.Done()
		// Rows claimed but not handed to a worker are released at once (not
		// left to expire), so a restarted or other node picks them up quickly;
		// rows with a worker are sent and recorded (drain).
		d.mu.Lock()
		d.readyClosed = true
		close(d.ready)
		var release []*item
		for _, l := range d.lanes {
			release = append(release, l.queue...)
			l.queue = nil
		}
		d.mu.Unlock()
		for _, it := range release {
			dl := it.c.Delivery
			d.doneCh <- completion{it: it, c: store.Completion{
				DeliveryID: dl.ID, WebhookID: dl.WebhookID, LeaseToken: it.c.LeaseToken,
				State: dl.State, NextAttemptAt: dl.NextAttemptAt, Error: dl.LastError, Now: d.o.Now().UTC(),
			}}
		}
		workers.Wait()
		close(d.doneCh)
	}()
}

// Stop stops claiming, lets requests in flight finish and records them, and
// returns. Rows claimed but not yet sent keep their lease until it expires,
// then any node (this one after restart) claims them again.
func (d *Dispatcher) Stop() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

// Wake tells the engine there may be new due work.
func (d *Dispatcher) Wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// InvalidateWebhook drops a cached webhook after a change on this node.
func (d *Dispatcher) InvalidateWebhook(id string) { d.hooks.invalidate(id) }

func (d *Dispatcher) newToken() string {
	return d.node + "-" + strconv.FormatUint(d.seq.Add(1), 36)
}

// Offer implements ingest.Handoff.
func (d *Dispatcher) Offer() (string, time.Duration, int) {
	d.mu.Lock()
	free := d.capacity() - d.inMemory
	d.mu.Unlock()
	if free <= 0 || d.sendCtx == nil {
		return "", 0, 0
	}
	return d.newToken(), d.o.Lease, free
}

// Take implements ingest.Handoff.
func (d *Dispatcher) Take(_ string, claimed []*store.Claimed) {
	if len(claimed) == 0 {
		return
	}
	d.enqueue(claimed)
}

func (d *Dispatcher) claimLoop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wakeCh:
		case <-timer.C:
		}
		full, n := d.claimOnce(ctx)
		if full {
			// There may be more due work: claim again as soon as there is room.
			resetTimer(timer, 0)
			if d.free() <= 0 {
				resetTimer(timer, 20*time.Millisecond)
			}
			continue
		}
		wait := d.o.PollEvery
		if next, ok, err := d.o.Store.NextDue(ctx); err == nil && ok {
			if w := time.Until(next); w < wait {
				wait = max(w, 0)
			}
		}
		if n == 0 {
			// Due rows that the claim did not take (an ordered webhook's
			// waiting deliveries, excluded webhooks, another node's race)
			// must not make this loop spin.
			wait = max(wait, minIdleWait)
		}
		resetTimer(timer, wait)
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	t.Reset(d)
}

func (d *Dispatcher) free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.capacity() - d.inMemory
}

// minIdleWait is the least the claim loop sleeps after a claim that found
// nothing, whatever NextDue says.
const minIdleWait = 50 * time.Millisecond

// claimOnce claims what fits in memory; it reports whether it got a full
// batch, and how many rows.
func (d *Dispatcher) claimOnce(ctx context.Context) (bool, int) {
	d.mu.Lock()
	free := d.capacity() - d.inMemory
	var exclude []string
	for id, l := range d.lanes {
		if len(l.queue) >= d.o.PerWebhook {
			exclude = append(exclude, id)
		}
	}
	d.mu.Unlock()
	if free <= 0 {
		return true, 0
	}
	limit := min(free, d.o.ClaimBatch)
	claimed, err := d.o.Store.ClaimDeliveries(ctx, store.ClaimParams{
		Now: d.o.Now().UTC(), Limit: limit, LeaseToken: d.newToken(), LeaseFor: d.o.Lease,
		ExcludeWebhooks: exclude,
	})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("claim deliveries", "err", err)
		}
		return false, 0
	}
	d.enqueue(claimed)
	return len(claimed) == limit, len(claimed)
}

func (d *Dispatcher) enqueue(claimed []*store.Claimed) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claimed {
		l := d.lanes[c.Delivery.WebhookID]
		if l == nil {
			l = &lane{id: c.Delivery.WebhookID, cap: d.o.PerWebhook}
			d.lanes[l.id] = l
		}
		it := &item{c: c, lane: l}
		d.held[c.Delivery.ID] = it
		d.inMemory++
		l.queue = append(l.queue, it)
		d.pumpLocked(l)
	}
}

// pumpLocked moves items of lane l to the workers while the lane is under its
// cap. The ready channel has room for every worker, and the in-memory
// capacity bounds the rest, so the send never blocks for long.
func (d *Dispatcher) pumpLocked(l *lane) {
	if d.readyClosed {
		return
	}
	for len(l.queue) > 0 && l.inflight < l.cap {
		select {
		case d.ready <- l.queue[0]:
		default:
			// Workers are all busy: the lane waits in line, and a finishing
			// worker pumps it again.
			if !l.waiting {
				l.waiting = true
				d.waiting = append(d.waiting, l)
			}
			return
		}
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.inflight++
	}
}

func (d *Dispatcher) setLaneCap(l *lane, n int) {
	d.mu.Lock()
	l.cap = n
	d.mu.Unlock()
}

func (d *Dispatcher) worker() {
	for it := range d.ready {
		c := d.send(it)
		d.mu.Lock()
		it.lane.inflight--
		// A worker is free: lanes that found every worker busy go first, in
		// the order they started waiting, so a busy webhook cannot keep the
		// freed slots to itself; then this lane (which queues up behind them
		// if there is no room left).
		for len(d.waiting) > 0 && len(d.ready) < cap(d.ready) {
			l := d.waiting[0]
			d.waiting[0] = nil
			d.waiting = d.waiting[1:]
			l.waiting = false
			d.pumpLocked(l)
		}
		d.pumpLocked(it.lane)
		if it.lane.inflight == 0 && len(it.lane.queue) == 0 {
			delete(d.lanes, it.lane.id)
		}
		d.mu.Unlock()
		d.doneCh <- c
	}
}
