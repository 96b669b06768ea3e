package client

import (
	"context"
	"net/http"

	"github.com/herald-hq/herald"
)

// Settings are the global switches and how many deliveries the switch holds.
type Settings struct {
	herald.Settings
	// Held counts deliveries in state held, released when WebhooksEnabled
	// is switched back on.
	Held int `json:"held"`
	// DisabledWebhooks are the http webhooks an UpdateSettings turning
	// https_only on switched off.
	DisabledWebhooks []DisabledWebhook `json:"disabled_webhooks,omitempty"`
}

// DisabledWebhook is a webhook a settings change switched off, and why.
type DisabledWebhook struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Project string `json:"project"`
	URL     string `json:"url"`
	Reason  string `json:"reason"`
}

// SettingsPatch is the body of UpdateSettings: only the fields set change.
type SettingsPatch struct {
	WebhooksEnabled *bool `json:"webhooks_enabled,omitempty"`
	HTTPSOnly       *bool `json:"https_only,omitempty"`
}

// GetSettings returns the global settings.
func (c *Client) GetSettings(ctx context.Context) (*Settings, error) {
	var out Settings
	if err := c.do(ctx, call{method: http.MethodGet, path: "/settings", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateSettings changes the settings set in p and returns them all.
func (c *Client) UpdateSettings(ctx context.Context, p SettingsPatch) (*Settings, error) {
	var out Settings
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/settings", body: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
