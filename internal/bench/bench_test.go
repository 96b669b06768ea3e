package bench

import (
	"context"
	"testing"
	"time"
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
