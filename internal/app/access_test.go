package app_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func (h *herald) token(role string, projects ...string) string {
	h.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if projects == nil {
		projects = []string{}
	}
	h.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": role, "role": role, "projects": projects}, &out)
	if !strings.HasPrefix(out.Token, "hrld_") {
		h.t.Fatalf("token %q", out.Token)
	}
	return out.Token
}

func TestProjectAdminIsolation(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	other := h.createWebhook(map[string]any{"url": rc.URL, "project": "beta"})
	platform := h.createWebhook(map[string]any{"url": rc.URL, "project": ""})
	alpha := h.token("project-admin", "alpha")

	// Another project's webhook and a platform webhook do not exist for it.
	for _, id := range []string{other.ID, platform.ID} {
		if code, raw := h.do(alpha, "GET", "/api/v1/webhooks/"+id, nil, nil); code != http.StatusNotFound {
			t.Fatalf("GET other project's webhook: %d %s", code, raw)
		}
		if code, _ := h.do(alpha, "PATCH", "/api/v1/webhooks/"+id, map[string]any{"enabled": false}, nil); code != http.StatusNotFound {
			t.Fatalf("PATCH other project's webhook: %d", code)
		}
		if code, _ := h.do(alpha, "DELETE", "/api/v1/webhooks/"+id, nil, nil); code != http.StatusNotFound {
			t.Fatalf("DELETE other project's webhook: %d", code)
		}
	}
	// It cannot create a platform webhook or one in another project.
	code, raw := h.do(alpha, "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": rc.URL, "event_types": []string{"*"}, "project": ""}, nil)
	if code != http.StatusForbidden {
		t.Fatalf("project-admin created a platform webhook: %d %s", code, raw)
	}
	code, _ = h.do(alpha, "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": rc.URL, "event_types": []string{"*"}, "project": "beta"}, nil)
	if code != http.StatusForbidden {
		t.Fatalf("project-admin created a webhook in another project: %d", code)
	}
	// In its own project it can, and lists only that.
	code, raw = h.do(alpha, "POST", "/api/v1/webhooks", map[string]any{"name": "mine", "url": rc.URL, "event_types": []string{"*"}, "project": "alpha"}, nil)
	if code != http.StatusCreated {
		t.Fatalf("own project: %d %s", code, raw)
	}
	var list struct {
		Data []struct{ Project string }
	}
	code, raw = h.do(alpha, "GET", "/api/v1/webhooks", nil, &list)
	if code != 200 || len(list.Data) != 1 || list.Data[0].Project != "alpha" {
		t.Fatalf("list for project-admin: %d %s", code, raw)
	}
	code, _ = h.do(alpha, "GET", "/api/v1/webhooks?project=beta", nil, &list)
	if code != 200 || len(list.Data) != 0 {
		t.Fatalf("project filter leaked: %+v", list.Data)
	}
	// Settings and tokens are platform-admin only.
	if code, _ := h.do(alpha, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": false}, nil); code != http.StatusForbidden {
		t.Fatalf("project-admin changed settings: %d", code)
	}
	if code, _ := h.do(alpha, "GET", "/api/v1/tokens", nil, nil); code != http.StatusForbidden {
		t.Fatalf("project-admin listed tokens: %d", code)
	}
}

func TestViewerAndPublisher(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL, "project": "alpha"})
	viewer := h.token("viewer", "alpha")
	pub := h.token("publisher", "alpha")

	if code, _ := h.do(viewer, "GET", "/api/v1/webhooks/"+wh.ID, nil, nil); code != 200 {
		t.Fatalf("viewer read: %d", code)
	}
	if code, _ := h.do(viewer, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"enabled": false}, nil); code != http.StatusForbidden {
		t.Fatalf("viewer patched: %d", code)
	}
	if code, _ := h.do(viewer, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "alpha"}, nil); code != http.StatusForbidden {
		t.Fatalf("viewer published: %d", code)
	}
	if code, raw := h.do(pub, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "alpha"}, nil); code != http.StatusAccepted {
		t.Fatalf("publisher could not publish: %d %s", code, raw)
	}
	if code, _ := h.do(pub, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "beta"}, nil); code != http.StatusForbidden {
		t.Fatalf("publisher published to another project: %d", code)
	}
	if code, _ := h.do(pub, "GET", "/api/v1/webhooks/"+wh.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("publisher read a webhook: %d", code)
	}
	if code, _ := h.do(pub, "GET", "/api/v1/webhooks", nil, nil); code != 200 {
		t.Fatalf("publisher list: %d", code)
	}
}

// Bad input gets 400 naming the field and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"name": "keep", "url": rc.URL, "auth": map[string]any{"type": "basic", "username": "u", "password": "p"}})
	snapshot := func() string {
		raw := h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, nil)
		var v any
		json.Unmarshal(raw, &v)
		b, _ := json.Marshal(v)
		return string(b)
	}
	before := snapshot()
	valid := func() map[string]any {
		return map[string]any{"name": "n", "url": rc.URL, "event_types": []string{"*"}}
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
	without := func(k string) map[string]any { m := valid(); delete(m, k); return m }
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		field  string
	}{
		{"malformed JSON", "POST", "/api/v1/webhooks", `{"name": "x",`, ""},
		{"not an object", "POST", "/api/v1/webhooks", `[1,2]`, ""},
		{"unknown field", "POST", "/api/v1/webhooks", with("colour", "red"), "colour"},
		{"wrong type", "POST", "/api/v1/webhooks", with("enabled", "yes"), "enabled"},
		{"missing url", "POST", "/api/v1/webhooks", without("url"), "url"},
		{"invalid url", "POST", "/api/v1/webhooks", with("url", "ftp://example.com/x"), "url"},
		{"url without host", "POST", "/api/v1/webhooks", with("url", "http:///path"), "url"},
		{"missing name", "POST", "/api/v1/webhooks", without("name"), "name"},
		{"empty event types", "POST", "/api/v1/webhooks", with("event_types", []string{}), "event_types"},
		{"missing event types", "POST", "/api/v1/webhooks", without("event_types"), "event_types"},
		{"basic without password", "POST", "/api/v1/webhooks", with("auth", map[string]any{"type": "basic", "username": "u"}), "auth.password"},
		{"bearer without token", "POST", "/api/v1/webhooks", with("auth", map[string]any{"type": "bearer"}), "auth.token"},
		{"header without value", "POST", "/api/v1/webhooks", with("auth", map[string]any{"type": "header", "header_name": "X-Key"}), "auth.header_value"},
		{"mtls without cert", "POST", "/api/v1/webhooks", with("auth", map[string]any{"type": "mtls", "key_pem": "x"}), "auth.cert_pem"},
		{"unknown auth type", "POST", "/api/v1/webhooks", with("auth", map[string]any{"type": "digest"}), "auth.type"},
		{"bad condition", "POST", "/api/v1/webhooks", with("conditions", []map[string]any{{"label": "a", "operator": "In"}}), "conditions[0].values"},
		{"bad severity", "POST", "/api/v1/webhooks", with("severity", "loud"), "severity"},
		{"bad timeout", "POST", "/api/v1/webhooks", with("timeout", "forever"), "timeout"},
		{"reserved header", "POST", "/api/v1/webhooks", with("headers", map[string]string{"webhook-signature": "x"}), "headers.webhook-signature"},
		{"bad ca", "POST", "/api/v1/webhooks", with("tls", map[string]any{"ca_pem": "nope"}), "tls.ca_pem"},
		{"patch invalid url", "PATCH", "/api/v1/webhooks/" + wh.ID, map[string]any{"url": "not a url"}, "url"},
		{"patch unknown field", "PATCH", "/api/v1/webhooks/" + wh.ID, map[string]any{"nmae": "typo"}, "nmae"},
		{"patch empty event types", "PATCH", "/api/v1/webhooks/" + wh.ID, map[string]any{"event_types": []string{}}, "event_types"},
		{"patch auth missing fields", "PATCH", "/api/v1/webhooks/" + wh.ID, map[string]any{"auth": map[string]any{"type": "bearer"}}, "auth.token"},
		{"event malformed", "POST", "/api/v1/events", `{"type": `, ""},
		{"event missing type", "POST", "/api/v1/events", map[string]any{"project": "p"}, "type"},
		{"event unknown field", "POST", "/api/v1/events", map[string]any{"type": "x", "colour": 1}, "colour"},
		{"batch item missing type", "POST", "/api/v1/events", map[string]any{"events": []map[string]any{{"type": "x"}, {"project": "p"}}}, "events[1].type"},
		{"bad severity event", "POST", "/api/v1/events", map[string]any{"type": "x", "severity": "loud"}, "severity"},
		{"token bad role", "POST", "/api/v1/tokens", map[string]any{"name": "x", "role": "god"}, "role"},
		{"settings unknown", "PATCH", "/api/v1/settings", map[string]any{"webhooks": false}, "webhooks"},
	}
	for _, tc := range cases {
		code, raw := h.do(adminToken, tc.method, tc.path, tc.body, nil)
		if code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", tc.name, code, raw)
			continue
		}
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code != "invalid" || e.Error.Message == "" {
			t.Errorf("%s: error body %s", tc.name, raw)
			continue
		}
		if e.Error.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, e.Error.Field, tc.field, e.Error.Message)
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("bad input changed stored webhooks:\nbefore %s\nafter  %s", before, after)
	}
	if ds := h.deliveries(""); len(ds) != 0 {
		t.Fatalf("bad events created %d deliveries", len(ds))
	}
	// Oversized events get 413.
	big := `{"type":"x","data":{"blob":"` + strings.Repeat("a", 300<<10) + `"}}`
	if code, _ := h.do(adminToken, "POST", "/api/v1/events", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized event: %d", code)
	}
}

// Secrets are write-only: masked on read, kept when the mask is sent back.
func TestSecretsWriteOnly(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		if u != "user" || p != "pa55word" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	wh := h.createWebhook(map[string]any{"url": rc.URL, "auth": map[string]any{"type": "basic", "username": "user", "password": "pa55word"}})
	raw := h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, nil)
	if strings.Contains(string(raw), "pa55word") || strings.Contains(string(raw), wh.SigningSecret) {
		t.Fatalf("secret returned on read: %s", raw)
	}
	var got struct {
		Auth map[string]any `json:"auth"`
	}
	json.Unmarshal(raw, &got)
	if got.Auth["password"] != "********" {
		t.Fatalf("password shown as %v", got.Auth["password"])
	}
	// Send the masked form back (as a console would): the secret is kept.
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"name": "renamed", "auth": got.Auth}, nil)
	var res struct{ OK bool }
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if !res.OK {
		t.Fatal("password lost after a PATCH that sent the mask back")
	}
	raw = h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, nil)
	if strings.Contains(string(raw), "pa55word") {
		t.Fatal("secret in list")
	}
	_ = reflect.DeepEqual
}

// Configuration changes are in the audit log (who, what, when), secrets masked;
// only a platform-admin reads it.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"name": "audited", "url": rc.URL, "project": "p",
		"auth": map[string]any{"type": "bearer", "token": "planted-secret-1"}})
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"auth": map[string]any{"type": "basic", "username": "u", "password": "planted-secret-2"}}, nil)
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"https_only": false}, nil)
	h.mustDo(http.StatusNoContent, "DELETE", "/api/v1/webhooks/"+wh.ID, nil, nil)
	var out struct {
		Data []struct {
			Actor, Action, Object, Project, Details string
			At                                      string
		}
	}
	raw := h.mustDo(http.StatusOK, "GET", "/api/v1/audit", nil, &out)
	if strings.Contains(string(raw), "planted-secret") || strings.Contains(string(raw), wh.SigningSecret) {
		t.Fatalf("secret in the audit log: %s", raw)
	}
	var actions []string
	for _, e := range out.Data {
		actions = append(actions, e.Action)
		if e.Actor == "" || e.At == "" {
			t.Fatalf("entry without actor or time: %+v", e)
		}
	}
	want := []string{"webhook.delete", "settings.update", "webhook.update", "webhook.create"}
	if !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
	if out.Data[0].Object != wh.ID || out.Data[0].Project != "p" || !strings.Contains(out.Data[0].Actor, "bootstrap admin") {
		t.Fatalf("delete entry %+v", out.Data[0])
	}
	viewer := h.token("viewer")
	if code, _ := h.do(viewer, "GET", "/api/v1/audit", nil, nil); code != http.StatusForbidden {
		t.Fatalf("viewer read the audit log: %d", code)
	}
}
