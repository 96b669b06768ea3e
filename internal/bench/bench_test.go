package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/testenv"
)

// The bench runs end to end at a tiny scale: every delivery arrives and the
// report is filled. (Speed is not asserted here; `herald bench` measures it.)
func TestRunSmall(t *testing.T) {
	t.Parallel()
	var progressed bool
	rep, err := Run(context.Background(), Options{
		Events: 200, Webhooks: 3, Clients: 4, Batch: 10, Rate: 200, Duration: 500 * time.Millisecond, Fanout: 2,
		CeilingDuration: 300 * time.Millisecond,
		Progress:        func(done, total int64, label string) { progressed = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	tp, lat := rep.Throughput, rep.Latency
	if tp == nil || tp.Deliveries != 600 || tp.Duplicates != 0 || tp.DeliveriesPerSec <= 0 || tp.PeakRSSMB <= 0 {
		t.Fatalf("throughput report %+v", tp)
	}
	if lat == nil || lat.Deliveries != 200 || lat.P99MS < lat.P50MS || lat.P50MS <= 0 {
		t.Fatalf("latency report %+v", lat)
	}
	if !progressed {
		t.Fatal("no progress reported")
	}
	// The loopback ceiling was measured in the same run, with the same
	// clients and event size, and the ratio is deliveries/s over it.
	c := rep.Ceiling
	if c == nil || c.Clients != 4 || c.Requests <= 0 || c.RequestsPerSec <= 0 || c.Seconds < 0.6 {
		t.Fatalf("ceiling %+v", c)
	}
	// It is the mean of one measurement before the run and one after.
	b, a := c.Before, c.After
	if b == nil || a == nil || b.Requests <= 0 || a.Requests <= 0 || c.Requests != b.Requests+a.Requests ||
		math.Abs(c.Seconds-(b.Seconds+a.Seconds)) > 1e-9 || math.Abs(c.RequestsPerSec-float64(c.Requests)/c.Seconds) > 1e-6 {
		t.Fatalf("ceiling %+v, before %+v, after %+v: want the two measurements summed", c, b, a)
	}
	if c.PayloadBytes != 1024 || rep.PayloadBytes != 1024 {
		t.Fatalf("ceiling body %d bytes, report %d, want the default 1024", c.PayloadBytes, rep.PayloadBytes)
	}
	if want := tp.DeliveriesPerSec / c.RequestsPerSec; math.Abs(tp.CeilingRatio-want) > 1e-9*want || tp.CeilingRatio <= 0 {
		t.Fatalf("ceiling ratio %v, want %v", tp.CeilingRatio, want)
	}
	if rep.Machine.CPUs != runtime.NumCPU() || rep.Machine.Go != runtime.Version() || rep.Machine.OS != runtime.GOOS {
		t.Fatalf("machine %+v", rep.Machine)
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && runtime.GOARCH == "amd64" && rep.Machine.CPUModel == "" {
		t.Fatalf("no CPU model read from /proc/cpuinfo: %+v", rep.Machine)
	}
}

// --payload-bytes sets the size of every event's JSON (within 10%), and the
// padding reaches the receiver.
func TestRunPayloadBytes(t *testing.T) {
	t.Parallel()
	for _, size := range []int{300, 4096} {
		rep, err := Run(context.Background(), Options{
			Scenario: "throughput", Events: 50, Webhooks: 2, Clients: 2, Batch: 5, PayloadBytes: size, NoCeiling: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		tp := rep.Throughput
		if tp.EventBytes < size*9/10 || tp.EventBytes > size*11/10 {
			t.Fatalf("--payload-bytes %d: events of %d bytes", size, tp.EventBytes)
		}
		if tp.DeliveryBytes < tp.EventBytes {
			t.Fatalf("--payload-bytes %d: delivered bodies of %d bytes, smaller than the %d-byte events", size, tp.DeliveryBytes, tp.EventBytes)
		}
		if rep.Ceiling != nil || tp.CeilingRatio != 0 {
			t.Fatalf("NoCeiling measured a ceiling: %+v", rep.Ceiling)
		}
	}
}

// padEvent makes valid JSON of exactly the size asked for (when that is at
// least the event without filler) and keeps the event's fields.
func TestPadEvent(t *testing.T) {
	t.Parallel()
	prefix := `{"id":"b1","type":"bench.event","project":"bench","data":{"seq":1`
	for _, size := range []int{0, 10, len(prefix) + 2, len(prefix) + 12, 1024, 100_000} {
		b := padEvent(prefix, size)
		var ev struct {
			ID   string `json:"id"`
			Data struct {
				Seq int    `json:"seq"`
				Pad string `json:"pad"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("size %d: %v: %s", size, err, b)
		}
		if ev.ID != "b1" || ev.Data.Seq != 1 {
			t.Fatalf("size %d: fields lost: %s", size, b)
		}
		if bare := len(prefix) + 2; size >= bare+len(`,"pad":""`) && len(b) != size {
			t.Fatalf("size %d: got %d bytes", size, len(b))
		} else if len(b) < bare {
			t.Fatalf("size %d: %d bytes, shorter than the bare event", size, len(b))
		}
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 25800.4: "25,800", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

// The noisy scenario runs end to end at a tiny scale: the hanging webhooks
// hold requests, every healthy delivery arrives and the report is filled.
func TestRunNoisySmall(t *testing.T) {
	t.Parallel()
	rep, err := Run(context.Background(), Options{Scenario: "noisy", Hanging: 5, Rate: 40, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Noisy
	if n == nil || n.Deliveries != 40 || n.Hanging != 5 || n.HangingRequests < 5 || n.P99MS < n.P50MS || n.P50MS <= 0 {
		t.Fatalf("noisy report %+v", n)
	}
	if n.HangingRequests > n.Workers/2 {
		t.Fatalf("the noisy project held %d of %d workers, want at most half", n.HangingRequests, n.Workers)
	}
	if rep.Throughput != nil || rep.Latency != nil {
		t.Fatal("noisy ran other scenarios")
	}
}

// `herald bench --store postgres` runs in a schema of its own and drops it,
// the backlog scenario too.
func TestRunSmallPostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("HERALD_TEST_DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	conn, err := pgx.Connect(ctx, dsn)
	cancel()
	if err != nil {
		testenv.Require(t, "PostgreSQL", fmt.Errorf("not reachable at %s (%w); `make test` starts it, or set HERALD_TEST_DATABASE_URL", dsn, err))
	}
	defer conn.Close(context.Background())
	count := func() int {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'herald_bench_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	rep, err := Run(context.Background(), Options{
		Scenario: "throughput", Events: 100, Webhooks: 2, Clients: 4, Batch: 10,
		Store: "postgres", DatabaseURL: dsn, CeilingDuration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Store != "postgres" || rep.Throughput.Deliveries != 200 || rep.Throughput.Duplicates != 0 {
		t.Fatalf("report %+v %+v", rep, rep.Throughput)
	}
	// The backlog scenario counts its pending rows in PostgreSQL too.
	rep, err = Run(context.Background(), Options{
		Scenario: "backlog", Events: 50, Webhooks: 2, Clients: 4, Store: "postgres", DatabaseURL: dsn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := rep.Backlog; b.Pending != 100 || b.Arrived != 100 || b.Duplicates != 0 {
		t.Fatalf("backlog on PostgreSQL: %d pending, %d arrived, %d duplicates", b.Pending, b.Arrived, b.Duplicates)
	}
	if after := count(); after > before {
		t.Fatalf("the bench left its schema behind (%d before, %d after)", before, after)
	}
}

// The throughput report carries the response times of the clients' POSTs.
func TestRunThroughputIngestPercentiles(t *testing.T) {
	t.Parallel()
	rep, err := Run(context.Background(), Options{Scenario: "throughput", Events: 100, Webhooks: 1, Clients: 4, NoCeiling: true})
	if err != nil {
		t.Fatal(err)
	}
	tp := rep.Throughput
	if tp.IngestP50MS <= 0 || tp.IngestP99MS < tp.IngestP50MS {
		t.Fatalf("ingest p50 %v ms, p99 %v ms", tp.IngestP50MS, tp.IngestP99MS)
	}
}

// The backlog scenario runs end to end at a tiny scale: every delivery
// waits in the store until the receiver is released, then arrives once, and
// the memory samples are in order.
func TestRunBacklogSmall(t *testing.T) {
	t.Parallel()
	rep, err := Run(context.Background(), Options{Scenario: "backlog", Events: 200, Webhooks: 2, Clients: 4})
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backlog
	if b == nil || rep.Throughput != nil || rep.Latency != nil || rep.Noisy != nil {
		t.Fatalf("report %+v", rep)
	}
	if b.Deliveries != 400 || b.Arrived != 400 || b.Duplicates != 0 || b.EarlyAnswers != 0 {
		t.Fatalf("%d deliveries, %d arrived, %d duplicates, %d answered early", b.Deliveries, b.Arrived, b.Duplicates, b.EarlyAnswers)
	}
	// Nothing was delivered before the release: the store counted it all.
	if b.Pending != 400 {
		t.Fatalf("%d pending at the end of ingest, want 400", b.Pending)
	}
	if b.HeldPeak <= 0 || b.HeldPeak > b.Workers || b.Workers != config.Defaults().Delivery.Workers {
		t.Fatalf("held %d requests at once of %d workers", b.HeldPeak, b.Workers)
	}
	if b.IngestP50MS <= 0 || b.IngestP99MS < b.IngestP50MS || b.IngestPerSec <= 0 {
		t.Fatalf("ingest %v events/s, p50 %v ms, p99 %v ms", b.IngestPerSec, b.IngestP50MS, b.IngestP99MS)
	}
	if b.DrainSeconds <= 0 || b.DrainPerSec <= 0 || b.DrainPeakRSSMB <= 0 || b.PeakRSSMB <= 0 || b.PeakHeapMB <= 0 {
		t.Fatalf("drain %vs, %v/s, peak RSS %v MB; ingest peak RSS %v MB, heap %v MB", b.DrainSeconds, b.DrainPerSec, b.DrainPeakRSSMB, b.PeakRSSMB, b.PeakHeapMB)
	}
	if len(b.Points) != 5 {
		t.Fatalf("points %+v", b.Points)
	}
	for i, p := range b.Points {
		if p.Percent != []int{10, 25, 50, 75, 100}[i] || p.Phase != "ingest" || p.Ingested*100 < p.Percent*200 || p.RSSMB <= 0 || p.HeapMB <= 0 {
			t.Fatalf("point %d: %+v", i, p)
		}
		if i > 0 && p.Ingested < b.Points[i-1].Ingested {
			t.Fatalf("points out of order: %+v", b.Points)
		}
	}
	if last := b.Points[4]; last.Ingested != 200 || b.RSSGrowthMB != last.RSSMB-b.Points[0].RSSMB {
		t.Fatalf("100%% point %+v, RSS growth %v MB", last, b.RSSGrowthMB)
	}
	// Samples in the order taken: time, events and deliveries never go
	// back, and the drain follows the ingest.
	drained := false
	for i, m := range b.Samples {
		if i > 0 {
			prev := b.Samples[i-1]
			if m.Seconds < prev.Seconds || m.Ingested < prev.Ingested || m.Arrived < prev.Arrived {
				t.Fatalf("samples out of order at %d: %+v after %+v", i, m, prev)
			}
		}
		if m.Phase == "drain" {
			drained = true
		} else if drained || m.Phase != "ingest" {
			t.Fatalf("sample %d in phase %q after the drain began", i, m.Phase)
		}
		if m.Phase == "ingest" && m.Arrived != 0 {
			t.Fatalf("sample %d: %d deliveries arrived before the release", i, m.Arrived)
		}
	}
	if !drained || b.Samples[len(b.Samples)-1].Arrived != 400 {
		t.Fatalf("no drain sample with every delivery: %+v", b.Samples[len(b.Samples)-1])
	}
}
