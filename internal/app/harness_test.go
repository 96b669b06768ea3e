package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

const adminToken = "test-admin-token-0123456789abcdefghij"

// herald is a running server for a test.
type herald struct {
	t   *testing.T
	app *app.App
	url string
	cfg config.Config
}

// start runs Herald on a random loopback port with a temp SQLite database.
// mod adjusts the configuration.
func start(t *testing.T, mod func(*config.Config)) *herald {
	t.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	cfg.Delivery.RetrySchedule = []string{"200ms", "200ms", "200ms"}
	cfg.Delivery.Workers = 32
	if mod != nil {
		mod(&cfg)
	}
	return startWith(t, cfg)
}

func startWith(t *testing.T, cfg config.Config) *herald {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: log})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &herald{t: t, app: a, url: a.URL(), cfg: cfg}
	t.Cleanup(func() { h.close() })
	return h
}

func (h *herald) close() {
	if h.app == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.app.Close(ctx); err != nil {
		h.t.Errorf("close: %v", err)
	}
	h.app = nil
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// do sends a request with token and decodes the JSON answer into out (if not
// nil); it returns the status code and the raw body.
func (h *herald) do(token, method, path string, body any, out any) (int, []byte) {
	h.t.Helper()
	return doReq(h.t, h.url, token, method, path, body, out, nil)
}

func doReq(t *testing.T, base, token, method, path string, body any, out any, hdr http.Header) (int, []byte) {
	t.Helper()
	code, raw, _ := request(t, base, token, method, path, body, out, hdr)
	return code, raw
}

// request sends one API request (body: nil, a string, bytes or a value to
// marshal) and decodes a 2xx JSON answer into out; it returns the status,
// the raw body and the response headers.
func request(t *testing.T, base, token, method, path string, body any, out any, hdr http.Header) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw, resp.Header
}

// mustDo is do that fails the test unless the status is want.
func (h *herald) mustDo(want int, method, path string, body any, out any) []byte {
	h.t.Helper()
	code, raw := h.do(adminToken, method, path, body, out)
	if code != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	return raw
}

type createdWebhook struct {
	ID            string `json:"id"`
	SigningSecret string `json:"signing_secret"`
	Enabled       bool   `json:"enabled"`
}

func (h *herald) createWebhook(body map[string]any) createdWebhook {
	h.t.Helper()
	if _, ok := body["name"]; !ok {
		body["name"] = "hook-" + time.Now().Format("150405.000000000")
	}
	if _, ok := body["event_types"]; !ok {
		body["event_types"] = []string{"*"}
	}
	var c createdWebhook
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", body, &c)
	if c.SigningSecret == "" {
		h.t.Fatal("create did not return a signing secret")
	}
	return c
}

func (h *herald) sendEvents(events ...map[string]any) {
	h.t.Helper()
	h.mustDo(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"events": events}, nil)
}

type delivery struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	Test      bool   `json:"test"`
	LastError string `json:"last_error"`
}

type attempt struct {
	Number         int                 `json:"number"`
	StartedAt      time.Time           `json:"started_at"`
	StatusCode     int                 `json:"status_code"`
	Error          string              `json:"error"`
	ResponseBody   string              `json:"response_body"`
	RequestHeaders map[string][]string `json:"request_headers"`
}

type deliveryDetail struct {
	delivery
	Log []attempt `json:"attempt_log"`
}

func (h *herald) deliveries(query string) []delivery {
	h.t.Helper()
	var out []delivery
	cursor := ""
	for {
		var page struct {
			Data       []delivery `json:"data"`
			NextCursor string     `json:"next_cursor"`
		}
		q := "/api/v1/deliveries?limit=500&" + query
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		h.mustDo(http.StatusOK, "GET", q, nil, &page)
		out = append(out, page.Data...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// eventually polls cond every 20ms until it is true or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a loopback endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	// respond decides the answer to the n-th request (0-based); nil = 200.
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.requests)
		rc.requests = append(rc.requests, received{at: time.Now(), header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}
