package cli

import (
	"encoding/json"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// A redirected `herald bench` writes its report and no progress bar (no
// carriage-return lines); the report names the machine and the store and
// gives deliveries/s as a ratio to the loopback ceiling measured in the run.
func TestBenchRedirectedDrawsNoProgressBar(t *testing.T) {
	t.Parallel()
	out, code := runCLI(nil, "bench", "--scenario", "throughput", "--events", "200", "--webhooks", "2", "--clients", "4",
		"--ceiling-duration", "300ms", "--payload-bytes", "512")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "█") {
		t.Fatalf("progress bar drawn on a non-terminal:\n%q", out)
	}
	if !strings.Contains(out, "end to end:") || !strings.Contains(out, "400 deliveries") {
		t.Fatalf("report missing:\n%s", out)
	}
	for _, want := range []string{
		"machine: " + runtime.GOOS + "/" + runtime.GOARCH, runtime.Version(),
		"store: sqlite, events of 512 bytes",
		"4 clients posting 512-byte bodies straight to the receiver",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`end to end:  [0-9,]+ deliveries/s = [0-9.]+× the loopback ceiling \([0-9,]+ requests/s\)`).MatchString(out) {
		t.Fatalf("no ratio to the loopback ceiling:\n%s", out)
	}
	if !regexp.MustCompile(`ingest: +[0-9,]+ events/s \([0-9.]+s\), p50 [0-9.]+ ms, p99 [0-9.]+ ms per request`).MatchString(out) {
		t.Fatalf("no ingest percentiles:\n%s", out)
	}
}

// `herald bench --scenario backlog` prints the memory at each share of the
// backlog, its growth, and the drain.
func TestBenchBacklogReport(t *testing.T) {
	t.Parallel()
	out, code := runCLI(nil, "bench", "--scenario", "backlog", "--events", "100", "--webhooks", "2", "--clients", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, re := range []string{
		`backlog: 100 events × 2 webhooks = 200 deliveries waiting behind a receiver that holds every request \(it held [0-9]+ at once; 256 workers\)`,
		`ingest: +[0-9,]+ events/s .*p99 [0-9.]+ ms per request; 200 deliveries pending in the store after the last event`,
		`memory: +RSS 10% [0-9]+, 25% [0-9]+, 50% [0-9]+, 75% [0-9]+, 100% [0-9]+ MB by share of the backlog ingested`,
		`growth: +RSS [-+][0-9.]+ MB from 10% to 100% of the backlog`,
		`drain: +[0-9,]+ deliveries/s; every delivery arrived [0-9.]+s after the release \(200 arrived, 0 duplicates\)`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Fatalf("report lacks %s:\n%s", re, out)
		}
	}
}

// --json carries the ceiling and the ratio; --ceiling=false skips both.
func TestBenchJSONCeiling(t *testing.T) {
	t.Parallel()
	type report struct {
		Machine struct {
			CPUs int    `json:"cpus"`
			Go   string `json:"go"`
		} `json:"machine"`
		PayloadBytes int `json:"payload_bytes"`
		Ceiling      *struct {
			RequestsPerSec float64 `json:"requests_per_sec"`
		} `json:"ceiling"`
		Throughput struct {
			DeliveriesPerSec float64 `json:"deliveries_per_sec"`
			CeilingRatio     float64 `json:"ceiling_ratio"`
			EventBytes       int     `json:"event_bytes"`
		} `json:"throughput"`
	}
	run := func(args ...string) report {
		t.Helper()
		args = append([]string{"bench", "--json", "--scenario", "throughput", "--events", "100", "--webhooks", "2", "--clients", "2", "--ceiling-duration", "300ms"}, args...)
		out, code := runCLI(nil, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		return r
	}
	r := run()
	if r.Ceiling == nil || r.Ceiling.RequestsPerSec <= 0 || r.Throughput.CeilingRatio <= 0 {
		t.Fatalf("no ceiling in the JSON: %+v", r)
	}
	if want := r.Throughput.DeliveriesPerSec / r.Ceiling.RequestsPerSec; r.Throughput.CeilingRatio < want*0.999 || r.Throughput.CeilingRatio > want*1.001 {
		t.Fatalf("ceiling_ratio %v, want %v", r.Throughput.CeilingRatio, want)
	}
	if r.PayloadBytes != 1024 || r.Throughput.EventBytes < 920 || r.Throughput.EventBytes > 1130 || r.Machine.CPUs != runtime.NumCPU() || r.Machine.Go != runtime.Version() {
		t.Fatalf("report %+v", r)
	}
	if r := run("--ceiling=false"); r.Ceiling != nil || r.Throughput.CeilingRatio != 0 {
		t.Fatalf("--ceiling=false measured a ceiling: %+v", r)
	}
}

// --payload-bytes below 1 is refused before anything runs.
func TestBenchPayloadBytesInvalid(t *testing.T) {
	t.Parallel()
	out, code := runCLI(nil, "bench", "--payload-bytes", "0")
	if code == 0 || !strings.Contains(out, "--payload-bytes") {
		t.Fatalf("exit %d: %s", code, out)
	}
}
