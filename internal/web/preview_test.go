package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// "Preview payload" shows the body the form's configuration would send for
// a sample event of the chosen type, sending and saving nothing.
func TestPreviewPayload(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/new")
	mustContain(t, body, `id="preview"`, `name="preview_event_type"`, `<option value="alarm.cpu"`)
	form := url.Values{"action": {"preview"}, "preview_event_type": {"alarm.cpu"}, "name": {"pv"}, "url": {"https://example.com/hook"},
		"event_types": {"alarm.cpu"}, "auth_type": {"none"}, "category": {"alarms"}, "severity": {"all"}, "format": {"standard"},
		"language": {"en"}, "enabled": {"1"}, "csrf": {c.csrf}}
	req, _ := http.NewRequest("POST", s.url+"/webhooks/new", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, frag := c.do(req)
	if code != http.StatusOK {
		t.Fatalf("preview: %d %s", code, frag)
	}
	mustContain(t, frag, `id="preview-result"`, "sample alarm.cpu event", "Content-Type: application/json", `&#34;type&#34;: &#34;alarm.cpu&#34;`)
	mustNotContain(t, frag, "<html")

	// Without JavaScript: the form again, with the preview in it.
	form.Set("preview_event_type", "image.push")
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusOK {
		t.Fatalf("preview without htmx: %d", code)
	}
	mustContain(t, body, `id="preview-result"`, `&#34;type&#34;: &#34;image.push&#34;`, `<option value="image.push" selected>`)
	var list struct{ Data []struct{ ID string } }
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatal("a preview saved the webhook")
	}
	form.Set("preview_event_type", "bad type*")
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusBadRequest {
		t.Fatalf("bad sample type: %d", code)
	}
}

// Transport errors are said in plain words, translated, with the
// technical text one click away.
func TestPlainWordsErrors(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "refused", "url": "http://127.0.0.1:1/hook", "event_types": []string{"*"}})
	for lang, want := range map[string]string{"": "The receiver refused the connection", "zh-CN": "接收方拒绝连接"} {
		c := s.client()
		c.lang = lang
		c.loginToken(adminToken)
		c.get("/webhooks")
		code, body := c.post("/webhooks/"+id+"/test", nil)
		if code != http.StatusOK {
			t.Fatalf("test: %d", code)
		}
		mustContain(t, body, want, `<details class="err-detail">`, "connection refused</code>")
	}
}
