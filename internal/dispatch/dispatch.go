// Package dispatch is the delivery engine: it claims due deliveries from the
// store with a short lease, sends them through the sender with bounded
// concurrency (globally, per project and per webhook), and records each
// attempt and the next state in batches, fenced by the lease token.
//
// Retries are rows, not loops: a failed attempt writes next_attempt_at and the
// row is claimed again when due. A node that dies mid-request loses nothing;
// its leases expire and the rows are claimed again (at least once).
//
// Fair share: workers are handed out round robin across projects, then
// across the webhooks (lanes) of a project; a project holds at most
// PerProject requests in flight, and each webhook's concurrency adapts
// (AIMD): it halves on every timeout or connection error, drops to 1 after
// three in a row and grows by one on each success, up to PerWebhook. So
// endpoints that hang hold a bounded share of the workers and a healthy
// webhook of another project is never queued behind them.
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

	"golang.org/x/time/rate"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/retry"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/store"
)

// Sender sends one request; *sender.Sender implements it.
type Sender interface {
	Send(ctx context.Context, w *herald.Webhook, req sender.Request) sender.Result
}

// Store is what the engine needs of the store; every store.Store implements
// it.
type Store interface {
	ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Claimed, error)
	CompleteDeliveries(ctx context.Context, cs []store.Completion) ([]bool, error)
	ExtendLeases(ctx context.Context, token string, ids []string, until time.Time) error
	NextDue(ctx context.Context) (time.Time, bool, error)
	GetWebhook(ctx context.Context, id string) (*herald.Webhook, error)
	ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*herald.Webhook, error)
	DisableWebhook(ctx context.Context, id, reason string, now time.Time) error
	RecordTest(ctx context.Context, ev *herald.Event, d *herald.Delivery, a *herald.Attempt) error
}

var _ Store = store.Store(nil)

// Options configure a Dispatcher.
type Options struct {
	// LeasesExpired, if set, is told how many claimed rows were still
	// leased: their lease ran out without a result (store.Claimed.LeaseExpired).
	LeasesExpired func(n int)
	Store         Store
	Sender        Sender
	Policy        retry.Policy
	Logger        *slog.Logger
	// NodeID is this node's identity, the prefix of its lease tokens
	// (NodeID + "-" + sequence), so a restarted node and the other nodes can
	// release its leases (store.ReleaseLeases). Defaults to a random value.
	NodeID string
	// Workers bounds concurrent requests. Defaults to 256.
	Workers int
	// PerWebhook caps concurrent requests to one webhook. Defaults to 64.
	// A webhook whose requests time out or fail to connect gets less (down
	// to 1) until it answers again.
	PerWebhook int
	// PerProject caps concurrent requests to the webhooks of one project
	// (platform webhooks count as one project). Defaults to Workers/2, so
	// one project can never hold every worker.
	PerProject int
	// Lease is how long claimed rows stay reserved. Defaults to 10s; it is
	// renewed every Lease/4 while a row waits, is in flight or its result
	// waits to be recorded, so it only matters when this node dies.
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
	// Now and AfterFunc are the engine's clock (time.Now and time.AfterFunc
	// by default); AfterFunc returns the timer's Stop.
	Now       func() time.Time
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Dispatcher is the delivery engine of one node.
type Dispatcher struct {
	o       Options
	node    string
	seq     atomic.Uint64
	wakeCh  chan struct{}
	hooks   *webhookCache
	renders renderCache
	projMem int // rows one project may hold in memory
	// completeTarget and completeLinger: how a small batch of results waits
	// for more (complete.go).
	completeTarget int
	completeLinger time.Duration
	// spawned counts the goroutines started to send (startLocked).
	spawned atomic.Int64

	mu       sync.Mutex
	lanes    map[string]*lane
	projects map[string]*project
	ring     []*project       // projects with a lane that can start, round robin
	held     map[string]*item // claimed and not yet recorded, by delivery ID (latest claim)
	running  map[*item]struct{}
	inMemory int // claimed rows not yet recorded (queued, in flight, result waiting)
	inflight int
	// degraded remembers the adaptive limit of webhooks without a lane.
	degraded map[string]laneHealth
	stopping bool
	// behind is set while due rows wait in the store that this node could
	// not claim yet (a full claim, or webhooks left out with rows due):
	// ingest then hands over at most half the free room (see Offer).
	behind bool

	rmu          sync.Mutex
	results      []completion
	resultCh     chan struct{}
	recorderGone bool

	started       bool
	cancel        context.CancelFunc
	sendCtx       context.Context
	sendCancel    context.CancelFunc
	recordCtx     context.Context
	recordCancel  context.CancelFunc
	sends         sync.WaitGroup
	loops         sync.WaitGroup
	beginOnce     sync.Once
	stopOnce      sync.Once
	sendsDone     chan struct{} // closed once no send will report a result
	giveUp        chan struct{} // closed after the stop deadline: drop what is not recorded
	abandoned     chan struct{} // closed when sends ignoring cancellation are given up on
	completerDone chan struct{}
	extendStop    chan struct{}
}

type item struct {
	c          *store.Claimed
	lane       *lane
	leaseUntil time.Time
	// reservedOn is the limiter a token was reserved on before the start.
	reservedOn *rate.Limiter
	// abandoned: Stop released the row while the send was still running;
	// its result is ignored.
	abandoned bool
}

type lane struct {
	id       string
	p        *project
	queue    []*item
	inflight int
	inRing   bool
	deferred bool // waiting for a rate-limit token
	laneHealth
	// limiter and rateCap are the webhook's rate_limit, learnt at its first
	// send (nil, 0 without).
	limiter *rate.Limiter
	rateCap int
}

// laneHealth is a webhook's adaptive concurrency.
type laneHealth struct {
	limit int // concurrent requests allowed now, 1..PerWebhook
	fails int // consecutive timeouts or connection errors
	at    time.Time
}

type project struct {
	name     string
	lanes    map[string]*lane
	ring     []*lane // lanes that can start, round robin
	inRing   bool
	inflight int
	inMemory int
	// lastDone is when a request of the project last ended (or the project
	// appeared): a project at its cap with none ending for a lease is stuck.
	lastDone time.Time
}

type completion struct {
	c    store.Completion
	it   *item
	gone bool
	// release: no attempt was made; the row keeps its state (lease cleared).
	release bool
}

// AIMD signals of one attempt.
const (
	sigNone = iota
	sigUp
	sigDown
)

// downToOne is how many timeouts or connection errors in a row bring a
// webhook's concurrency down to 1.
const downToOne = 3

// New returns a Dispatcher; Start runs it.
func New(o Options) *Dispatcher {
	if o.Workers <= 0 {
		o.Workers = 256
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = 64
	}
	if o.PerProject <= 0 {
		o.PerProject = max(1, o.Workers/2)
	}
	o.PerProject = min(o.PerProject, o.Workers)
	if o.Lease <= 0 {
		o.Lease = 10 * time.Second
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
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
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
	d := &Dispatcher{
		o:             o,
		node:          node,
		wakeCh:        make(chan struct{}, 1),
		lanes:         map[string]*lane{},
		projects:      map[string]*project{},
		held:          map[string]*item{},
		running:       map[*item]struct{}{},
		degraded:      map[string]laneHealth{},
		resultCh:      make(chan struct{}, 1),
		sendsDone:     make(chan struct{}),
		giveUp:        make(chan struct{}),
		abandoned:     make(chan struct{}),
		completerDone: make(chan struct{}),
		extendStop:    make(chan struct{}),

		completeTarget: completeTarget,
		completeLinger: completeLinger,
	}
	d.hooks = newWebhookCache(o.Store, 2*time.Second, o.Now)
	// A project may hold rows for its share in flight plus a queue as long
	// as the workers, always leaving the other projects room for the rest of
	// the workers.
	d.projMem = d.capacity() - (o.Workers - o.PerProject)
	return d
}

// capacity is how many claimed rows the node keeps in memory at most:
// sixteen per worker (4,096 at the default 256). Most of that room is for the
// ingest handoff: a new delivery taken straight from the ingest transaction
// is leased there, while one that finds the node full waits in the store and
// costs a claim later (the lease UPDATE and reading its event back). With
// three per worker, a run of `herald bench --events 20000 --webhooks 10`
// claimed 173,000 of its 200,000 deliveries and released 71,000 claimed or
// handed-off rows again; with sixteen it claims about 6,000, releases none,
// and Herald spends about 12% less CPU per delivery. Claims still take at
// most ClaimBatch at once and no more than each webhook can start soon
// (allowedQueueLocked), so the extra room fills only from new events, and
// waiting rows renew their leases every Lease/4 (ExtendLeases, about 1% of
// CPU in that run). The memory is bounded: a row is a few hundred bytes and
// shares its event with the other deliveries of that event.
func (d *Dispatcher) capacity() int { return d.o.Workers * 16 }

// Start runs the engine until Stop. It returns at once. Cancelling ctx stops
// claiming and releases the rows not yet sent; Stop finishes the shutdown.
func (d *Dispatcher) Start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(ctx)
	// Requests in flight and recording get their own contexts: Stop lets
	// them finish (drain) until its deadline instead of cutting them off.
	d.sendCtx, d.sendCancel = context.WithCancel(context.WithoutCancel(ctx))
	d.recordCtx, d.recordCancel = context.WithCancel(context.WithoutCancel(ctx))
	d.mu.Lock()
	d.started = true
	d.mu.Unlock()
	d.loops.Add(4)
	go func() { defer d.loops.Done(); d.claimLoop(ctx) }()
	go func() { defer d.loops.Done(); d.extendLoop() }()
	go func() { defer d.loops.Done(); d.healthLoop(ctx) }()
	go func() {
		defer d.loops.Done()
		<-ctx.Done()
		d.beginStop()
	}()
	go d.completeLoop()
}

// beginStop stops starting requests and releases every row not yet sent at
// once (not left to expire), so a restarted or other node picks them up.
func (d *Dispatcher) beginStop() {
	d.beginOnce.Do(func() {
		d.mu.Lock()
		d.stopping = true
		var release []*item
		for _, l := range d.lanes {
			release = append(release, l.queue...)
			l.queue = nil
		}
		d.ring = nil
		for _, p := range d.projects {
			p.ring, p.inRing = nil, false
		}
		for _, l := range d.lanes {
			l.inRing = false
		}
		d.mu.Unlock()
		d.releaseAll(release)
	})
}

// Stop stops claiming and releases the rows not yet sent; requests in flight
// may finish until ctx's deadline and are recorded. At the deadline the
// requests still in flight are cancelled and their rows released (state
// unchanged, no attempt counted); what the store has not recorded shortly
// after the deadline is dropped and counted in herald_results_dropped_total.
// Stop returns within about a second of the deadline.
func (d *Dispatcher) Stop(ctx context.Context) {
	d.stopOnce.Do(func() { d.stop(ctx) })
}

// Grace periods after the stop deadline: sends that ignore cancellation are
// given up on (rows released) after abandonAfter, results still unrecorded
// are dropped after giveUpAfter.
const (
	abandonAfter = 300 * time.Millisecond
	giveUpAfter  = 800 * time.Millisecond
)

func (d *Dispatcher) stop(ctx context.Context) {
	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	if !started {
		return
	}
	d.cancel()
	d.beginStop()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		d.sendCancel()
		select {
		case <-time.After(abandonAfter):
		case <-finished:
			return
		}
		d.abandonRunning()
		select {
		case <-time.After(giveUpAfter - abandonAfter):
		case <-finished:
			return
		}
		close(d.giveUp)
		d.recordCancel()
	}()
	sendsFinished := make(chan struct{})
	go func() { d.sends.Wait(); close(sendsFinished) }()
	select {
	case <-sendsFinished:
	case <-d.abandoned:
	}
	close(d.sendsDone)
	d.signalResults()
	<-d.completerDone
	close(d.extendStop)
	d.loops.Wait()
	d.sendCancel()
	d.recordCancel()
}

// abandonRunning releases the rows of sends that did not return after being
// cancelled; their results, if they ever come, are ignored.
func (d *Dispatcher) abandonRunning() {
	d.mu.Lock()
	var release []*item
	for it := range d.running {
		it.abandoned = true
		release = append(release, it)
	}
	d.running = map[*item]struct{}{}
	d.mu.Unlock()
	d.releaseAll(release)
	close(d.abandoned)
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

// handoffFloor is the fewest new rows Offer takes while there is room at
// all, so that a project holding its whole share does not make other
// projects' new rows wait for the claim loop.
const handoffFloor = 16

// Offer implements ingest.Handoff. It offers no more than the fullest
// project still has room for (but at least handoffFloor), so that a handoff
// seldom needs releasing: the new rows may all be that project's, and the
// claim loop, which leaves its webhooks out, takes the rest.
func (d *Dispatcher) Offer() (string, time.Duration, int) {
	d.mu.Lock()
	room := d.projMem
	for _, p := range d.projects {
		room = min(room, d.projMem-p.inMemory)
	}
	free := min(d.capacity()-d.inMemory, max(room, handoffFloor))
	if d.behind {
		// Due rows wait in the store: leave half the room to claims, which
		// take them oldest first, so fresh events cannot starve older work
		// (retries, another node's released leases); handing over the rest
		// keeps the cheap path for new events.
		free /= 2
	}
	ok := d.started && !d.stopping
	d.mu.Unlock()
	if free <= 0 || !ok {
		return "", 0, 0
	}
	return d.newToken(), d.o.Lease, free
}

// Take implements ingest.Handoff.
func (d *Dispatcher) Take(_ string, claimed []*store.Claimed) {
	if len(claimed) == 0 {
		return
	}
	d.enqueue(claimed, d.o.Now().UTC().Add(d.o.Lease))
}

// after returns a channel closed after dur on the engine's clock, and the
// timer's stop.
func (d *Dispatcher) after(dur time.Duration) (<-chan struct{}, func() bool) {
	ch := make(chan struct{})
	stop := d.o.AfterFunc(max(dur, 0), func() { close(ch) })
	return ch, stop
}

func (d *Dispatcher) claimLoop(ctx context.Context) {
	wait, spacing := time.Duration(0), time.Duration(0)
	for {
		if spacing > 0 {
			// After a claim that found nothing, the next one waits at least
			// spacing even when woken: wakes come with every recorded batch,
			// and a claim that finds nothing still scans the due rows.
			t, stop := d.after(spacing)
			select {
			case <-ctx.Done():
				stop()
				return
			case <-t:
			}
			wait -= spacing
		}
		t, stop := d.after(wait)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-d.wakeCh:
		case <-t:
		}
		stop()
		full, n, excluded := d.claimOnce(ctx)
		spacing = 0
		if full {
			// There may be more due work: claim again as soon as there is room.
			d.setBehind(true)
			wait = 0
			if d.free() <= 0 {
				wait = 20 * time.Millisecond
			}
			continue
		}
		wait = d.o.PollEvery
		dueNow := false
		if next, ok, err := d.o.Store.NextDue(ctx); err == nil && ok {
			if w := next.Sub(d.o.Now()); w < wait {
				wait = max(w, 0)
			}
			dueNow = !next.After(d.o.Now())
		}
		// Caught up when the claim took every due row it was allowed to;
		// behind while rows of webhooks left out are due.
		d.setBehind(excluded && dueNow)
		if n == 0 {
			// Due rows that the claim did not take (an ordered webhook's
			// waiting deliveries, excluded webhooks, another node's race)
			// must not make this loop spin.
			spacing = minIdleWait
			wait = max(wait, minIdleWait)
			if excluded {
				// Webhooks left out for now get room when a request ends,
				// which wakes this loop: no need to poll for them.
				wait = d.o.PollEvery
			}
		}
	}
}

func (d *Dispatcher) setBehind(v bool) {
	d.mu.Lock()
	d.behind = v
	d.mu.Unlock()
}

func (d *Dispatcher) free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.capacity() - d.inMemory
}

// minIdleWait is the least the claim loop sleeps after a claim that found
// nothing, whatever NextDue says.
const minIdleWait = 50 * time.Millisecond

// claimOnce claims what fits in memory, leaving out the webhooks that could
// not start what they would get; it reports whether it got a full batch, how
// many rows, and whether it left webhooks out.
func (d *Dispatcher) claimOnce(ctx context.Context) (bool, int, bool) {
	d.mu.Lock()
	free := d.capacity() - d.inMemory
	stopping := d.stopping
	var exclude []string
	now := d.o.Now()
	for id, l := range d.lanes {
		if l.p.inMemory >= d.projMem || len(l.queue) >= d.allowedQueueLocked(l) || d.stuckLocked(l.p, now) {
			exclude = append(exclude, id)
		}
	}
	d.mu.Unlock()
	if free <= 0 || stopping {
		return true, 0, false
	}
	// At most one project's share at once: rows beyond a project's share
	// would be released again at once.
	limit := min(free, d.o.ClaimBatch, d.projMem)
	now = now.UTC()
	claimed, err := d.o.Store.ClaimDeliveries(ctx, store.ClaimParams{
		Now: now, Limit: limit, LeaseToken: d.newToken(), LeaseFor: d.o.Lease,
		ExcludeWebhooks: exclude,
	})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("claim deliveries", "err", err)
		}
		return false, 0, false
	}
	if d.o.LeasesExpired != nil {
		n := 0
		for _, c := range claimed {
			if c.LeaseExpired {
				n++
			}
		}
		if n > 0 {
			d.o.LeasesExpired(n)
		}
	}
	d.enqueue(claimed, now.Add(d.o.Lease))
	return len(claimed) == limit, len(claimed), len(exclude) > 0
}

// allowedQueueLocked is how many rows lane l may keep waiting: what it can
// start soon. A healthy webhook may queue up to PerWebhook (the node's and
// the project's memory bound the rest); a degraded one only what its
// current limit lets start now, a rate-limited one about two seconds of its
// rate.
func (d *Dispatcher) allowedQueueLocked(l *lane) int {
	n := d.o.PerWebhook
	if l.limit < d.o.PerWebhook {
		n = max(0, l.limit-l.inflight)
	}
	if l.rateCap > 0 {
		n = min(n, 2*l.rateCap)
	}
	return n
}

func (d *Dispatcher) laneLocked(webhookID, projectName string) *lane {
	l := d.lanes[webhookID]
	if l != nil {
		return l
	}
	p := d.projects[projectName]
	if p == nil {
		p = &project{name: projectName, lanes: map[string]*lane{}, lastDone: d.o.Now()}
		d.projects[projectName] = p
	}
	l = &lane{id: webhookID, p: p, laneHealth: laneHealth{limit: d.o.PerWebhook}}
	if h, ok := d.degraded[webhookID]; ok {
		l.laneHealth = h
		delete(d.degraded, webhookID)
	}
	d.lanes[webhookID] = l
	p.lanes[webhookID] = l
	return l
}

// enqueue takes claimed rows leased until leaseUntil. Rows that their
// project or webhook could not start soon are released at once.
func (d *Dispatcher) enqueue(claimed []*store.Claimed, leaseUntil time.Time) {
	var release []*item
	d.mu.Lock()
	for _, c := range claimed {
		l := d.laneLocked(c.Delivery.WebhookID, c.Delivery.Project)
		it := &item{c: c, lane: l, leaseUntil: leaseUntil}
		d.held[c.Delivery.ID] = it
		d.inMemory++
		l.p.inMemory++
		// A healthy lane keeps what a claim brought (the node's and the
		// project's bounds hold); a degraded or rate-limited one only what it
		// can start soon.
		limited := l.limit < d.o.PerWebhook || l.rateCap > 0
		if d.stopping || l.p.inMemory > d.projMem || (limited && len(l.queue) >= d.allowedQueueLocked(l)) || d.stuckLocked(l.p, d.o.Now()) {
			release = append(release, it)
			continue
		}
		l.queue = append(l.queue, it)
		d.markLaneLocked(l)
	}
	d.dispatchLocked()
	d.mu.Unlock()
	d.releaseAll(release)
}

// runnableLocked reports whether lane l may start a request now.
func (d *Dispatcher) runnableLocked(l *lane) bool {
	if d.stopping || len(l.queue) == 0 || l.deferred || d.lanes[l.id] != l {
		return false
	}
	limit := l.limit
	if l.rateCap > 0 {
		limit = min(limit, l.rateCap)
	}
	return l.inflight < limit
}

// markLaneLocked puts lane l in its project's round if it can start, and
// the project in the node's round.
func (d *Dispatcher) markLaneLocked(l *lane) {
	if !l.inRing && d.runnableLocked(l) {
		l.inRing = true
		l.p.ring = append(l.p.ring, l)
	}
	d.markProjectLocked(l.p)
}

func (d *Dispatcher) markProjectLocked(p *project) {
	if !p.inRing && !d.stopping && len(p.ring) > 0 && p.inflight < d.o.PerProject && d.projects[p.name] == p {
		p.inRing = true
		d.ring = append(d.ring, p)
	}
}

// dispatchLocked starts requests while workers are free: one per project in
// turn, and within a project one per lane in turn.
func (d *Dispatcher) dispatchLocked() { d.startLocked(false) }

// startLocked is dispatchLocked. With keep, the first request it starts is
// returned for the calling send's goroutine to run next instead of a new
// goroutine: a goroutine's stack grows to what net/http needs on its first
// request (runtime.newstack and copystack were 2% of all CPU with one
// goroutine per send), so a goroutine that has sent goes on sending.
func (d *Dispatcher) startLocked(keep bool) *item {
	var kept *item
	for !d.stopping && d.inflight < d.o.Workers && len(d.ring) > 0 {
		p := d.ring[0]
		d.ring[0] = nil
		d.ring = d.ring[1:]
		p.inRing = false
		if p.inflight >= d.o.PerProject || d.projects[p.name] != p {
			continue // back in the round when one of its requests ends
		}
		var l *lane
		for len(p.ring) > 0 && l == nil {
			c := p.ring[0]
			p.ring[0] = nil
			p.ring = p.ring[1:]
			c.inRing = false
			if d.runnableLocked(c) {
				l = c
			}
		}
		if l == nil {
			continue
		}
		var reserved *rate.Limiter
		if l.limiter != nil {
			now := d.o.Now()
			r := l.limiter.ReserveN(now, 1)
			if delay := r.DelayFrom(now); delay > 0 {
				r.CancelAt(now)
				d.deferLocked(l, delay)
				d.markProjectLocked(p)
				continue
			}
			reserved = l.limiter
		}
		it := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		it.reservedOn = reserved
		l.inflight++
		p.inflight++
		d.inflight++
		d.running[it] = struct{}{}
		d.sends.Add(1)
		if keep && kept == nil {
			kept = it
		} else {
			d.spawned.Add(1)
			go d.run(it)
		}
		d.markLaneLocked(l)
	}
	return kept
}

// deferLocked holds lane l back for delay (rate limit): a timer puts it in
// the round again; no worker waits.
func (d *Dispatcher) deferLocked(l *lane, delay time.Duration) {
	l.deferred = true
	d.o.AfterFunc(delay, func() {
		d.mu.Lock()
		l.deferred = false
		d.markLaneLocked(l)
		d.dispatchLocked()
		d.cleanupLocked(l)
		d.mu.Unlock()
	})
}

// cleanupLocked forgets lane l once it has nothing queued or in flight,
// keeping its adaptive limit if it is degraded.
func (d *Dispatcher) cleanupLocked(l *lane) {
	if len(l.queue) > 0 || l.inflight > 0 || l.deferred || d.lanes[l.id] != l {
		return
	}
	if l.limit < d.o.PerWebhook || l.fails > 0 {
		h := l.laneHealth
		h.at = d.o.Now()
		d.degraded[l.id] = h
	}
	delete(d.lanes, l.id)
	delete(l.p.lanes, l.id)
	d.cleanupProjectLocked(l.p)
}

func (d *Dispatcher) cleanupProjectLocked(p *project) {
	if len(p.lanes) == 0 && p.inflight == 0 && p.inMemory == 0 && d.projects[p.name] == p {
		delete(d.projects, p.name)
	}
}

// run sends items on its own goroutine, it and then each one runOne hands
// it, and hands their results on.
func (d *Dispatcher) run(it *item) {
	for it != nil {
		it = d.runOne(it)
	}
}

// runOne sends it, hands the result on and returns the next item this
// goroutine is to send, if any (startLocked).
func (d *Dispatcher) runOne(it *item) (next *item) {
	defer d.sends.Done()
	out, deferFor, sig := d.send(it)
	var release []*item
	d.mu.Lock()
	l, p := it.lane, it.lane.p
	l.inflight--
	p.inflight--
	d.inflight--
	p.lastDone = d.o.Now()
	if it.abandoned {
		d.markLaneLocked(l)
		d.cleanupLocked(l)
		d.mu.Unlock()
		return nil
	}
	delete(d.running, it)
	switch {
	case deferFor > 0 && d.stopping:
		out = releaseOf(it, d.o.Now())
		deferFor = 0
	case deferFor > 0:
		l.queue = append([]*item{it}, l.queue...)
		d.deferLocked(l, deferFor)
	case sig == sigUp:
		l.fails = 0
		l.limit = min(d.o.PerWebhook, l.limit+1)
	case sig == sigDown:
		l.fails++
		l.limit = max(1, l.limit/2)
		if l.fails >= downToOne {
			l.limit = 1
		}
		release = d.trimLocked(l)
	}
	d.markLaneLocked(l)
	d.markProjectLocked(p)
	next = d.startLocked(true)
	d.cleanupLocked(l)
	d.mu.Unlock()
	d.releaseAll(release)
	if deferFor == 0 {
		d.finish(out)
	}
	return next
}

// stuckLocked reports whether project p holds its whole share of the
// workers and none of its requests ended for a lease: its endpoints hang, so
// rows waiting for it would wait minutes. They are released instead, and
// claimed again once its requests end.
func (d *Dispatcher) stuckLocked(p *project, now time.Time) bool {
	return p.inflight >= d.o.PerProject && now.Sub(p.lastDone) >= d.o.Lease
}

// releaseStuck releases the rows waiting for stuck projects.
func (d *Dispatcher) releaseStuck() {
	now := d.o.Now()
	var release []*item
	d.mu.Lock()
	for _, p := range d.projects {
		if !d.stuckLocked(p, now) {
			continue
		}
		for _, l := range p.lanes {
			release = append(release, l.queue...)
			clear(l.queue)
			l.queue = nil
		}
	}
	d.mu.Unlock()
	d.releaseAll(release)
}

// trimLocked takes off lane l's queue what it may no longer keep waiting.
func (d *Dispatcher) trimLocked(l *lane) []*item {
	n := d.allowedQueueLocked(l)
	if len(l.queue) <= n {
		return nil
	}
	out := append([]*item(nil), l.queue[n:]...)
	clear(l.queue[n:])
	l.queue = l.queue[:n]
	return out
}

func releaseOf(it *item, now time.Time) completion {
	dl := it.c.Delivery
	return completion{it: it, release: true, c: store.Completion{
		DeliveryID: dl.ID, WebhookID: dl.WebhookID, LeaseToken: it.c.LeaseToken,
		State: dl.State, NextAttemptAt: dl.NextAttemptAt, Error: dl.LastError, Now: now.UTC(),
	}}
}

func (d *Dispatcher) releaseAll(items []*item) {
	now := d.o.Now()
	for _, it := range items {
		d.finish(releaseOf(it, now))
	}
}

// InFlight is how many requests this node is sending right now
// (herald_deliveries_in_flight).
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight
}
