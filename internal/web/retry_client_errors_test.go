package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The "Retry 4xx answers" checkbox: checked on a new webhook, saved as
// retry_client_errors, shown on the edit form and (when off) the detail page.
func TestRetryClientErrorsCheckbox(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	checked := `name="retry_client_errors" value="1" checked`
	unchecked := `name="retry_client_errors" value="1" aria-describedby`

	_, body := c.get("/webhooks/new")
	mustContain(t, body, "Retry 4xx answers (other than 408, 410, 429)", checked)

	stored := func(id string) bool {
		t.Helper()
		var w struct {
			RetryClientErrors *bool `json:"retry_client_errors"`
		}
		s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &w)
		if w.RetryClientErrors == nil {
			t.Fatal("no retry_client_errors in the API answer")
		}
		return *w.RetryClientErrors
	}
	form := func(retry bool) url.Values {
		v := url.Values{"action": {"save"}, "name": {"no-4xx-retry"}, "url": {"http://127.0.0.1:9/hook"}, "event_types": {"image.push"},
			"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}}
		if retry {
			v.Set("retry_client_errors", "1")
		}
		return v
	}

	// Unchecked: saved off, shown off.
	code, body := c.post("/webhooks/new", form(false))
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
		t.Fatal("unchecked box saved retry_client_errors true")
	}
	_, body = c.get("/webhooks/" + id)
	mustContain(t, body, "4xx answers not retried")
	_, body = c.get("/webhooks/" + id + "/edit")
	mustContain(t, body, unchecked)
	mustNotContain(t, body, checked)

	// Checked again: saved on; the detail page says nothing about it.
	_, body = c.post("/webhooks/"+id+"/edit", form(true))
	mustContain(t, body, "was saved")
	if !stored(id) {
		t.Fatal("checked box saved retry_client_errors false")
	}
	_, body = c.get("/webhooks/" + id)
	mustNotContain(t, body, "4xx answers not retried")
	_, body = c.get("/webhooks/" + id + "/edit")
	mustContain(t, body, checked)

	// A webhook created by the API with the default is shown checked.
	other := s.createWebhook(map[string]any{"name": "api-default", "url": "http://127.0.0.1:9/other", "event_types": []string{"*"}})
	_, body = c.get("/webhooks/" + other + "/edit")
	mustContain(t, body, checked)
}
