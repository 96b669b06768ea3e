package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The "Send the Standard Webhooks headers" checkbox: checked on a new
// webhook, saved as standard_headers, shown on the edit form and (when off)
// the detail page.
func TestStandardHeadersCheckbox(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	checked := `name="standard_headers" value="1" checked`
	unchecked := `name="standard_headers" value="1" aria-describedby`
	offNote := "Standard Webhooks headers not sent"

	_, body := c.get("/webhooks/new")
	mustContain(t, body, "Send the Standard Webhooks headers", checked)

	stored := func(id string) bool {
		t.Helper()
		var w struct {
			StandardHeaders *bool `json:"standard_headers"`
		}
		s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &w)
		if w.StandardHeaders == nil {
			t.Fatal("no standard_headers in the API answer")
		}
		return *w.StandardHeaders
	}
	form := func(on bool) url.Values {
		v := url.Values{"action": {"save"}, "name": {"no-std-headers"}, "url": {"http://127.0.0.1:9/hook"}, "event_types": {"image.push"},
			"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"},
			"retry_client_errors": {"1"}}
		if on {
			v.Set("standard_headers", "1")
		}
		return v
	}

	// Unchecked: saved off, shown off.
	code, body := c.post("/webhooks/new", form(false)) // 303 to the created page, followed
	if code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, body)
	}
	var list struct {
		Data []struct{ ID string }
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("webhooks: %+v", list.Data)
	}
	id := list.Data[0].ID
	if stored(id) {
		t.Fatal("unchecked box saved standard_headers true")
	}
	_, body = c.get("/webhooks/" + id)
	mustContain(t, body, offNote)
	_, body = c.get("/webhooks/" + id + "/edit")
	mustContain(t, body, unchecked)
	mustNotContain(t, body, checked)

	// Checked again: saved on; the detail page says nothing about it.
	_, body = c.post("/webhooks/"+id+"/edit", form(true))
	mustContain(t, body, "was saved")
	if !stored(id) {
		t.Fatal("checked box saved standard_headers false")
	}
	_, body = c.get("/webhooks/" + id)
	mustNotContain(t, body, offNote)
	_, body = c.get("/webhooks/" + id + "/edit")
	mustContain(t, body, checked)

	// A webhook created by the API with the default is shown checked.
	other := s.createWebhook(map[string]any{"name": "api-default", "url": "http://127.0.0.1:9/other", "event_types": []string{"*"}})
	_, body = c.get("/webhooks/" + other + "/edit")
	mustContain(t, body, checked)
}
