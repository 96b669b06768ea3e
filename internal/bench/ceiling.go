package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Machine describes where a run happened, so a figure can be compared with
// one taken elsewhere.
type Machine struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model,omitempty"`
	Go       string `json:"go"`
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s/%s, %d CPUs", m.OS, m.Arch, m.CPUs)
	if m.CPUModel != "" {
		s += " (" + m.CPUModel + ")"
	}
	return s + ", " + m.Go
}

func thisMachine() Machine {
	return Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), CPUModel: cpuModel(), Go: runtime.Version()}
}

// cpuModel reads the first "model name" of /proc/cpuinfo ("" where there is
// none, as on macOS or some ARM kernels).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// Ceiling is what the bench's own clients get from its own receiver with
// Herald out of the way: the same number of clients posting bodies of the
// same size straight to a receiver like the bench's. No webhook server on
// this machine can deliver faster than that, so Herald's deliveries/s are
// also given as a ratio to it.
type Ceiling struct {
	Clients        int     `json:"clients"`
	PayloadBytes   int     `json:"payload_bytes"`
	Requests       int     `json:"requests"`
	Seconds        float64 `json:"seconds"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	// CPUPerRequestMS is this process's CPU time per request: the load
	// tool's and the receiver's cost of one request, which the throughput
	// scenario subtracts to give Herald's own CPU per delivery.
	CPUPerRequestMS float64 `json:"cpu_per_request_ms"`
	// Before and After are the two measurements the figures above combine
	// (nil for a single measurement): one just before the throughput
	// scenario and one just after it. A shared machine's speed drifts (the
	// ceiling alone was seen to move by a third between runs of the same
	// command), so the ceiling is the mean over both, measured around the
	// run it is compared with, and each is reported.
	Before *Ceiling `json:"before,omitempty"`
	After  *Ceiling `json:"after,omitempty"`
}

// combine is the ceiling over both measurements: requests and CPU summed
// over the time of both.
func combine(before, after *Ceiling) *Ceiling {
	n := before.Requests + after.Requests
	secs := before.Seconds + after.Seconds
	cpu := before.CPUPerRequestMS*float64(before.Requests) + after.CPUPerRequestMS*float64(after.Requests)
	return &Ceiling{Clients: before.Clients, PayloadBytes: before.PayloadBytes, Requests: n, Seconds: secs,
		RequestsPerSec: float64(n) / secs, CPUPerRequestMS: cpu / float64(max(n, 1)), Before: before, After: after}
}

// measureCeiling posts payload-sized bodies from clients goroutines to a
// loopback receiver for d and counts the requests answered.
func measureCeiling(ctx context.Context, clients, payload int, d time.Duration) (*Ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The same handler as the bench's receiver: read the body, answer 204.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	url := "http://" + ln.Addr().String() + "/hook"
	body := padEvent(`{"id":"c0","type":"ceiling.event","project":"bench","data":{"seq":0`, payload)

	var done atomic.Int64
	var failed atomic.Value
	cpu0 := cpuTime()
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					failed.Store(fmt.Errorf("receiver answered %d", resp.StatusCode))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err, ok := failed.Load().(error); ok {
		return nil, err
	}
	n := int(done.Load())
	return &Ceiling{Clients: clients, PayloadBytes: len(body), Requests: n, Seconds: el.Seconds(), RequestsPerSec: float64(n) / el.Seconds(),
		CPUPerRequestMS: float64(cpu) / float64(time.Millisecond) / float64(max(n, 1))}, nil
}

// padEvent closes an event's JSON whose data object is open (prefix ends
// inside "data":{...) with a "pad" field of filler, so the whole is about
// size bytes (never smaller than the event without filler).
func padEvent(prefix string, size int) []byte {
	const open, end = `,"pad":"`, `"}}`
	n := max(0, size-len(prefix)-len(open)-len(end))
	b := make([]byte, 0, len(prefix)+len(open)+n+len(end))
	b = append(b, prefix...)
	if n > 0 {
		b = append(b, open...)
		for i := range n {
			b = append(b, 'a'+byte(i%26))
		}
		b = append(b, '"')
	}
	return append(b, "}}"...)
}

// Thousands formats n rounded to an integer with comma separators
// (25800.4 → "25,800").
func Thousands(n float64) string {
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
