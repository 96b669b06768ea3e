package app_test

import (
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
)

type webhookWarnings struct {
	ID       string   `json:"id"`
	Warnings []string `json:"warnings"`
}

func hasWarning(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

// TLS options through the API against a server with a self-signed
// certificate: verification is on by default and fails with a clear error;
// ca_pem trusts it; skip_verify works and is flagged in `warnings` of every
// webhook view.
func TestTLSOptions(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newTLSReceiver(t, &tls.Config{}, nil) // httptest's self-signed certificate
	selfSigned := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate().Raw}))

	// Default: verification on.
	def := h.createWebhook(map[string]any{"url": rc.URL, "project": "p"})
	res := h.testSend(def.ID)
	if res.OK || res.StatusCode != 0 || !strings.Contains(res.Error, "certificate signed by unknown authority") {
		t.Fatalf("default verification against a self-signed server: %+v", res)
	}
	var d deliveryDetail
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+res.DeliveryID, nil, &d)
	if len(d.Log) != 1 || !strings.Contains(d.Log[0].Error, "certificate signed by unknown authority") {
		t.Fatalf("the attempt does not record the TLS error: %+v", d)
	}
	if len(rc.requests()) != 0 {
		t.Fatal("a request reached the server without verification")
	}

	// ca_pem: the server's own certificate as the trusted CA.
	var ca webhookWarnings
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": "ca", "url": rc.URL, "project": "p", "event_types": []string{"*"},
		"tls": map[string]any{"ca_pem": selfSigned}}, &ca)
	if res := h.testSend(ca.ID); !res.OK {
		t.Fatalf("with ca_pem: %+v", res)
	}
	if len(ca.Warnings) != 0 {
		t.Fatalf("warnings for a verified https webhook: %v", ca.Warnings)
	}

	// skip_verify: works, and every view says so.
	var skip webhookWarnings
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": "skip", "url": rc.URL, "project": "p", "event_types": []string{"*"},
		"tls": map[string]any{"skip_verify": true}}, &skip)
	if res := h.testSend(skip.ID); !res.OK {
		t.Fatalf("with skip_verify: %+v", res)
	}
	if !hasWarning(skip.Warnings, "skip_verify") {
		t.Fatalf("create response warnings %v", skip.Warnings)
	}
	var got webhookWarnings
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+skip.ID, nil, &got)
	if !hasWarning(got.Warnings, "skip_verify") {
		t.Fatalf("GET warnings %v", got.Warnings)
	}
	var list struct{ Data []webhookWarnings }
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, &list)
	for _, w := range list.Data {
		if hasWarning(w.Warnings, "skip_verify") != (w.ID == skip.ID) {
			t.Fatalf("list warnings of %s: %v", w.ID, w.Warnings)
		}
	}
	got = webhookWarnings{}
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+skip.ID, map[string]any{"tls": map[string]any{"skip_verify": false}}, &got)
	if hasWarning(got.Warnings, "skip_verify") {
		t.Fatalf("warning kept after turning verification on: %v", got.Warnings)
	}
	if res := h.testSend(skip.ID); res.OK {
		t.Fatal("verification back on, and the self-signed server is still accepted")
	}
}

// https_only (seed 003: "we only accept HTTPS urls") refuses http URLs at
// save, on create and on update, with 400 naming url; turned off, http is
// accepted again with a warning.
func TestHTTPSOnly(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	old := h.createWebhook(map[string]any{"name": "plain", "url": "http://127.0.0.1:9/hook"})
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"https_only": true}, nil)

	for _, c := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/api/v1/webhooks", map[string]any{"name": "new", "url": "http://example.com/hook", "event_types": []string{"*"}}},
		{"PATCH", "/api/v1/webhooks/" + old.ID, map[string]any{"name": "renamed"}},
		{"PATCH", "/api/v1/webhooks/" + old.ID, map[string]any{"url": "http://example.com/other"}},
	} {
		code, raw := h.do(adminToken, c.method, c.path, c.body, nil)
		if code != http.StatusBadRequest {
			t.Fatalf("%s %s with https_only: %d %s", c.method, c.path, code, raw)
		}
		if e := decodeError(t, raw); e.Error.Field != "url" || !strings.Contains(e.Error.Message, "https") {
			t.Fatalf("error %+v", e.Error)
		}
	}
	var got struct {
		Name string
		URL  string
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+old.ID, nil, &got)
	if got.Name != "plain" {
		t.Fatalf("a refused update changed the webhook: %+v", got)
	}
	h.createWebhook(map[string]any{"name": "secure", "url": "https://example.com/hook"})

	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"https_only": false}, nil)
	var plain webhookWarnings
	h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": "plain-again", "url": "http://example.com/hook", "event_types": []string{"*"}}, &plain)
	if !hasWarning(plain.Warnings, "plain http") {
		t.Fatalf("no warning for http: %v", plain.Warnings)
	}
}
