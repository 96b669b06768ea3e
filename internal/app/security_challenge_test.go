package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
)

// testChallengeTimeout is the ownership challenge's limit in these tests: far
// above what an answering endpoint needs even on a loaded machine, and far
// below how long the "slow" endpoint hangs (slowChallenge).
const testChallengeTimeout = 3 * time.Second

// slowChallenge is how long the "slow" endpoint takes to answer a challenge
// (unless Herald hangs up first, as it must at testChallengeTimeout).
const slowChallenge = 30 * time.Second

// challengeEndpoint answers Herald's ownership challenges (GET ?crc_token=)
// the way its mode says, and 200 to deliveries.
type challengeEndpoint struct {
	*httptest.Server
	mode       atomic.Value // string: recipe, wrong-secret, slow, bad-json, error
	challenges atomic.Int32
	mu         sync.Mutex
	tokens     []string
}

func newChallengeEndpoint(t *testing.T, key string) *challengeEndpoint {
	t.Helper()
	e := &challengeEndpoint{}
	e.mode.Store("recipe")
	stop := make(chan struct{})
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusOK)
			return
		}
		e.challenges.Add(1)
		e.mu.Lock()
		e.tokens = append(e.tokens, r.URL.Query().Get("crc_token"))
		e.mu.Unlock()
		switch e.mode.Load().(string) {
		case "recipe":
			netdataChallenge(key)(w, r)
		case "wrong-secret":
			netdataChallenge("not-"+key)(w, r)
		case "slow":
			select { // far longer than testChallengeTimeout
			case <-time.After(slowChallenge):
			case <-r.Context().Done():
			case <-stop:
			}
			netdataChallenge(key)(w, r)
		case "bad-json":
			w.Write([]byte("response_token=sha256:nope"))
		case "error":
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(func() { close(stop); e.Close() })
	return e
}

func (e *challengeEndpoint) set(mode string) { e.mode.Store(mode) }

func startChallenge(t *testing.T) *herald {
	t.Helper()
	h, _ := startSecure(t, nil, app.Options{ChallengeTimeout: testChallengeTimeout})
	return h
}

func expect422(t *testing.T, code int, raw []byte, reason string) {
	t.Helper()
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422 (%s): %s", code, reason, raw)
	}
	e := decodeError(t, raw)
	if e.Error.Code != "unprocessable" || !strings.Contains(e.Error.Message, "("+reason+")") {
		t.Fatalf("error %+v, want reason %s", e.Error, reason)
	}
}

// Create runs the challenge (seed 003's recipe passes); a wrong secret, a
// slow answer, bad JSON or a 500 refuse the save with 422 and the reason,
// and nothing is stored.
func TestChallengeOnCreate(t *testing.T) {
	t.Parallel()
	h := startChallenge(t)
	const key = "netdata-challenge-key-1"
	ep := newChallengeEndpoint(t, key)
	body := func(name string) map[string]any {
		return map[string]any{"name": name, "url": ep.URL + "/webhooks/netdata?space=s", "event_types": []string{"*"}, "challenge_secret": key}
	}

	for _, c := range []struct{ mode, reason, detail string }{
		{"wrong-secret", "wrong_token", "does not match"},
		{"slow", "timeout", testChallengeTimeout.String()},
		{"bad-json", "bad_json", "not the JSON object"},
		{"error", "status", "500"},
	} {
		ep.set(c.mode)
		before := ep.challenges.Load()
		start := time.Now()
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", body(c.mode), nil)
		expect422(t, code, raw, c.reason)
		if !strings.Contains(string(raw), c.detail) || strings.Contains(string(raw), key) {
			t.Fatalf("%s: message %s", c.mode, raw)
		}
		if ep.challenges.Load() != before+1 {
			t.Fatalf("%s: the endpoint got %d challenges", c.mode, ep.challenges.Load()-before)
		}
		if took := time.Since(start); c.mode == "slow" && (took < testChallengeTimeout || took > slowChallenge/2) {
			t.Fatalf("the slow challenge took %s: not cut at the %s limit", took, testChallengeTimeout)
		}
	}
	var list struct{ Data []any }
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("a refused webhook was stored: %d", len(list.Data))
	}

	ep.set("recipe")
	var created struct {
		ID              string `json:"id"`
		ChallengeSecret string `json:"challenge_secret"`
	}
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", body("ok"), &created)
	if created.ChallengeSecret != "********" {
		t.Fatalf("challenge_secret shown as %q", created.ChallengeSecret)
	}
	ep.mu.Lock()
	tokens := append([]string(nil), ep.tokens...)
	ep.mu.Unlock()
	seen := map[string]bool{}
	for _, tok := range tokens {
		if len(tok) < 32 || seen[tok] {
			t.Fatalf("crc_token %q is short or repeated", tok)
		}
		seen[tok] = true
	}

	// Without a challenge_secret there is no challenge.
	before := ep.challenges.Load()
	h.createWebhook(map[string]any{"url": ep.URL})
	if ep.challenges.Load() != before {
		t.Fatal("a webhook without challenge_secret was challenged")
	}
}

// Every update runs the challenge again, whatever it changes; a failure
// leaves the stored webhook as it was.
func TestChallengeOnEveryUpdate(t *testing.T) {
	t.Parallel()
	h := startChallenge(t)
	const key = "netdata-challenge-key-2"
	ep := newChallengeEndpoint(t, key)
	var wh struct{ ID string }
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": "nd", "url": ep.URL, "event_types": []string{"*"}, "challenge_secret": key}, &wh)
	path := "/api/v1/webhooks/" + wh.ID

	n := ep.challenges.Load()
	h.mustDo(http.StatusOK, "PATCH", path, map[string]any{"name": "renamed"}, nil)
	if ep.challenges.Load() != n+1 {
		t.Fatal("a rename did not run the challenge")
	}

	ep.set("wrong-secret")
	for _, patch := range []map[string]any{{"name": "again"}, {"enabled": false}, {"headers": map[string]string{"X-A": "b"}}} {
		code, raw := h.do(adminToken, "PATCH", path, patch, nil)
		expect422(t, code, raw, "wrong_token")
	}
	var got struct {
		Name    string
		Enabled bool
		Headers map[string]string
	}
	h.mustDo(http.StatusOK, "GET", path, nil, &got)
	if got.Name != "renamed" || !got.Enabled || len(got.Headers) != 0 {
		t.Fatalf("refused updates changed the webhook: %+v", got)
	}

	// A new challenge_secret the endpoint does not know is refused, and the
	// old one stays: with the endpoint right again, the next update passes.
	ep.set("recipe")
	code, raw := h.do(adminToken, "PATCH", path, map[string]any{"challenge_secret": "a-secret-the-endpoint-lacks"}, nil)
	expect422(t, code, raw, "wrong_token")
	h.mustDo(http.StatusOK, "PATCH", path, map[string]any{"name": "final"}, nil)

	ep.set("slow")
	code, raw = h.do(adminToken, "PATCH", path, map[string]any{"name": "slow"}, nil)
	expect422(t, code, raw, "timeout")

	// Adding a challenge_secret to a webhook that had none runs it too.
	plain := h.createWebhook(map[string]any{"url": ep.URL})
	ep.set("error")
	code, raw = h.do(adminToken, "PATCH", "/api/v1/webhooks/"+plain.ID, map[string]any{"challenge_secret": key}, nil)
	expect422(t, code, raw, "status")
}

// POST /webhooks/{id}/verify runs the challenge on demand and reports it
// like a test send; it changes nothing.
func TestChallengeVerifyEndpoint(t *testing.T) {
	t.Parallel()
	h := startChallenge(t)
	const key = "netdata-challenge-key-3"
	ep := newChallengeEndpoint(t, key)
	var wh struct{ ID string }
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": "nd", "url": ep.URL, "project": "p", "event_types": []string{"*"}, "challenge_secret": key}, &wh)
	path := "/api/v1/webhooks/" + wh.ID + "/verify"

	type verify struct {
		OK         bool    `json:"ok"`
		Reason     string  `json:"reason"`
		StatusCode int     `json:"status_code"`
		LatencyMS  float64 `json:"latency_ms"`
		Error      string  `json:"error"`
	}
	var v verify
	h.mustDo(http.StatusOK, "POST", path, nil, &v)
	if !v.OK || v.Reason != "" || v.StatusCode != 200 || v.LatencyMS <= 0 {
		t.Fatalf("verify: %+v", v)
	}
	for mode, reason := range map[string]string{"wrong-secret": "wrong_token", "slow": "timeout", "bad-json": "bad_json", "error": "status"} {
		ep.set(mode)
		v = verify{}
		h.mustDo(http.StatusOK, "POST", path, nil, &v)
		if v.OK || v.Reason != reason || v.Error == "" {
			t.Fatalf("%s: %+v", mode, v)
		}
	}
	plain := h.createWebhook(map[string]any{"url": ep.URL})
	code, raw := h.do(adminToken, "POST", "/api/v1/webhooks/"+plain.ID+"/verify", nil, nil)
	if code != http.StatusBadRequest || decodeError(t, raw).Error.Field != "challenge_secret" {
		t.Fatalf("verify without challenge_secret: %d %s", code, raw)
	}
	viewer := h.token("viewer", "p")
	if code, _ := h.do(viewer, "POST", path, nil, nil); code != http.StatusForbidden {
		t.Fatalf("a viewer ran the challenge: %d", code)
	}
}
