package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each format reaches the receiver with its own shape and content type, and
// the webhook's language picks the message text.
func TestFormatsAndLanguage(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	type got struct {
		ct   string
		body map[string]any
		raw  string
	}
	rcs := map[string]*receiver{}
	for _, f := range []string{"standard", "zh", "cloudevents", "harbor", "harbor-legacy", "netdata", "alertmanager", "template"} {
		rcs[f] = newReceiver(t, nil)
	}
	h.createWebhook(map[string]any{"url": rcs["standard"].URL})
	h.createWebhook(map[string]any{"url": rcs["zh"].URL, "language": "zh-CN"})
	h.createWebhook(map[string]any{"url": rcs["cloudevents"].URL, "format": "cloudevents"})
	h.createWebhook(map[string]any{"url": rcs["harbor"].URL, "format": "harbor"})
	h.createWebhook(map[string]any{"url": rcs["harbor-legacy"].URL, "format": "harbor-legacy"})
	h.createWebhook(map[string]any{"url": rcs["netdata"].URL, "format": "netdata"})
	h.createWebhook(map[string]any{"url": rcs["alertmanager"].URL, "format": "alertmanager"})
	h.createWebhook(map[string]any{"url": rcs["template"].URL, "format": "template",
		"template": `{"text": {{ printf "%s pushed %s" .Project (get .Data "repository.name") | json }}}`})

	h.sendEvents(map[string]any{
		"id": "ev-1", "type": "image.push", "project": "prj", "subject": "prj/repo1:latest",
		"data": map[string]any{"repository": map[string]any{"name": "repo1"}, "tag": "latest", "operator": "alice"},
	})
	for name, rc := range rcs {
		eventually(t, 10*time.Second, name+" delivery", func() bool { return rc.count() == 1 })
	}
	read := func(name string) got {
		r := rcs[name].all()[0]
		g := got{ct: r.header.Get("Content-Type"), raw: string(r.body)}
		if err := json.Unmarshal(r.body, &g.body); err != nil {
			t.Fatalf("%s: body is not JSON: %s", name, r.body)
		}
		return g
	}
	if g := read("standard"); g.ct != "application/json" || g.body["type"] != "image.push" || !strings.Contains(g.body["message"].(string), "repo1") {
		t.Errorf("standard: %s %s", g.ct, g.raw)
	}
	if g := read("zh"); !strings.Contains(g.body["message"].(string), "镜像") {
		t.Errorf("zh-CN message: %s", g.raw)
	}
	if g := read("cloudevents"); g.ct != "application/cloudevents+json" || g.body["specversion"] != "1.0" || g.body["id"] != "ev-1" {
		t.Errorf("cloudevents: %s %s", g.ct, g.raw)
	}
	if g := read("harbor"); g.body["type"] != "PUSH_ARTIFACT" || g.body["operator"] != "alice" ||
		!strings.Contains(g.raw, `"repo_full_name":"prj/repo1"`) || !strings.Contains(g.raw, `"tag":"latest"`) {
		t.Errorf("harbor: %s", g.raw)
	}
	if g := read("harbor-legacy"); g.body["event_type"] != "pushImage" || !strings.Contains(g.raw, `"repo_name":"repo1"`) {
		t.Errorf("harbor-legacy: %s", g.raw)
	}
	if g := read("netdata"); g.body["alarm"] == nil || g.body["space"] != "prj" {
		t.Errorf("netdata: %s", g.raw)
	}
	if g := read("alertmanager"); g.body["version"] != "4" || g.body["status"] != "firing" {
		t.Errorf("alertmanager: %s", g.raw)
	}
	if g := read("template"); g.body["text"] != "prj pushed repo1" {
		t.Errorf("template: %s", g.raw)
	}
}

// A template that does not parse or render is refused at save with the reason.
func TestTemplateValidatedAtSave(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	for _, tc := range []struct{ tmpl, want string }{
		{`{"a": {{ .Nope }`, "line 1"},
		{`not json {{ .Type }}`, "JSON"},
		{``, "template"},
	} {
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", map[string]any{
			"name": "t", "url": "http://127.0.0.1:1/x", "event_types": []string{"*"}, "format": "template", "template": tc.tmpl,
		}, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"template"`) || !strings.Contains(string(raw), tc.want) {
			t.Errorf("template %q: %d %s", tc.tmpl, code, raw)
		}
	}
	code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", map[string]any{
		"name": "t", "url": "http://127.0.0.1:1/x", "event_types": []string{"*"}, "format": "carrier-pigeon",
	}, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"format"`) {
		t.Errorf("unknown format: %d %s", code, raw)
	}
}
