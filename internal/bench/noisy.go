package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-hq/herald/internal/config"
)

// noisyBacklog is how many events the noisy project gets before the
// measurement: each fans out to every hanging webhook.
const noisyBacklog = 100

// hangingEndpoint accepts requests and answers none until closed.
type hangingEndpoint struct {
	srv     *http.Server
	url     string
	active  atomic.Int64
	peak    atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newHangingEndpoint() (*hangingEndpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hangingEndpoint{release: make(chan struct{}), url: "http://" + ln.Addr().String()}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.active.Add(1)
		defer h.active.Add(-1)
		for {
			p := h.peak.Load()
			if n <= p || h.peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}), ReadHeaderTimeout: 10 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

// close lets the hanging requests end (so Herald's shutdown does not wait for
// their timeout) and stops the endpoint.
func (h *hangingEndpoint) close() {
	h.once.Do(func() { close(h.release) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.srv.Shutdown(ctx)
}

func (e *env) createWebhook(body map[string]any) error {
	b, _ := json.Marshal(body)
	code, out, err := e.post("/api/v1/webhooks", b)
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return fmt.Errorf("create webhook: %d %s", code, out)
	}
	return nil
}

func runNoisy(ctx context.Context, o Options) (*Noisy, error) {
	n := int(float64(o.Rate) * o.Duration.Seconds())
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
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
	hang, err := newHangingEndpoint()
	if err != nil {
		return nil, err
	}
	defer hang.close() // before e.close (deferred calls run last first)

	for i := 0; i < o.Hanging; i++ {
		if err := e.createWebhook(map[string]any{
			"name": "noisy-" + strconv.Itoa(i), "url": hang.url + "/hook/" + strconv.Itoa(i),
			"project": "noisy", "timeout": "5m", "event_types": []string{"noisy.*"},
		}); err != nil {
			return nil, err
		}
	}
	if err := e.createWebhook(map[string]any{
		"name": "healthy", "url": e.recvURL, "project": "healthy", "event_types": []string{"healthy.*"},
	}); err != nil {
		return nil, err
	}
	// The noisy project's backlog: every hanging webhook has more work than
	// it may have in flight.
	for b := 0; b < noisyBacklog; b += 50 {
		var sb strings.Builder
		sb.WriteString(`{"events":[`)
		for i := b; i < min(b+50, noisyBacklog); i++ {
			if i > b {
				sb.WriteByte(',')
			}
			sb.Write(padEvent(fmt.Sprintf(`{"id":"n%d","type":"noisy.event","project":"noisy","data":{"seq":%d`, i, i), o.PayloadBytes))
		}
		sb.WriteString(`]}`)
		code, body, err := e.post("/api/v1/events", []byte(sb.String()))
		if err != nil || code != http.StatusAccepted {
			return nil, fmt.Errorf("ingest: status %d %s %v", code, body, err)
		}
	}
	// Measure once the noisy project holds what it can.
	settle := time.Now().Add(10 * time.Second)
	for hang.active.Load() < int64(min(o.Hanging, 8)) && time.Now().Before(settle) {
		time.Sleep(10 * time.Millisecond)
	}

	if err := e.postAtRate(ctx, n, o.Rate, func(i int) []byte {
		return padEvent(fmt.Sprintf(`{"id":"h%d","type":"healthy.event","project":"healthy","data":{"sent_ns":%d`, i, time.Now().UnixNano()), o.PayloadBytes)
	}, o.Progress, "healthy events at "+strconv.Itoa(o.Rate)+"/s"); err != nil {
		return nil, err
	}
	sorted, err := awaitLatencies(&mu, &lat, n, "healthy deliveries")
	if err != nil {
		return nil, err
	}
	if o.Progress != nil {
		o.Progress(int64(n), int64(n), "healthy events sent")
	}
	pct := func(p float64) float64 { return percentileMS(sorted, p) }
	return &Noisy{
		Hanging: o.Hanging, HangingRequests: int(hang.peak.Load()), Workers: config.Defaults().Delivery.Workers,
		Rate: o.Rate, Seconds: o.Duration.Seconds(), Deliveries: len(sorted),
		P50MS: pct(0.50), P99MS: pct(0.99), MaxMS: pct(1),
	}, nil
}
