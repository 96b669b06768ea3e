package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Every event reaches the receiver exactly once, signed so that the official
// Standard Webhooks library verifies it.
func TestDeliversEveryEventOnceSigned(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL, "event_types": []string{"image.*"}})

	const n = 500
	for i := 0; i < n; i += 100 {
		var evs []map[string]any
		for j := i; j < i+100; j++ {
			evs = append(evs, map[string]any{"id": "e" + strconv.Itoa(j), "type": "image.push", "project": "p1", "data": map[string]any{"n": j}})
		}
		h.sendEvents(evs...)
	}
	// An event of a type the webhook does not take is not delivered.
	h.sendEvents(map[string]any{"type": "chart.push", "project": "p1"})

	eventually(t, 30*time.Second, "500 deliveries", func() bool { return rc.count() >= n })
	// The log records each result after the receiver answered: wait for all
	// of them. Succeeded is final, and each delivery was attempted once, so
	// no duplicate can still be on its way.
	var ds []delivery
	eventually(t, 30*time.Second, "500 succeeded deliveries in the log", func() bool {
		ds = h.deliveries("webhook=" + wh.ID + "&state=succeeded")
		return len(ds) >= n
	})
	for _, d := range ds {
		if d.Attempts != 1 {
			t.Fatalf("delivery %s made %d attempts, want 1", d.ID, d.Attempts)
		}
	}
	if all := h.deliveries("webhook=" + wh.ID); len(all) != n {
		t.Fatalf("%d deliveries for the webhook, want %d (one per event of a matching type)", len(all), n)
	}

	verifier, err := standardwebhooks.NewWebhook(wh.SigningSecret)
	if err != nil {
		t.Fatal(err)
	}
	seenMsg := map[string]bool{}
	seenEvent := map[string]bool{}
	for _, r := range rc.all() {
		if err := verifier.Verify(r.body, r.header); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
		if ua := r.header.Get("User-Agent"); !strings.HasPrefix(ua, "Herald/") {
			t.Errorf("User-Agent = %q", ua)
		}
		id := r.header.Get("webhook-id")
		if seenMsg[id] {
			t.Fatalf("webhook-id %s delivered twice", id)
		}
		seenMsg[id] = true
		var env struct {
			ID, Type, Project string
		}
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		if env.Type != "image.push" || env.Project != "p1" {
			t.Fatalf("unexpected envelope %s", r.body)
		}
		seenEvent[env.ID] = true
	}
	if len(seenEvent) != n || rc.count() != n {
		t.Fatalf("got %d requests for %d distinct events, want %d", rc.count(), len(seenEvent), n)
	}
	if len(ds) != n {
		t.Fatalf("%d succeeded deliveries in the log, want %d", len(ds), n)
	}
}

// Ingest is idempotent on (project, id) and on Idempotency-Key.
func TestIngestIdempotent(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL})
	ev := map[string]any{"id": "same", "type": "host.lost_connection", "project": "p"}
	h.sendEvents(ev)
	var res struct {
		Data []struct {
			Duplicate  bool
			Deliveries int
		}
	}
	h.mustDo(http.StatusAccepted, "POST", "/api/v1/events", ev, &res)
	if !res.Data[0].Duplicate || res.Data[0].Deliveries != 0 {
		t.Fatalf("second ingest of the same id: %+v", res.Data)
	}
	// Same id in another project is another event.
	h.mustDo(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"id": "same", "type": "x", "project": "q"}, &res)
	if res.Data[0].Duplicate {
		t.Fatal("same id in another project was treated as a duplicate")
	}
	hdr := http.Header{"Idempotency-Key": {"key-1"}}
	for i := 0; i < 2; i++ {
		code, raw := doReq(t, h.url, adminToken, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "p"}, &res, hdr)
		if code != http.StatusAccepted {
			t.Fatalf("status %d: %s", code, raw)
		}
		if res.Data[0].Duplicate != (i == 1) {
			t.Fatalf("Idempotency-Key attempt %d: duplicate=%v", i, res.Data[0].Duplicate)
		}
	}
	var stored struct {
		ID, Type, Project string
		ReceivedAt        time.Time `json:"received_at"`
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/events/same?project=q", nil, &stored)
	if stored.ID != "same" || stored.Project != "q" || stored.Type != "x" || stored.ReceivedAt.IsZero() {
		t.Fatalf("GET /events/same?project=q: %+v", stored)
	}
	if code, _ := h.do(adminToken, "GET", "/api/v1/events/nope", nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown event: %d", code)
	}
	other := h.token("project-admin", "elsewhere")
	if code, _ := h.do(other, "GET", "/api/v1/events/same", nil, nil); code != http.StatusNotFound {
		t.Fatalf("another project's event readable: %d", code)
	}
	// Duplicates make no delivery at all: three events, three deliveries,
	// each sent once (succeeded is final).
	eventually(t, 10*time.Second, "3 succeeded deliveries", func() bool { return len(h.deliveries("state=succeeded")) == 3 })
	if ds := h.deliveries(""); len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	for _, d := range h.deliveries("") {
		if d.Attempts != 1 {
			t.Fatalf("delivery %s made %d attempts", d.ID, d.Attempts)
		}
	}
	if rc.count() != 3 {
		t.Fatalf("receiver got %d requests, want 3", rc.count())
	}
}

// A receiver that answers 500 twice and then 200 gets three attempts, all in
// the delivery log.
func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			http.Error(w, "boom "+strconv.Itoa(n), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("finally"))
	})
	wh := h.createWebhook(map[string]any{"url": rc.URL})
	h.sendEvents(map[string]any{"type": "image.push", "project": "p"})
	var d deliveryDetail
	eventually(t, 10*time.Second, "delivery succeeded", func() bool {
		ds := h.deliveries("webhook=" + wh.ID)
		if len(ds) != 1 || ds[0].State != "succeeded" {
			return false
		}
		h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+ds[0].ID, nil, &d)
		return true
	})
	if d.Attempts != 3 || len(d.Log) != 3 {
		t.Fatalf("attempts = %d (%d records), want 3", d.Attempts, len(d.Log))
	}
	for i, a := range d.Log {
		want := 500
		if i == 2 {
			want = 200
		}
		if a.Number != i+1 || a.StatusCode != want {
			t.Fatalf("attempt %d: number %d status %d, want %d", i, a.Number, a.StatusCode, want)
		}
	}
	if !strings.Contains(d.Log[0].ResponseBody, "boom 0") || d.Log[2].ResponseBody != "finally" {
		t.Fatalf("response bodies not recorded: %+v", d.Log)
	}
	if rc.count() != 3 {
		t.Fatalf("receiver got %d requests", rc.count())
	}
	// webhook-id is stable across retries.
	reqs := rc.all()
	if reqs[0].header.Get("webhook-id") != reqs[2].header.Get("webhook-id") {
		t.Fatal("webhook-id changed between retries")
	}
}

// Retry-After from the endpoint is honoured when longer than the schedule.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) { c.Delivery.RetrySchedule = []string{"200ms", "5s"} })
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h.createWebhook(map[string]any{"url": rc.URL})
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	eventually(t, 10*time.Second, "second attempt", func() bool { return rc.count() >= 2 })
	reqs := rc.all()
	gap := reqs[1].at.Sub(reqs[0].at)
	if gap < 1900*time.Millisecond {
		t.Fatalf("second attempt %v after the first; Retry-After: 2 asked for 2s", gap)
	}
}

// Turning the global switch off holds deliveries; on releases them.
func TestGlobalSwitchHoldsAndReleases(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL})
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": false}, nil)
	for i := 0; i < 5; i++ {
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
	}
	eventually(t, 5*time.Second, "5 held deliveries", func() bool { return len(h.deliveries("state=held")) == 5 })
	var s struct {
		WebhooksEnabled bool `json:"webhooks_enabled"`
		Held            int  `json:"held"`
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/settings", nil, &s)
	if s.WebhooksEnabled || s.Held != 5 {
		t.Fatalf("settings = %+v", s)
	}
	// Held is decided at ingest and never claimed: nothing was attempted.
	for _, d := range h.deliveries("webhook=" + wh.ID) {
		if d.State != "held" || d.Attempts != 0 {
			t.Fatalf("delivery %s is %s after %d attempts while webhooks are globally off", d.ID, d.State, d.Attempts)
		}
	}
	if rc.count() != 0 {
		t.Fatalf("receiver got %d requests while webhooks were globally off", rc.count())
	}
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": true}, nil)
	eventually(t, 10*time.Second, "5 succeeded after release", func() bool { return len(h.deliveries("state=succeeded&webhook="+wh.ID)) == 5 })
	if rc.count() != 5 {
		t.Fatalf("receiver got %d requests for 5 released deliveries", rc.count())
	}
}

// A disabled webhook gets nothing; enabled again, it gets new events only.
func TestDisabledWebhookGetsNothing(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	off := newReceiver(t, nil)
	on := newReceiver(t, nil)
	whOff := h.createWebhook(map[string]any{"url": off.URL})
	h.createWebhook(map[string]any{"url": on.URL})
	var got struct {
		Enabled bool `json:"enabled"`
	}
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+whOff.ID, map[string]any{"enabled": false}, &got)
	if got.Enabled {
		t.Fatal("patch enabled=false answered enabled=true")
	}
	for i := 0; i < 3; i++ {
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
	}
	eventually(t, 10*time.Second, "enabled webhook gets 3", func() bool { return on.count() == 3 })
	// Deliveries are created at ingest, in the same transaction as the event:
	// none for the disabled webhook means none can be sent later.
	if off.count() != 0 {
		t.Fatalf("disabled webhook got %d requests", off.count())
	}
	if ds := h.deliveries("webhook=" + whOff.ID); len(ds) != 0 {
		t.Fatalf("disabled webhook has %d deliveries", len(ds))
	}
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+whOff.ID, map[string]any{"enabled": true}, nil)
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	eventually(t, 10*time.Second, "re-enabled webhook's delivery succeeded", func() bool {
		return len(h.deliveries("state=succeeded&webhook="+whOff.ID)) == 1
	})
	if ds := h.deliveries("webhook=" + whOff.ID); len(ds) != 1 || off.count() != 1 {
		t.Fatalf("re-enabled webhook: %d deliveries, %d requests; want the new event only", len(ds), off.count())
	}
}

// 410 Gone disables the webhook with a reason and emits herald.webhook.disabled.
func TestGoneDisablesWebhook(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	gone := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	watcher := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": gone.URL, "event_types": []string{"image.*"}})
	h.createWebhook(map[string]any{"url": watcher.URL, "event_types": []string{"herald.webhook.disabled"}})
	h.sendEvents(map[string]any{"type": "image.push", "project": "p"})
	var got struct {
		Enabled        bool   `json:"enabled"`
		DisabledReason string `json:"disabled_reason"`
	}
	eventually(t, 10*time.Second, "webhook disabled", func() bool {
		h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, &got)
		return !got.Enabled
	})
	if !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("disabled_reason = %q", got.DisabledReason)
	}
	eventually(t, 10*time.Second, "herald.webhook.disabled delivered", func() bool { return watcher.count() == 1 })
	if !strings.Contains(string(watcher.all()[0].body), wh.ID) {
		t.Fatalf("event does not name the webhook: %s", watcher.all()[0].body)
	}
	// The delivery failed for good after its one attempt (no retry is
	// scheduled), so the one request is all the endpoint gets.
	eventually(t, 10*time.Second, "the 410 delivery failed", func() bool {
		ds := h.deliveries("webhook=" + wh.ID)
		return len(ds) == 1 && ds[0].State == "failed"
	})
	if ds := h.deliveries("webhook=" + wh.ID); ds[0].Attempts != 1 || gone.count() != 1 {
		t.Fatalf("410 endpoint: %d attempts, %d requests, want 1 (no retry)", ds[0].Attempts, gone.count())
	}
}

// The test button goes through the real sender and is logged as a test.
func TestSendTestUsesRealSender(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"pong":true}`))
	})
	wh := h.createWebhook(map[string]any{"url": rc.URL, "auth": map[string]any{"type": "bearer", "token": "s3cret"}})
	var res struct {
		DeliveryID      string  `json:"delivery_id"`
		OK              bool    `json:"ok"`
		StatusCode      int     `json:"status_code"`
		LatencyMS       float64 `json:"latency_ms"`
		ResponseExcerpt string  `json:"response_excerpt"`
	}
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if !res.OK || res.StatusCode != 200 || res.ResponseExcerpt != `{"pong":true}` || res.LatencyMS <= 0 {
		t.Fatalf("test result %+v", res)
	}
	verifier, _ := standardwebhooks.NewWebhook(wh.SigningSecret)
	r := rc.all()[0]
	if err := verifier.Verify(r.body, r.header); err != nil {
		t.Fatalf("test send not signed: %v", err)
	}
	var d deliveryDetail
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+res.DeliveryID, nil, &d)
	if !d.Test || d.State != "succeeded" || len(d.Log) != 1 {
		t.Fatalf("test delivery record %+v", d)
	}
	if got := d.Log[0].RequestHeaders["Authorization"]; len(got) != 1 || strings.Contains(got[0], "s3cret") {
		t.Fatalf("Authorization not redacted in the attempt record: %v", got)
	}
	// A failing endpoint makes the test fail too, with the reason.
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"auth": map[string]any{"type": "bearer", "token": "wrong"}}, nil)
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if res.OK || res.StatusCode != 401 {
		t.Fatalf("test against a refusing endpoint: %+v", res)
	}
	// Per-event-type status shows the last result.
	var st struct {
		Data []struct {
			EventType  string `json:"event_type"`
			State      string `json:"state"`
			StatusCode int    `json:"status_code"`
		}
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID+"/status", nil, &st)
	if len(st.Data) != 1 || st.Data[0].EventType != "herald.test" || st.Data[0].StatusCode != 401 {
		t.Fatalf("status %+v", st.Data)
	}
}

// A failed delivery can be retried by hand, alone or in bulk.
func TestManualRetryAndRecover(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) { c.Delivery.RetrySchedule = []string{"50ms"} })
	var healthy atomicBool
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if !healthy.get() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := h.createWebhook(map[string]any{"url": rc.URL})
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for i := 0; i < 3; i++ {
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
	}
	eventually(t, 10*time.Second, "3 failed", func() bool { return len(h.deliveries("state=failed&webhook="+wh.ID)) == 3 })
	healthy.set(true)
	failed := h.deliveries("state=failed&webhook=" + wh.ID)
	h.mustDo(http.StatusOK, "POST", "/api/v1/deliveries/"+failed[0].ID+"/retry", nil, nil)
	eventually(t, 10*time.Second, "1 succeeded", func() bool { return len(h.deliveries("state=succeeded&webhook="+wh.ID)) == 1 })
	var rec struct{ Recovered int }
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/recover", map[string]any{"since": since}, &rec)
	if rec.Recovered != 2 {
		t.Fatalf("recovered %d, want 2", rec.Recovered)
	}
	eventually(t, 10*time.Second, "3 succeeded", func() bool { return len(h.deliveries("state=succeeded&webhook="+wh.ID)) == 3 })
	// Retrying a delivery in flight or succeeded twice is refused or harmless.
	code, _ := h.do(adminToken, "POST", "/api/v1/deliveries/dlv_nope/retry", nil, nil)
	if code != http.StatusNotFound {
		t.Fatalf("retry of unknown delivery: %d", code)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(h.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	var types struct {
		Data []struct {
			Name        string
			Category    string
			Description map[string]string
		}
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/event-types", nil, &types)
	found := map[string]bool{}
	for _, et := range types.Data {
		found[et.Name] = et.Description["en"] != "" && et.Description["zh-CN"] != ""
	}
	for _, want := range []string{"image.push", "chart.delete", "image.scan.failed", "project.quota.exceeded", "host.lost_connection", "host.recovery_timeout", "alarm.cpu"} {
		if !found[want] {
			t.Errorf("event type %s missing from the catalog (or without en/zh-CN description)", want)
		}
	}
	code, raw := h.do("", "GET", "/api/v1/webhooks", nil, nil)
	if code != 401 || !strings.Contains(string(raw), `"code":"unauthorized"`) {
		t.Fatalf("no token: %d %s", code, raw)
	}
	code, _ = h.do("wrong", "GET", "/api/v1/webhooks", nil, nil)
	if code != 401 {
		t.Fatalf("bad token: %d", code)
	}
	_ = fmt.Sprint()
}

// A webhook failing without a success for delivery.disable_after is disabled
// and herald.webhook.disabled is emitted; a success in between resets the clock.
func TestFailingWebhookDisabledAfterAWhile(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) {
		c.Delivery.DisableAfter = "1s"
		c.Delivery.RetrySchedule = []string{"100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"}
	})
	failing := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	watcher := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": failing.URL, "event_types": []string{"x"}})
	h.createWebhook(map[string]any{"url": watcher.URL, "event_types": []string{"herald.webhook.disabled"}})
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	var got struct {
		Enabled        bool   `json:"enabled"`
		DisabledReason string `json:"disabled_reason"`
	}
	eventually(t, 15*time.Second, "failing webhook disabled", func() bool {
		h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, &got)
		return !got.Enabled
	})
	if !strings.Contains(got.DisabledReason, "without a success") {
		t.Fatalf("disabled_reason %q", got.DisabledReason)
	}
	eventually(t, 10*time.Second, "herald.webhook.disabled delivered", func() bool { return watcher.count() == 1 })
}
