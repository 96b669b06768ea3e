package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald/internal/testenv"
)

// The bench runs end to end at a tiny scale: every delivery arrives and the
// report is filled. (Speed is not asserted here; `herald bench` measures it.)
func TestRunSmall(t *testing.T) {
	t.Parallel()
	var progressed bool
	rep, err := Run(context.Background(), Options{
		Events: 200, Webhooks: 3, Clients: 4, Batch: 10, Rate: 200, Duration: 500 * time.Millisecond, Fanout: 2,
		Progress: func(done, total int64, label string) { progressed = true },
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

// `herald bench --store postgres` runs in a schema of its own and drops it.
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
		Store: "postgres", DatabaseURL: dsn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Store != "postgres" || rep.Throughput.Deliveries != 200 || rep.Throughput.Duplicates != 0 {
		t.Fatalf("report %+v %+v", rep, rep.Throughput)
	}
	if after := count(); after > before {
		t.Fatalf("the bench left its schema behind (%d before, %d after)", before, after)
	}
}
