// Package bench measures Herald end to end on this machine: an in-process
// Herald on a temporary database, a loopback receiver, and clients posting
// events over the HTTP API, as `herald bench` runs it.
//
// Four scenarios ("all" runs the first two):
//   - throughput: N events from C concurrent clients, fanned out to M
//     webhooks; reports ingest events/s and the p50/p99 of the POSTs' response
//     times, deliveries/s from the first POST to the last receipt, and peak
//     RSS (sampled through the run, so a backlog that grew memory would show).
//   - latency: a steady R events/s for D, fan-out F; reports p50/p95/p99 from
//     the POST to the receipt.
//   - noisy: H webhooks of one project point at an endpoint that never
//     answers (timeout 5m) with a backlog each, while a healthy webhook of
//     another project gets a steady R events/s for D; reports the healthy
//     webhook's p50/p99 from the POST to the receipt (fair share of the
//     delivery workers).
//   - backlog: N events fanned out to M webhooks whose receiver holds every
//     request until released, so the deliveries wait in the store; reports
//     RSS and heap at 10, 25, 50, 75 and 100% of the backlog ingested, then
//     releases the receiver and reports the drain (see backlog.go).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/seal"
)

// Options select what to run. Zero values take the defaults in parentheses.
type Options struct {
	Scenario string // "all" (default: throughput and latency), "throughput", "latency", "noisy" or "backlog"
	Events   int    // throughput and backlog: events (100,000; 1,000,000 deliveries waiting at fan-out 10)
	Webhooks int    // throughput and backlog: fan-out (10)
	Clients  int    // throughput and backlog: concurrent clients (32)
	Batch    int    // throughput and backlog: events per POST (1)
	Rate     int    // latency: events per second (500)
	Duration time.Duration
	Fanout   int // latency: webhooks (2)
	Hanging  int // noisy: webhooks of the noisy project that hang (20)
	// PayloadBytes is the size of each event's JSON (1024): its data carries
	// a "pad" field of filler so events look like real ones.
	PayloadBytes int
	// NoCeiling skips the loopback ceiling measured before the throughput
	// scenario; CeilingDuration is how long it runs (3s).
	NoCeiling       bool
	CeilingDuration time.Duration
	// Store is "sqlite" (default) or "postgres" (DatabaseURL required).
	Store       string
	DatabaseURL string
	// KeepData leaves the SQLite data directory (or the PostgreSQL schema)
	// in place after the run and reports where it is (Report.DataKept).
	KeepData bool
	kept     *string // Report.DataKept
	// Progress receives progress updates (done, total, label); may be nil.
	Progress func(done, total int64, label string)
	Logger   *slog.Logger
}

func (o *Options) defaults() {
	if o.Scenario == "" {
		o.Scenario = "all"
	}
	if o.Events <= 0 {
		o.Events = 100_000
	}
	if o.Webhooks <= 0 {
		o.Webhooks = 10
	}
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Batch <= 0 {
		o.Batch = 1
	}
	if o.Rate <= 0 {
		o.Rate = 500
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Fanout <= 0 {
		o.Fanout = 2
	}
	if o.Hanging <= 0 {
		o.Hanging = 20
	}
	if o.PayloadBytes <= 0 {
		o.PayloadBytes = 1024
	}
	if o.CeilingDuration <= 0 {
		o.CeilingDuration = 3 * time.Second
	}
	if o.Store == "" {
		o.Store = "sqlite"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Report is the outcome, printed as text or JSON.
type Report struct {
	Machine      Machine `json:"machine"`
	Store        string  `json:"store"`
	PayloadBytes int     `json:"payload_bytes"`
	// Ceiling is the loopback ceiling measured in the same run (nil with
	// NoCeiling or without the throughput scenario).
	Ceiling    *Ceiling    `json:"ceiling,omitempty"`
	Throughput *Throughput `json:"throughput,omitempty"`
	Latency    *Latency    `json:"latency,omitempty"`
	Noisy      *Noisy      `json:"noisy,omitempty"`
	Backlog    *Backlog    `json:"backlog,omitempty"`
	// DataKept lists where the runs' data was left (KeepData).
	DataKept string `json:"data_kept,omitempty"`
}

// Noisy is the noisy scenario's result: the healthy webhook's latency while
// Hanging webhooks of another project hang.
type Noisy struct {
	Hanging int `json:"hanging_webhooks"`
	// HangingRequests is the most requests the hanging endpoint held at
	// once: the workers the noisy project took.
	HangingRequests int     `json:"hanging_requests_peak"`
	Workers         int     `json:"workers"`
	Rate            int     `json:"rate_per_sec"`
	Seconds         float64 `json:"seconds"`
	Deliveries      int     `json:"deliveries"`
	P50MS           float64 `json:"p50_ms"`
	P99MS           float64 `json:"p99_ms"`
	MaxMS           float64 `json:"max_ms"`
}

// Throughput is the throughput scenario's result.
type Throughput struct {
	Events        int     `json:"events"`
	Webhooks      int     `json:"webhooks"`
	Clients       int     `json:"clients"`
	Batch         int     `json:"batch"`
	Deliveries    int     `json:"deliveries"`
	Duplicates    int     `json:"duplicates"`
	IngestSeconds float64 `json:"ingest_seconds"`
	IngestPerSec  float64 `json:"ingest_events_per_sec"`
	// IngestP50MS and IngestP99MS are the response times of the clients'
	// POST /api/v1/events requests (from just before the request to the
	// full response read) while the deliveries run: ingest under full load.
	IngestP50MS      float64 `json:"ingest_p50_ms"`
	IngestP99MS      float64 `json:"ingest_p99_ms"`
	EndToEndSeconds  float64 `json:"end_to_end_seconds"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	// EventBytes is the mean size of an event's JSON as posted;
	// DeliveryBytes the mean size of a delivered body (the event in
	// Herald's envelope).
	EventBytes    int `json:"event_bytes"`
	DeliveryBytes int `json:"delivery_bytes"`
	// CeilingRatio is DeliveriesPerSec over the loopback ceiling's
	// requests/s (0 when no ceiling was measured).
	CeilingRatio float64 `json:"ceiling_ratio,omitempty"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	// CPUPerDeliveryMS is this process's CPU time (user and system) from the
	// first POST to the last receipt, per delivery: Herald, the load tool
	// and the receiver together. HeraldCPUPerDeliveryMS subtracts the load
	// tool's and the receiver's share, costed by the ceiling run at half
	// its CPU per request (one side of it) for each ingest request and each
	// delivery (0 without a ceiling): what Herald itself spends per delivery.
	CPUPerDeliveryMS       float64 `json:"cpu_per_delivery_ms"`
	HeraldCPUPerDeliveryMS float64 `json:"herald_cpu_per_delivery_ms,omitempty"`
	// DatabaseCPUPerDeliveryMS is the CPU time of this machine's PostgreSQL
	// server (its processes, from /proc) over the same span, per delivery:
	// with --store postgres the store's work is done there, not in Herald's
	// process. 0 on SQLite, or when no local server is found.
	DatabaseCPUPerDeliveryMS float64 `json:"database_cpu_per_delivery_ms,omitempty"`
	// Disk is what the store keeps after the run.
	Disk *Disk `json:"disk,omitempty"`
	// RSSMB samples RSS at each quarter of the run, to show it does not grow
	// with the backlog.
	RSSMB []float64 `json:"rss_mb_by_quarter"`
}

// Latency is the latency scenario's result.
type Latency struct {
	Rate       int     `json:"rate_per_sec"`
	Seconds    float64 `json:"seconds"`
	Fanout     int     `json:"fanout"`
	Deliveries int     `json:"deliveries"`
	P50MS      float64 `json:"p50_ms"`
	P95MS      float64 `json:"p95_ms"`
	P99MS      float64 `json:"p99_ms"`
	MaxMS      float64 `json:"max_ms"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
}

// Run runs the scenarios.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	rep := &Report{Machine: thisMachine(), Store: o.Store, PayloadBytes: o.PayloadBytes}
	o.kept = &rep.DataKept
	if o.Scenario == "all" || o.Scenario == "throughput" {
		ceiling := func(what string) (*Ceiling, error) {
			if o.Progress != nil {
				o.Progress(0, 1, what)
			}
			c, err := measureCeiling(ctx, o.Clients, o.PayloadBytes, o.CeilingDuration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			if o.Progress != nil {
				o.Progress(1, 1, what)
			}
			return c, nil
		}
		var before *Ceiling
		if !o.NoCeiling {
			var err error
			if before, err = ceiling("loopback ceiling, before the run"); err != nil {
				return rep, err
			}
		}
		t, err := runThroughput(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("throughput: %w", err)
		}
		if before != nil {
			after, err := ceiling("loopback ceiling, after the run")
			if err != nil {
				return rep, err
			}
			rep.Ceiling = combine(before, after)
		}
		if c := rep.Ceiling; c != nil && c.RequestsPerSec > 0 {
			t.CeilingRatio = t.DeliveriesPerSec / c.RequestsPerSec
			// A ceiling request costs a client and a server; in the run the
			// load tool is the client of each ingest request and the receiver
			// the server of each delivery, Herald the other side of both.
			requests := float64(t.Deliveries + (t.Events+t.Batch-1)/t.Batch)
			t.HeraldCPUPerDeliveryMS = max(0, t.CPUPerDeliveryMS-c.CPUPerRequestMS/2*requests/float64(t.Deliveries))
		}
		rep.Throughput = t
	}
	if o.Scenario == "all" || o.Scenario == "latency" {
		l, err := runLatency(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("latency: %w", err)
		}
		rep.Latency = l
	}
	if o.Scenario == "noisy" {
		n, err := runNoisy(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("noisy: %w", err)
		}
		rep.Noisy = n
	}
	if o.Scenario == "backlog" {
		b, err := runBacklog(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("backlog: %w", err)
		}
		rep.Backlog = b
	}
	if rep.Throughput == nil && rep.Latency == nil && rep.Noisy == nil && rep.Backlog == nil {
		return nil, fmt.Errorf("unknown scenario %q: use all, throughput, latency, noisy or backlog", o.Scenario)
	}
	return rep, nil
}

const benchToken = "bench-admin-token-0123456789abcdefghij"

// env is an in-process Herald with a receiver.
type env struct {
	app     *app.App
	url     string
	client  *http.Client
	recv    *http.Server
	recvURL string
	dir     string
	onRecv  func(body []byte, at time.Time)
	// dropSchema removes the temporary PostgreSQL schema (nil on SQLite);
	// pgDSN reaches it.
	dropSchema func()
	pgDSN      string
	keep       bool
	kept       *string // where the run's data was left (KeepData)
}

func newEnv(ctx context.Context, o Options, onRecv func([]byte, time.Time)) (*env, error) {
	dir, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, onRecv: onRecv, keep: o.KeepData, kept: o.kept}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.recv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.onRecv(b, time.Now())
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go e.recv.Serve(ln)
	e.recvURL = "http://" + ln.Addr().String() + "/hook"

	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.AdminToken = benchToken
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	cfg.Ingest.RateLimit = 0 // the bench measures Herald, not the per-token limit
	// A batch of padded events must fit in one request.
	if need := int64(max(o.Batch, 50))*int64(o.PayloadBytes+16) + 1024; need > cfg.Ingest.MaxBodyBytes {
		cfg.Ingest.MaxBodyBytes = need
	}
	if o.Store == "postgres" {
		dsn, drop, err := tempSchema(ctx, o.DatabaseURL)
		if err != nil {
			e.close()
			return nil, err
		}
		e.dropSchema, e.pgDSN = drop, dsn
		cfg.Storage = config.Storage{Driver: "postgres", DatabaseURL: dsn}
		cfg.SecretKey = seal.GenerateKey()
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: o.Logger})
	if err != nil {
		e.close()
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		e.close()
		return nil, err
	}
	e.app = a
	e.url = a.URL()
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}, Timeout: 60 * time.Second}
	return e, nil
}

func (e *env) close() {
	e.closeApp()
	if e.recv != nil {
		e.recv.Close()
	}
	if e.keep {
		if e.kept != nil {
			where := e.dir
			if e.pgDSN != "" {
				where = e.pgDSN
				os.RemoveAll(e.dir)
			}
			if *e.kept != "" {
				*e.kept += ", "
			}
			*e.kept += where
		}
		return
	}
	if e.dropSchema != nil {
		e.dropSchema()
	}
	os.RemoveAll(e.dir)
}

// closeApp stops Herald (once), leaving its database for a look.
func (e *env) closeApp() {
	if e.app != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e.app.Close(ctx)
		cancel()
		e.app = nil
	}
}

// disk stops Herald and measures what its store keeps.
func (e *env) disk(ctx context.Context, events, deliveries int) (*Disk, error) {
	e.closeApp()
	var tables map[string]int64
	var err error
	if e.pgDSN != "" {
		tables, err = postgresTables(ctx, e.pgDSN)
	} else {
		tables, err = sqliteTables(ctx, e.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("measure the store's size: %w", err)
	}
	return newDisk(tables, events, deliveries), nil
}

// tempSchema creates a schema of its own for one bench run in the database
// at dsn, so a run never touches existing tables; drop removes it.
func tempSchema(ctx context.Context, dsn string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w (check --database-url / HERALD_DATABASE_URL)", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("herald_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " search_path=" + schema, drop, nil // key=value form
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func (e *env) post(path string, body []byte) (int, []byte, error) {
	req, _ := http.NewRequest("POST", e.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

func (e *env) createWebhooks(n int, eventType string) error {
	for i := 0; i < n; i++ {
		body, _ := json.Marshal(map[string]any{
			"name": "bench-" + strconv.Itoa(i), "url": e.recvURL, "event_types": []string{eventType},
		})
		code, b, err := e.post("/api/v1/webhooks", body)
		if err != nil {
			return err
		}
		if code != http.StatusCreated {
			return fmt.Errorf("create webhook: %d %s", code, b)
		}
	}
	return nil
}

// envelope is the part of a delivered payload the receiver reads.
type envelope struct {
	ID   string `json:"id"`
	Data struct {
		SentNS int64 `json:"sent_ns"`
	} `json:"data"`
}

func runThroughput(ctx context.Context, o Options) (*Throughput, error) {
	total := int64(o.Events * o.Webhooks)
	var received atomic.Int64
	var last atomic.Int64
	var postedBytes, receivedBytes atomic.Int64
	e, err := newEnv(ctx, o, func(b []byte, at time.Time) {
		receivedBytes.Add(int64(len(b)))
		received.Add(1)
		last.Store(at.UnixNano())
	})
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := e.createWebhooks(o.Webhooks, "bench.*"); err != nil {
		return nil, err
	}
	var peak atomic.Int64
	stopRSS := sampleRSS(&peak)
	defer stopRSS()

	var quarters []float64
	var qmu sync.Mutex
	nextQuarter := int64(1)
	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	stopProgress := sync.OnceFunc(func() { close(progressDone); <-progressStopped })
	go func() {
		defer close(progressStopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				r := received.Load()
				if o.Progress != nil {
					o.Progress(r, total, "deliveries")
				}
				qmu.Lock()
				for nextQuarter <= 4 && r >= total*nextQuarter/4 {
					quarters = append(quarters, float64(rssBytes())/(1<<20))
					nextQuarter++
				}
				qmu.Unlock()
			}
		}
	}()
	defer stopProgress()

	cpu0 := cpuTime()
	var db0 time.Duration
	dbOK := false
	if o.Store == "postgres" {
		db0, dbOK = postgresCPU()
	}
	start := time.Now()
	durs, err := e.ingestLoad(ctx, o, func(i int64) []byte {
		ev := padEvent(fmt.Sprintf(`{"id":"b%d","type":"bench.event","project":"bench","data":{"seq":%d`, i, i), o.PayloadBytes)
		postedBytes.Add(int64(len(ev)))
		return ev
	}, nil)
	ingestDur := time.Since(start)
	if err != nil {
		return nil, err
	}
	for received.Load() < total {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(10 * time.Millisecond)
	}
	e2e := time.Duration(last.Load() - start.UnixNano())
	cpu := cpuTime() - cpu0
	var dbCPU float64
	if dbOK {
		if db1, ok := postgresCPU(); ok && db1 > db0 {
			dbCPU = float64(db1-db0) / float64(time.Millisecond) / float64(total)
		}
	}
	time.Sleep(200 * time.Millisecond) // late duplicates would show here
	stopProgress()                     // Progress is called from one goroutine at a time
	if o.Progress != nil {
		o.Progress(total, total, "deliveries")
	}
	qmu.Lock()
	q := append([]float64(nil), quarters...)
	qmu.Unlock()
	got := received.Load()
	disk, err := e.disk(ctx, o.Events, int(total))
	if err != nil {
		return nil, err
	}
	return &Throughput{
		CPUPerDeliveryMS: float64(cpu) / float64(time.Millisecond) / float64(total), Disk: disk,
		DatabaseCPUPerDeliveryMS: dbCPU,
		Events:                   o.Events, Webhooks: o.Webhooks, Clients: o.Clients, Batch: o.Batch,
		Deliveries: int(total), Duplicates: int(got - total),
		EventBytes: int(postedBytes.Load() / int64(o.Events)), DeliveryBytes: int(receivedBytes.Load() / max(got, 1)),
		IngestSeconds: ingestDur.Seconds(), IngestPerSec: float64(o.Events) / ingestDur.Seconds(),
		IngestP50MS: percentileMS(durs, 0.50), IngestP99MS: percentileMS(durs, 0.99),
		EndToEndSeconds: e2e.Seconds(), DeliveriesPerSec: float64(total) / e2e.Seconds(),
		PeakRSSMB: float64(peak.Load()) / (1 << 20), RSSMB: q,
	}, nil
}

// ingestLoad posts events 0..o.Events-1 from o.Clients clients, o.Batch
// per request, each client sending its next request as soon as the last one
// is answered; event(i) is the i-th event's JSON. It returns every request's
// response time (from just before the request to the full response read),
// sorted. acked (may be nil) is told, from the client's goroutine, after
// each request, how many events it carried and how many were accepted so
// far (that request's included).
func (e *env) ingestLoad(ctx context.Context, o Options, event func(i int64) []byte, acked func(n, total int64)) ([]time.Duration, error) {
	requests := (o.Events + o.Batch - 1) / o.Batch
	// Each client keeps its own durations, merged once all are done: no lock
	// or shared cache line per request. The work is shared out as it goes,
	// so a client may send more than its even share; the slack saves most
	// appends from growing the slice mid-run.
	perClient := make([][]time.Duration, o.Clients)
	share := requests/o.Clients + 1
	var next, accepted atomic.Int64
	var wg sync.WaitGroup
	errCh := make(chan error, o.Clients)
	for c := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			durs := make([]time.Duration, 0, share+share/4+8)
			defer func() { perClient[c] = durs }()
			var buf bytes.Buffer
			for {
				first := next.Add(int64(o.Batch)) - int64(o.Batch)
				if first >= int64(o.Events) || ctx.Err() != nil {
					return
				}
				n := min(int64(o.Batch), int64(o.Events)-first)
				buf.Reset()
				if o.Batch > 1 {
					buf.WriteString(`{"events":[`)
				}
				for i := int64(0); i < n; i++ {
					if i > 0 {
						buf.WriteByte(',')
					}
					buf.Write(event(first + i))
				}
				if o.Batch > 1 {
					buf.WriteString(`]}`)
				}
				t0 := time.Now()
				code, b, err := e.post("/api/v1/events", buf.Bytes())
				durs = append(durs, time.Since(t0))
				if err != nil || code != http.StatusAccepted {
					errCh <- fmt.Errorf("ingest: status %d %s %v", code, b, err)
					return
				}
				if total := accepted.Add(n); acked != nil {
					acked(n, total)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errCh:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := make([]time.Duration, 0, requests)
	for _, d := range perClient {
		all = append(all, d...)
	}
	slices.Sort(all)
	return all, nil
}

func runLatency(ctx context.Context, o Options) (*Latency, error) {
	n := int(float64(o.Rate) * o.Duration.Seconds())
	total := int64(n * o.Fanout)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, total)
	e, err := newEnv(ctx, o, func(b []byte, at time.Time) {
		var env envelope
		if json.Unmarshal(b, &env) == nil && env.Data.SentNS > 0 {
			mu.Lock()
			lat = append(lat, at.Sub(time.Unix(0, env.Data.SentNS)))
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := e.createWebhooks(o.Fanout, "lat.*"); err != nil {
		return nil, err
	}
	var peak atomic.Int64
	stopRSS := sampleRSS(&peak)
	defer stopRSS()

	if err := e.postAtRate(ctx, n, o.Rate, func(i int) []byte {
		return padEvent(fmt.Sprintf(`{"id":"l%d","type":"lat.event","project":"bench","data":{"sent_ns":%d`, i, time.Now().UnixNano()), o.PayloadBytes)
	}, o.Progress, "events sent at "+strconv.Itoa(o.Rate)+"/s"); err != nil {
		return nil, err
	}
	sorted, err := awaitLatencies(&mu, &lat, int(total), "deliveries")
	if err != nil {
		return nil, err
	}
	if o.Progress != nil {
		o.Progress(int64(n), int64(n), "events sent")
	}
	pct := func(p float64) float64 { return percentileMS(sorted, p) }
	return &Latency{
		Rate: o.Rate, Seconds: o.Duration.Seconds(), Fanout: o.Fanout, Deliveries: len(sorted),
		P50MS: pct(0.50), P95MS: pct(0.95), P99MS: pct(0.99), MaxMS: pct(1),
		PeakRSSMB: float64(peak.Load()) / (1 << 20),
	}, nil
}

// sampleRSS records the peak resident set size every 100ms until stopped.
func sampleRSS(peak *atomic.Int64) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rssBytes(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}

// rssBytes reads VmRSS from /proc/self/status (0 where there is none).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// postAtRate posts n events at rate per second (at most 64 requests open),
// body(i) giving the i-th; it returns once every request was answered, with
// the first ingest error. progress (may be nil) is told every 50 events.
func (e *env) postAtRate(ctx context.Context, n, rate int, body func(i int) []byte, progress func(done, total int64, label string), label string) error {
	interval := time.Second / time.Duration(max(1, rate))
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var failed atomic.Value
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d) // pacing the load generator, not synchronization
		}
		if ctx.Err() != nil {
			wg.Wait()
			return ctx.Err()
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			code, b, err := e.post("/api/v1/events", body(i))
			if err != nil || code != http.StatusAccepted {
				failed.Store(fmt.Errorf("ingest: status %d %s %v", code, b, err))
			}
		}(i)
		if progress != nil && i%50 == 0 {
			progress(int64(i), int64(n), label)
		}
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return nil
}

// awaitLatencies waits up to 60 s for want latencies in *lat (guarded by
// mu), then returns them sorted; what names the deliveries in the error.
func awaitLatencies(mu *sync.Mutex, lat *[]time.Duration, want int, what string) ([]time.Duration, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		got := len(*lat)
		mu.Unlock()
		if got >= want {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d %s arrived within 60s of the last event", got, want, what)
		}
		time.Sleep(10 * time.Millisecond) // polling the receiver's count, with a deadline
	}
	mu.Lock()
	defer mu.Unlock()
	sorted := slices.Clone(*lat)
	slices.Sort(sorted)
	return sorted, nil
}

// percentileMS is the p-th quantile (0..1) of sorted latencies, in ms.
func percentileMS(sorted []time.Duration, p float64) float64 {
	i := int(p*float64(len(sorted))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}
