package app_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
)

// The SSRF guard end to end, on a server WITHOUT network.allow_cidrs (as in
// production): deliveries, test sends and the ownership challenge to
// loopback, link-local (cloud metadata) and IPv4-mapped forms are refused
// when connecting, nothing reaches the endpoint, and the refusal reason is
// recorded on the attempt.
func TestSSRFGuardEndToEnd(t *testing.T) {
	t.Parallel()
	h, _ := startSecure(t, noLoopback, app.Options{ChallengeTimeout: testChallengeTimeout})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			netdataChallenge("k")(w, r)
		}
	})
	u, _ := url.Parse(rc.URL)
	_, port, _ := net.SplitHostPort(u.Host)

	// A real delivery: every attempt refused, the reason on each.
	wh := h.createWebhook(map[string]any{"url": rc.URL + "/hook", "project": "p"})
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	var ds []delivery
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		ds = h.deliveries("webhook=" + wh.ID)
		return len(ds) == 1 && ds[0].State == "failed"
	})
	var d deliveryDetail
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+ds[0].ID, nil, &d)
	if len(d.Log) == 0 {
		t.Fatal("no attempt recorded")
	}
	for _, a := range d.Log {
		if a.StatusCode != 0 || !strings.Contains(a.Error, "is a loopback address") || !strings.Contains(a.Error, "network.allow_cidrs") {
			t.Fatalf("attempt %d: status %d error %q", a.Number, a.StatusCode, a.Error)
		}
	}
	if !strings.Contains(d.LastError, "loopback") {
		t.Fatalf("last_error %q", d.LastError)
	}

	// Test sends, through every form of an internal address.
	for name, c := range map[string]struct{ url, kind string }{
		"loopback literal":      {rc.URL, "loopback"},
		"localhost name":        {"http://localhost:" + port + "/", "loopback"},
		"IPv4-mapped IPv6":      {"http://[::ffff:127.0.0.1]:" + port + "/", "loopback"},
		"cloud metadata":        {"http://169.254.169.254/latest/meta-data/", "cloud metadata"},
		"link-local":            {"http://169.254.10.10/", "link-local"},
		"private":               {"http://10.1.2.3/", "private"},
		"unspecified":           {"http://0.0.0.0:" + port + "/", "unspecified"},
		"IPv6 loopback":         {"http://[::1]:" + port + "/", "loopback"},
		"mapped cloud metadata": {"http://[::ffff:169.254.169.254]/", "cloud metadata"},
	} {
		w := h.createWebhook(map[string]any{"url": c.url, "project": "p"})
		res := h.testSend(w.ID)
		if res.OK || res.StatusCode != 0 || !strings.Contains(res.Error, c.kind) {
			t.Fatalf("%s: %+v", name, res)
		}
		var td deliveryDetail
		h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+res.DeliveryID, nil, &td)
		if len(td.Log) != 1 || !strings.Contains(td.Log[0].Error, c.kind) {
			t.Fatalf("%s: test attempt %+v", name, td.Log)
		}
	}

	// The ownership challenge: refused by the guard, so the save is refused.
	code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", map[string]any{"name": "nd", "url": rc.URL, "event_types": []string{"*"}, "challenge_secret": "k"}, nil)
	expect422(t, code, raw, "blocked")
	if !strings.Contains(string(raw), "loopback") {
		t.Fatalf("challenge refusal does not say why: %s", raw)
	}
	if n := rc.count(); n != 0 {
		t.Fatalf("the endpoint on loopback got %d requests through the guard", n)
	}
}
