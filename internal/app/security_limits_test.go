package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

// The per-token ingest rate limit (ingest.rate_limit events/s, burst
// ingest.rate_burst): a token over it gets 429 with Retry-After on
// /events and /alertmanager, and nothing of the refused request is stored;
// other tokens are not affected; after Retry-After the token may post again.
func TestIngestRateLimit(t *testing.T) {
	t.Parallel()
	h, _ := startSecure(t, func(c *config.Config) { c.Ingest.RateLimit = 5; c.Ingest.RateBurst = 10 }, app.Options{})
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL, "project": "p", "event_types": []string{"x", "alert.*"}})
	a, b := h.token("publisher", "p"), h.token("publisher", "p")

	batch := func(prefix string, n int) map[string]any {
		evs := make([]map[string]any, n)
		for i := range evs {
			evs[i] = map[string]any{"id": prefix + strconv.Itoa(i), "type": "x", "project": "p"}
		}
		return map[string]any{"events": evs}
	}
	if code, raw := h.do(a, "POST", "/api/v1/events", batch("burst-", 10), nil); code != http.StatusAccepted {
		t.Fatalf("the burst was refused: %d %s", code, raw)
	}
	// The bucket refills at 5 events/s while the requests take their time on
	// a busy machine: post until one is refused (each request takes a token,
	// so this ends soon), then check what the refusal says and stores.
	var hdr http.Header
	var code int
	var raw []byte
	over := ""
	for i := 0; i < 100; i++ {
		over = "over-" + strconv.Itoa(i)
		code, raw = doReqHeaders(t, h.url, a, "POST", "/api/v1/events", map[string]any{"id": over, "type": "x", "project": "p"}, nil, &hdr)
		if code != http.StatusAccepted {
			break
		}
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d %s", code, raw)
	}
	if e := decodeError(t, raw); e.Error.Code != "rate_limited" || !strings.Contains(e.Error.Message, "rate limit") {
		t.Fatalf("error %+v", e.Error)
	}
	retry, err := strconv.Atoi(hdr.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 2 {
		t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
	}
	if code, _ := h.do(adminToken, "GET", "/api/v1/events/"+over+"?project=p", nil, nil); code != http.StatusNotFound {
		t.Fatalf("the refused event was stored: %d", code)
	}
	alerts := map[string]any{"version": "4", "status": "firing", "alerts": []map[string]any{{"status": "firing", "labels": map[string]string{"alertname": "A"}, "fingerprint": "f"}}}
	for i := 0; i < 100; i++ { // as above: a token may have come back meanwhile
		if code, _ = doReqHeaders(t, h.url, a, "POST", "/api/v1/alertmanager?project=p", alerts, nil, &hdr); code != http.StatusAccepted {
			break
		}
	}
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("alertmanager over the limit: %d %v", code, hdr)
	}
	// Another token has its own bucket.
	if code, raw := h.do(b, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "p"}, nil); code != http.StatusAccepted {
		t.Fatalf("another token was limited: %d %s", code, raw)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if code, raw := h.do(a, "POST", "/api/v1/events", map[string]any{"id": "later", "type": "x", "project": "p"}, nil); code != http.StatusAccepted {
		t.Fatalf("after Retry-After: %d %s", code, raw)
	}
	if code, raw := h.do(a, "POST", "/api/v1/alertmanager?project=p", alerts, nil); code != http.StatusAccepted {
		t.Fatalf("alertmanager after the wait: %d %s", code, raw)
	}

	// rate_limit 0 turns the limit off.
	off, _ := startSecure(t, func(c *config.Config) { c.Ingest.RateLimit = 0; c.Ingest.RateBurst = 1 }, app.Options{})
	for i := range 30 {
		if code, raw := off.do(adminToken, "POST", "/api/v1/events", map[string]any{"type": "x"}, nil); code != http.StatusAccepted {
			t.Fatalf("request %d with the limit off: %d %s", i, code, raw)
		}
	}
}

// rawRequest writes head (request line and headers, without the final
// blank line) and the terminator on a new connection, and reads the answer;
// it reads while writing, as the server answers before the head ends.
func rawRequest(t *testing.T, addr, head string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, head+"\r\n")
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	return resp
}

// Header limits on the API server: 1 MiB of headers, in one header or in
// many, gets 431 before authentication or any handler runs; a request body
// over its limit gets 413 (webhooks 1 MiB, events 256 KiB, Alertmanager
// 1 MiB).
func TestRequestLimits(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	addr := strings.TrimPrefix(h.url, "http://")
	base := "POST /api/v1/events HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer " + adminToken + "\r\nContent-Length: 2\r\n"

	one := rawRequest(t, addr, base+"X-Big: "+strings.Repeat("a", 1<<20)+"\r\n")
	if one.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("1 MiB header: %d", one.StatusCode)
	}
	var many strings.Builder
	many.WriteString(base)
	for i := 0; many.Len() < 1<<20; i++ {
		fmt.Fprintf(&many, "X-H%d: v\r\n", i)
	}
	if r := rawRequest(t, addr, many.String()); r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("1 MiB of small headers: %d", r.StatusCode)
	}
	// A normal request on the same server still works.
	if code, _ := h.do(adminToken, "GET", "/api/v1/settings", nil, nil); code != http.StatusOK {
		t.Fatalf("after the oversized requests: %d", code)
	}

	big := func(n int) string { return `{"name":"` + strings.Repeat("a", n) + `"}` }
	for _, c := range []struct{ path, body string }{
		{"/api/v1/webhooks", big(1<<20 + 10)},
		{"/api/v1/events", `{"type":"x","data":{"b":"` + strings.Repeat("a", 257<<10) + `"}}`},
		{"/api/v1/alertmanager?project=p", `{"version":"4","alerts":[],"x":"` + strings.Repeat("a", 1<<20+10) + `"}`},
	} {
		code, raw := h.do(adminToken, "POST", c.path, c.body, nil)
		if code != http.StatusRequestEntityTooLarge || decodeError(t, raw).Error.Code != "too_large" {
			t.Fatalf("%s with an oversized body: %d %s", c.path, code, raw)
		}
	}
}

// A client that sends its headers too slowly (slowloris) is cut off by the
// API server's ReadHeaderTimeout (10s) instead of holding a connection.
func TestSlowHeadersCutOff(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the 10s ReadHeaderTimeout")
	}
	h := start(t, nil)
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET /api/v1/settings HTTP/1.1\r\nHost: herald\r\n") // and never the end
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open for 20s")
	}
	if d := time.Since(start); d < 9*time.Second || d > 15*time.Second {
		t.Fatalf("connection closed after %s, want about the 10s ReadHeaderTimeout", d)
	}
}
