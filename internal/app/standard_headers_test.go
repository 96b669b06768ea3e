package app_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

var standardHeaderNames = []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

type standardFlag struct {
	StandardHeaders *bool `json:"standard_headers"`
}

func (h *herald) standardHeaders(id string) bool {
	h.t.Helper()
	var w standardFlag
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+id, nil, &w)
	if w.StandardHeaders == nil {
		h.t.Fatalf("webhook %s has no standard_headers", id)
	}
	return *w.StandardHeaders
}

// newestSucceeded waits until webhook id has n succeeded deliveries and
// returns the one of event std-<n>, with its attempt log.
func (h *herald) newestSucceeded(id string, n int) deliveryDetail {
	h.t.Helper()
	var ds []delivery
	eventually(h.t, 30*time.Second, strconv.Itoa(n)+" deliveries of "+id+" succeeded", func() bool {
		ds = h.deliveries("state=succeeded&webhook=" + id)
		return len(ds) == n
	})
	newest := ds[0]
	for _, d := range ds {
		if d.EventID == "std-"+strconv.Itoa(n) {
			newest = d
		}
	}
	var d deliveryDetail
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+newest.ID, nil, &d)
	if d.EventID != "std-"+strconv.Itoa(n) || len(d.Log) != 1 {
		h.t.Fatalf("delivery %+v, want one attempt for event std-%d", d.delivery, n)
	}
	return d
}

// standard_headers (default true): when false, neither a standard nor a
// chat webhook's requests carry webhook-id, webhook-timestamp and
// webhook-signature, and the attempt log shows them as sent; User-Agent and
// Herald-Hops still go out. PATCH turns them back on, signed as before.
func TestStandardHeaders(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	plain := newReceiver(t, nil)
	slack := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	std := h.createWebhook(map[string]any{"url": plain.URL, "standard_headers": false})
	chat := h.createWebhook(map[string]any{"url": slack.URL, "format": "slack", "standard_headers": false})
	dflt := h.createWebhook(map[string]any{"url": newReceiver(t, nil).URL})
	if h.standardHeaders(std.ID) || h.standardHeaders(chat.ID) {
		t.Fatal("standard_headers: false was not saved")
	}
	if !h.standardHeaders(dflt.ID) {
		t.Fatal("standard_headers does not default to true")
	}
	// A PATCH of another field leaves it as it is.
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+std.ID, map[string]any{"rate_limit": 100}, nil)
	if h.standardHeaders(std.ID) {
		t.Fatal("a PATCH without standard_headers turned it back on")
	}

	h.sendEvents(map[string]any{"id": "std-1", "type": "image.push", "project": "p", "subject": "p/app:1"})
	for _, c := range []struct {
		id string
		rc *receiver
	}{{std.ID, plain}, {chat.ID, slack}} {
		d := h.newestSucceeded(c.id, 1)
		got := c.rc.all()
		if len(got) != 1 {
			t.Fatalf("%s: receiver got %d requests, want 1", c.id, len(got))
		}
		for _, k := range standardHeaderNames {
			if v, ok := got[0].header[k]; ok {
				t.Errorf("%s: receiver saw %s = %q with standard_headers false", c.id, k, v)
			}
			if v, ok := d.Log[0].RequestHeaders[k]; ok {
				t.Errorf("%s: attempt log records %s = %q with standard_headers false", c.id, k, v)
			}
		}
		if got[0].header.Get("User-Agent") == "" || got[0].header.Get("Herald-Hops") != "1" {
			t.Errorf("%s: User-Agent %q, Herald-Hops %q", c.id, got[0].header.Get("User-Agent"), got[0].header.Get("Herald-Hops"))
		}
		if len(d.Log[0].RequestHeaders["User-Agent"]) != 1 || len(d.Log[0].RequestHeaders["Herald-Hops"]) != 1 {
			t.Errorf("%s: attempt log request headers %v", c.id, d.Log[0].RequestHeaders)
		}
	}

	// On again: the next request is signed with the webhook's secret.
	var w standardFlag
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+std.ID, map[string]any{"standard_headers": true}, &w)
	if w.StandardHeaders == nil || !*w.StandardHeaders {
		t.Fatalf("PATCH answered standard_headers %v, want true", w.StandardHeaders)
	}
	if !h.standardHeaders(std.ID) {
		t.Fatal("GET after PATCH shows standard_headers false")
	}
	h.sendEvents(map[string]any{"id": "std-2", "type": "image.push", "project": "p", "subject": "p/app:2"})
	d := h.newestSucceeded(std.ID, 2)
	got := plain.all()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	for _, k := range standardHeaderNames {
		if len(got[1].header.Values(k)) != 1 || len(d.Log[0].RequestHeaders[k]) != 1 {
			t.Errorf("standard_headers true: %s sent %q, recorded %q", k, got[1].header.Values(k), d.Log[0].RequestHeaders[k])
		}
	}
	wh, err := standardwebhooks.NewWebhook(std.SigningSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got[1].body, got[1].header); err != nil {
		t.Errorf("signature after turning standard_headers back on: %v", err)
	}
	// The chat webhook, still off, got the second event unsigned too.
	h.newestSucceeded(chat.ID, 2)
	if got := slack.all(); len(got) != 2 || got[1].header.Get("Webhook-Signature") != "" {
		t.Errorf("chat webhook: %d requests, second signature %q", len(got), got[len(got)-1].header.Get("Webhook-Signature"))
	}
}
