package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/store"
)

// Backlog is the backlog scenario's result: Herald's memory while
// Events × Webhooks deliveries wait behind a receiver that answers nothing,
// then the drain once it answers. Memory is the whole process's (Herald,
// the clients and the receiver share it); the receiver's own bookkeeping is
// one byte per delivery, allocated before the first sample.
type Backlog struct {
	Events     int `json:"events"`
	Webhooks   int `json:"webhooks"`
	Deliveries int `json:"deliveries"`
	Clients    int `json:"clients"`
	Batch      int `json:"batch"`
	// Workers is the delivery workers (delivery.workers); HeldPeak the most
	// requests the receiver held at once, the workers the backlog took.
	// The rest of the backlog waits in the store, but for the claimed rows
	// the engine queues in memory (at most three per worker).
	Workers  int `json:"workers"`
	HeldPeak int `json:"held_requests_peak"`
	// Pending is what the store counted as pending once every event was
	// ingested: the backlog, the rows in flight and queued included.
	Pending       int     `json:"pending_at_end_of_ingest"`
	IngestSeconds float64 `json:"ingest_seconds"`
	IngestPerSec  float64 `json:"ingest_events_per_sec"`
	IngestP50MS   float64 `json:"ingest_p50_ms"`
	IngestP99MS   float64 `json:"ingest_p99_ms"`
	// Points are the samples taken as 10, 25, 50, 75 and 100% of the events
	// were accepted.
	Points []BacklogPoint `json:"by_percent_ingested"`
	// PeakRSSMB and PeakHeapMB are the highest samples while ingesting.
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	PeakHeapMB float64 `json:"peak_heap_inuse_mb"`
	// RSSGrowthMB is RSS at 100% of the backlog minus RSS at 10% (the key
	// figure: flat means small); HeapGrowthMB the same for the heap. On
	// SQLite, RSS also holds the page cache (32 MiB for the writer), which
	// fills as the database grows: a backlog of a few thousand events shows
	// it as growth the Go heap does not have.
	RSSGrowthMB  float64 `json:"rss_growth_mb"`
	HeapGrowthMB float64 `json:"heap_growth_mb"`
	// DrainSeconds runs from the receiver's release to the last delivery's
	// first arrival; DrainPerSec is the deliveries that arrived in it per
	// second; DrainPeakRSSMB the highest RSS sampled meanwhile.
	DrainSeconds   float64 `json:"drain_seconds"`
	DrainPerSec    float64 `json:"drain_deliveries_per_sec"`
	DrainPeakRSSMB float64 `json:"drain_peak_rss_mb"`
	// Arrived counts the deliveries received at least once, Duplicates the
	// receipts beyond the first. EarlyAnswers are the requests the receiver
	// answered before the release because it had held them for
	// backlogHoldMax (only a backlog that takes minutes to ingest has them).
	Arrived      int `json:"deliveries_arrived"`
	Duplicates   int `json:"duplicates"`
	EarlyAnswers int `json:"answered_before_release"`
	// Samples are every sample in the order taken, about every 250 ms.
	Samples []MemSample `json:"samples"`
}

// MemSample is one reading of the process's memory.
type MemSample struct {
	// Seconds since the first POST.
	Seconds float64 `json:"seconds"`
	// Phase is "ingest" until the receiver is released, then "drain".
	Phase    string `json:"phase"`
	Ingested int    `json:"events_ingested"`
	Arrived  int    `json:"deliveries_arrived"`
	// RSSMB is the resident set size; HeapMB the Go heap in use
	// (runtime.MemStats.HeapInuse).
	RSSMB  float64 `json:"rss_mb"`
	HeapMB float64 `json:"heap_inuse_mb"`
}

// BacklogPoint is the sample taken when Percent of the events had been
// accepted (Ingested may be a little past it).
type BacklogPoint struct {
	Percent int `json:"percent"`
	MemSample
}

// backlogPercents are where the backlog's memory is reported.
var backlogPercents = []int{10, 25, 50, 75, 100}

// backlogHoldMax is the longest the receiver holds a request before it is
// released; the webhooks' timeout is the API's maximum, 5m, so Herald never
// gives up on a held request (a timeout would make it a retry, due minutes
// later).
const backlogHoldMax = 4*time.Minute + 30*time.Second

// holdingReceiver holds every request open until released, then answers
// 204 to everything; it counts receipts by delivery.
type holdingReceiver struct {
	srv      *http.Server
	url      string
	webhooks int
	holdMax  time.Duration
	release  chan struct{}
	once     sync.Once

	held, heldPeak, early atomic.Int64

	mu sync.Mutex
	// seen marks the deliveries received, at event seq × webhooks + webhook
	// index (the pair a delivery is): a byte each, allocated up front, where
	// a map of delivery IDs would grow the memory being measured.
	seen       []bool
	arrived    int
	duplicates int
	stray      int
	lastNew    time.Time
	all        chan struct{} // closed once every delivery arrived
}

func newHoldingReceiver(events, webhooks int, holdMax time.Duration) (*holdingReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &holdingReceiver{
		url: "http://" + ln.Addr().String(), webhooks: webhooks, holdMax: holdMax,
		release: make(chan struct{}), seen: make([]bool, events*webhooks), all: make(chan struct{}),
	}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 10 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

func (h *holdingReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	select {
	case <-h.release:
	default:
		storeMax(&h.heldPeak, h.held.Add(1))
		t := time.NewTimer(h.holdMax)
		select {
		case <-h.release:
		case <-t.C:
			h.early.Add(1)
		case <-r.Context().Done():
		}
		t.Stop()
		h.held.Add(-1)
		if r.Context().Err() != nil {
			return // Herald gave up on it: no receipt, it is sent again
		}
	}
	h.receipt(r.URL.Path, body)
	w.WriteHeader(http.StatusNoContent)
}

// receipt counts one delivery of the event in body to the webhook path
// names (/hook/<index>).
func (h *holdingReceiver) receipt(path string, body []byte) {
	hook, err := strconv.Atoi(strings.TrimPrefix(path, "/hook/"))
	seq, ok := eventSeq(body)
	h.mu.Lock()
	defer h.mu.Unlock()
	i := seq*h.webhooks + hook
	if err != nil || !ok || hook < 0 || hook >= h.webhooks || i < 0 || i >= len(h.seen) {
		h.stray++
		return
	}
	if h.seen[i] {
		h.duplicates++
		return
	}
	h.seen[i] = true
	h.arrived++
	h.lastNew = time.Now()
	if h.arrived == len(h.seen) {
		close(h.all)
	}
}

// eventSeq reads the "seq" the bench put in an event's data from a
// delivered body, without decoding the whole payload.
func eventSeq(body []byte) (int, bool) {
	_, rest, ok := bytes.Cut(body, []byte(`"seq":`))
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(string(rest[:end]))
	return n, err == nil
}

func (h *holdingReceiver) counts() (arrived, duplicates, stray int, lastNew time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.arrived, h.duplicates, h.stray, h.lastNew
}

// answer releases every held request and answers the rest at once.
func (h *holdingReceiver) answer() { h.once.Do(func() { close(h.release) }) }

// close releases the held requests (so Herald's shutdown does not wait for
// them) and stops the receiver.
func (h *holdingReceiver) close() {
	h.answer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.srv.Shutdown(ctx)
}

// memSampler samples the process's memory about every 250 ms, and at once
// when told a percentage of the events was reached; it also reports
// progress, so that Progress is called from one goroutine.
type memSampler struct {
	start              time.Time
	events, deliveries int64
	ingested           atomic.Int64
	arrived            func() int
	draining           atomic.Bool
	progress           func(done, total int64, label string)

	marks   chan int      // percentages reached, from the clients
	full    chan struct{} // closed once every point was taken
	done    chan struct{}
	stopped chan struct{}
	stop    func()

	// Written by the sampler goroutine; read once full is closed (points)
	// or after stop (samples).
	samples []MemSample
	points  []BacklogPoint
}

func newMemSampler(events, deliveries int64, arrived func() int, progress func(done, total int64, label string)) *memSampler {
	s := &memSampler{
		start: time.Now(), events: events, deliveries: deliveries, arrived: arrived, progress: progress,
		// One send per percentage, ever: the clients never block on it.
		marks: make(chan int, len(backlogPercents)),
		full:  make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	s.stop = sync.OnceFunc(func() { close(s.done); <-s.stopped })
	go s.run()
	return s
}

func (s *memSampler) run() {
	defer close(s.stopped)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			s.sample() // the last reading, however short the drain was
			return
		case p := <-s.marks:
			// A percentage reached implies the lower ones: take those first,
			// so the points are in order whichever client got there first.
			for len(s.points) < len(backlogPercents) && backlogPercents[len(s.points)] <= p {
				s.points = append(s.points, BacklogPoint{Percent: backlogPercents[len(s.points)], MemSample: s.sample()})
				if len(s.points) == len(backlogPercents) {
					close(s.full)
				}
			}
		case <-t.C:
			m := s.sample()
			if s.progress == nil {
				continue
			}
			if m.Phase == "drain" {
				s.progress(int64(m.Arrived), s.deliveries, "deliveries drained")
			} else {
				s.progress(int64(m.Ingested), s.events, "events ingested into the backlog")
			}
		}
	}
}

func (s *memSampler) sample() MemSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := MemSample{
		Seconds: time.Since(s.start).Seconds(), Phase: "ingest",
		Ingested: int(s.ingested.Load()), Arrived: s.arrived(),
		RSSMB: float64(rssBytes()) / (1 << 20), HeapMB: float64(ms.HeapInuse) / (1 << 20),
	}
	if s.draining.Load() {
		m.Phase = "drain"
	}
	s.samples = append(s.samples, m)
	return m
}

// acked is the clients' callback (ingestLoad): it records the running
// total of accepted events and tells the sampler of each percentage it
// reached (each crossed by exactly one request). The total is stored as a
// maximum, not added up, so that a sample taken for a percentage never
// reads less than it while another client is between its two counts.
func (s *memSampler) acked(n, total int64) {
	storeMax(&s.ingested, total)
	for _, p := range backlogPercents {
		if at := (s.events*int64(p) + 99) / 100; total-n < at && total >= at {
			s.marks <- p
		}
	}
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		p := a.Load()
		if v <= p || a.CompareAndSwap(p, v) {
			return
		}
	}
}

func runBacklog(ctx context.Context, o Options) (*Backlog, error) {
	total := o.Events * o.Webhooks
	e, err := newEnv(ctx, o, func([]byte, time.Time) {})
	if err != nil {
		return nil, err
	}
	defer e.close()
	recv, err := newHoldingReceiver(o.Events, o.Webhooks, backlogHoldMax)
	if err != nil {
		return nil, err
	}
	defer recv.close() // before e.close (deferred calls run last first)
	for i := range o.Webhooks {
		if err := e.createWebhook(map[string]any{
			"name": "backlog-" + strconv.Itoa(i), "url": recv.url + "/hook/" + strconv.Itoa(i),
			"timeout": "5m", "event_types": []string{"backlog.*"},
		}); err != nil {
			return nil, err
		}
	}
	stats, ok := e.app.Store.(store.Stats)
	if !ok {
		return nil, errors.New("the store cannot count its pending deliveries (store.Stats)")
	}

	s := newMemSampler(int64(o.Events), int64(total), func() int { a, _, _, _ := recv.counts(); return a }, o.Progress)
	defer s.stop()
	durs, err := e.ingestLoad(ctx, o, func(i int64) []byte {
		return padEvent(fmt.Sprintf(`{"id":"k%d","type":"backlog.event","project":"bench","data":{"seq":%d`, i, i), o.PayloadBytes)
	}, s.acked)
	ingestDur := time.Since(s.start)
	if err != nil {
		return nil, err
	}
	// The last request reached 100%: its point is taken before the release.
	<-s.full
	bl, err := stats.Backlog(ctx)
	if err != nil {
		return nil, fmt.Errorf("count the pending deliveries: %w", err)
	}

	released := time.Now()
	arrivedBefore, _, _, _ := recv.counts()
	s.draining.Store(true)
	recv.answer()
	if err := awaitDrain(ctx, recv, total); err != nil {
		return nil, err
	}
	// Once the store has recorded every result no row can be sent again,
	// so the duplicates counted after that are all there are.
	if err := awaitRecorded(ctx, stats); err != nil {
		return nil, err
	}
	s.stop()
	if o.Progress != nil {
		o.Progress(int64(total), int64(total), "deliveries drained")
	}

	arrived, dups, stray, lastNew := recv.counts()
	if stray > 0 {
		return nil, fmt.Errorf("the receiver got %d requests that name no delivery of the run", stray)
	}
	drain := lastNew.Sub(released)
	b := &Backlog{
		Events: o.Events, Webhooks: o.Webhooks, Deliveries: total, Clients: o.Clients, Batch: o.Batch,
		Workers: config.Defaults().Delivery.Workers, HeldPeak: int(recv.heldPeak.Load()), Pending: bl.Pending,
		IngestSeconds: ingestDur.Seconds(), IngestPerSec: float64(o.Events) / ingestDur.Seconds(),
		IngestP50MS: percentileMS(durs, 0.50), IngestP99MS: percentileMS(durs, 0.99),
		Points: s.points, Samples: s.samples,
		DrainSeconds: drain.Seconds(),
		Arrived:      arrived, Duplicates: dups, EarlyAnswers: int(recv.early.Load()),
	}
	if drain > 0 {
		b.DrainPerSec = float64(arrived-arrivedBefore) / drain.Seconds()
	}
	first, last := s.points[0], s.points[len(s.points)-1]
	b.RSSGrowthMB, b.HeapGrowthMB = last.RSSMB-first.RSSMB, last.HeapMB-first.HeapMB
	for _, m := range s.samples {
		if m.Phase == "drain" {
			b.DrainPeakRSSMB = max(b.DrainPeakRSSMB, m.RSSMB)
		} else {
			b.PeakRSSMB, b.PeakHeapMB = max(b.PeakRSSMB, m.RSSMB), max(b.PeakHeapMB, m.HeapMB)
		}
	}
	return b, nil
}

// awaitDrain waits until every delivery arrived, failing when none arrives
// for a minute.
func awaitDrain(ctx context.Context, recv *holdingReceiver, total int) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	seen, since := -1, time.Now()
	for {
		select {
		case <-recv.all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			arrived, _, _, _ := recv.counts()
			if arrived != seen {
				seen, since = arrived, time.Now()
			} else if time.Since(since) > time.Minute {
				return fmt.Errorf("the drain stalled: %d of %d deliveries arrived, none in the last minute", arrived, total)
			}
		}
	}
}

// awaitRecorded waits up to 30 s for the store to hold no pending or
// retrying delivery.
func awaitRecorded(ctx context.Context, stats store.Stats) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		bl, err := stats.Backlog(ctx)
		if err != nil {
			return fmt.Errorf("count the pending deliveries: %w", err)
		}
		if bl.Pending+bl.Retrying == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("every delivery arrived, but 30s later the store still has %d pending and %d retrying", bl.Pending, bl.Retrying)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond): // polling the store's count, with a deadline
		}
	}
}
