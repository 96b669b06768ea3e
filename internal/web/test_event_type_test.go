package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Send test offers a select of event types (herald.test, then the types
// the webhook selects) on the webhook page and the form, and sends the
// sample event of the chosen type.
func TestConsoleSendTestChosenType(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	var mu sync.Mutex
	var types []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(b, &ev)
		mu.Lock()
		types = append(types, ev.Type)
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	sent := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), types...)
	}
	id := s.createWebhook(map[string]any{"name": "tt", "project": "p1", "url": rc.URL, "event_types": []string{"image.*", "custom.kind"}})
	c := s.client()
	c.loginToken(adminToken)
	_, page := c.get("/webhooks/" + id)
	mustContain(t, page, `<select id="test-event-type" name="event_type"><option value="herald.test">herald.test</option><option value="image.`,
		`<option value="image.delete">`, `<option value="custom.kind">`)
	mustNotContain(t, page, `<option value="alert.firing">`)

	code, _ := c.post("/webhooks/"+id+"/test", url.Values{"event_type": {"image.delete"}})
	if code != http.StatusOK {
		t.Fatalf("send test: %d", code)
	}
	if got := sent(); len(got) != 1 || got[0] != "image.delete" {
		t.Fatalf("receiver got %q", got)
	}
	code, page = c.post("/webhooks/"+id+"/test", url.Values{"event_type": {"bad type"}})
	if code != http.StatusBadRequest || len(sent()) != 1 {
		t.Fatalf("bad type: %d, sent %q", code, sent())
	}

	_, page = c.get("/webhooks/new")
	mustContain(t, page, `<select id="f-test_event_type" name="test_event_type">`, `<option value="herald.test">herald.test</option>`)
	code, page = c.post("/webhooks/new", url.Values{
		"action": {"test"}, "name": {"unsaved"}, "url": {rc.URL}, "project": {"p1"}, "event_types": {"*"}, "category": {"events"},
		"severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}, "auth_type": {"none"},
		"test_event_type": {"alert.firing"},
	})
	if code != http.StatusOK {
		t.Fatalf("form test: %d\n%s", code, page)
	}
	if got := sent(); len(got) != 2 || got[1] != "alert.firing" {
		t.Fatalf("receiver got %q", got)
	}
	mustContain(t, page, `<option value="alert.firing" selected>`)
}
