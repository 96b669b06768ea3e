package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// Turning https_only on from the console says how many http webhooks it
// disabled.
func TestSettingsHTTPSOnlyDisablesHTTPWebhooks(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	var wh struct{ ID string }
	s.mustAPI(http.StatusCreated, "POST", "/webhooks", map[string]any{"name": "plain", "url": "http://hooks.example.com/h", "event_types": []string{"*"}}, &wh)
	c := s.client()
	c.loginToken(adminToken)
	c.get("/settings")
	code, body := c.post("/settings", url.Values{"webhooks_enabled": {"1"}, "https_only": {"1"}})
	if code != http.StatusOK {
		t.Fatalf("save settings: %d", code)
	}
	mustContain(t, body, "https_only is on: 1 http webhooks were disabled")
	var got struct {
		Enabled        bool   `json:"enabled"`
		DisabledReason string `json:"disabled_reason"`
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+wh.ID, nil, &got)
	if got.Enabled || got.DisabledReason != "https_only is on" {
		t.Fatalf("webhook after https_only: %+v", got)
	}
}
