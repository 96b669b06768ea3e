package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// The console shows secret headers as secret rows without their value;
// saving with the value left blank keeps it, a new value replaces it, and
// a row marked secret becomes one. The edit form and the created page show
// the SSRF guard's warning for a target it refuses.
func TestConsoleSecretHeadersAndTargetWarning(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	recv := srv.URL
	id := s.createWebhook(map[string]any{"name": "sh", "url": recv, "project": "p", "event_types": []string{"*"},
		"headers": map[string]any{"X-Team": "ops", "X-Api-Key": "planted-key-4411"}})
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/" + id + "/edit")
	mustNotContain(t, body, "planted-key-4411")
	mustContain(t, body, `value="X-Api-Key"`, `<option value="secret" selected>`, "stored, unchanged if left blank", `value="ops"`)

	form := url.Values{"action": {"save"}, "name": {"sh"}, "project": {"p"}, "url": {recv + "/v2"}, "event_types_extra": {"*"},
		"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"},
		"header_name": {"X-Team", "X-Api-Key", "X-Custom"}, "header_value": {"ops", "", "planted-custom-8822"}, "header_kind": {"plain", "secret", "secret"}}
	code, body := c.post("/webhooks/"+id+"/edit", form)
	if code != http.StatusOK || !strings.Contains(body, "was saved") {
		t.Fatalf("save: %d\n%s", code, body)
	}
	var view struct {
		Headers       map[string]string
		SecretHeaders map[string]string `json:"secret_headers"`
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &view)
	if view.Headers["X-Team"] != "ops" || view.SecretHeaders["X-Api-Key"] != "********" || view.SecretHeaders["X-Custom"] != "********" {
		t.Fatalf("after save: %+v", view)
	}
	s.mustAPI(http.StatusOK, "POST", "/webhooks/"+id+"/test", nil, nil)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Get("X-Api-Key") != "planted-key-4411" || got[0].Get("X-Custom") != "planted-custom-8822" {
		t.Fatalf("the endpoint got %v", got)
	}
	_, body = c.get("/webhooks/" + id + "/edit")
	mustNotContain(t, body, "planted-key-4411", "planted-custom-8822")

	// A target the guard refuses: saved, with the warning on the created
	// page and the edit form.
	form = url.Values{"action": {"save"}, "name": {"private"}, "project": {"p"}, "url": {"http://10.9.8.7/hook"}, "event_types_extra": {"*"},
		"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}}
	c.get("/webhooks/new")
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, body)
	}
	mustContain(t, body, "The SSRF guard refuses this target", "10.9.8.7")
}
