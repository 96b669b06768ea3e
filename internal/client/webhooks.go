package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/herald-hq/herald"
)

// AuthInput is a webhook's auth as sent to Herald. Unlike herald.Auth its
// secrets are plain strings, so they reach the server instead of the mask.
// Only the fields Type needs are set; Type is one of herald.AuthNone, ...
type AuthInput struct {
	Type        string `json:"type,omitempty"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
	Token       string `json:"token,omitempty"`
	HeaderName  string `json:"header_name,omitempty"`
	HeaderValue string `json:"header_value,omitempty"`
	CertPEM     string `json:"cert_pem,omitempty"`
	KeyPEM      string `json:"key_pem,omitempty"`
	Secret      string `json:"secret,omitempty"`
}

// AuthInputFrom returns a's fields with its secrets revealed. A secret that
// holds the API's mask ("********") is sent back as such, which PATCH reads
// as "keep the stored value".
func AuthInputFrom(a herald.Auth) AuthInput {
	return AuthInput{
		Type: a.Type, Username: a.Username, Password: a.Password.Reveal(), Token: a.Token.Reveal(),
		HeaderName: a.HeaderName, HeaderValue: a.HeaderValue.Reveal(), CertPEM: a.CertPEM, KeyPEM: a.KeyPEM.Reveal(),
		Secret: a.Secret.Reveal(),
	}
}

// WebhookInput is the body of CreateWebhook: the webhook fields a client may
// set. Zero fields are left out, so the server applies its defaults.
type WebhookInput struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	URL     string `json:"url"`
	// Enabled defaults to true when nil.
	Enabled    *bool              `json:"enabled,omitempty"`
	Category   string             `json:"category,omitempty"`
	EventTypes []string           `json:"event_types,omitempty"`
	Conditions []herald.Condition `json:"conditions,omitempty"`
	Severity   string             `json:"severity,omitempty"`
	Language   string             `json:"language,omitempty"`
	Format     string             `json:"format,omitempty"`
	Template   string             `json:"template,omitempty"`
	Headers    map[string]string  `json:"headers,omitempty"`
	// Auth is nil for no authentication.
	Auth *AuthInput `json:"auth,omitempty"`
	// TLS is nil for the defaults (verification on, system roots).
	TLS             *herald.TLS     `json:"tls,omitempty"`
	ChallengeSecret string          `json:"challenge_secret,omitempty"`
	MaxAttempts     int             `json:"max_attempts,omitempty"`
	Timeout         herald.Duration `json:"timeout,omitempty"`
	RateLimit       int             `json:"rate_limit,omitempty"`
	Ordered         bool            `json:"ordered,omitempty"`
	// RetryClientErrors defaults to true when nil: 4xx answers other than
	// 408, 410 and 429 are retried. False fails the delivery at once.
	RetryClientErrors *bool `json:"retry_client_errors,omitempty"`
	// StandardHeaders defaults to true when nil: requests carry webhook-id,
	// webhook-timestamp and webhook-signature. False leaves them out.
	StandardHeaders *bool `json:"standard_headers,omitempty"`
	// SecretHeaders are extra headers holding credentials (write-only).
	SecretHeaders map[string]string `json:"secret_headers,omitempty"`
}

// WebhookInputFrom returns the settable fields of w, secrets revealed: a way
// to create a webhook from a herald.Webhook value.
func WebhookInputFrom(w *herald.Webhook) WebhookInput {
	in := WebhookInput{
		Name: w.Name, Project: w.Project, URL: w.URL, Enabled: &w.Enabled, Category: w.Category,
		EventTypes: w.EventTypes, Conditions: w.Conditions, Severity: w.Severity, Language: w.Language,
		Format: w.Format, Template: w.Template, Headers: w.Headers,
		ChallengeSecret: w.ChallengeSecret.Reveal(), MaxAttempts: w.MaxAttempts, Timeout: w.Timeout,
		RateLimit: w.RateLimit, Ordered: w.Ordered, RetryClientErrors: &w.RetryClientErrors,
		StandardHeaders: &w.StandardHeaders,
	}
	if len(w.SecretHeaders) > 0 {
		in.SecretHeaders = make(map[string]string, len(w.SecretHeaders))
		for k, v := range w.SecretHeaders {
			in.SecretHeaders[k] = v.Reveal()
		}
	}
	if w.Auth != (herald.Auth{}) {
		a := AuthInputFrom(w.Auth)
		in.Auth = &a
	}
	if w.TLS != (herald.TLS{}) {
		t := w.TLS
		in.TLS = &t
	}
	return in
}

// WebhookPatch is the body of UpdateWebhook: only the fields set change. For
// the slices and the map, nil means "unchanged" and an empty non-nil value
// clears the field.
type WebhookPatch struct {
	Name              *string
	Project           *string
	URL               *string
	Enabled           *bool
	Category          *string
	EventTypes        []string
	Conditions        []herald.Condition
	Severity          *string
	Language          *string
	Format            *string
	Template          *string
	Headers           map[string]string
	Auth              *AuthInput
	TLS               *herald.TLS
	ChallengeSecret   *string
	MaxAttempts       *int
	Timeout           *herald.Duration
	RateLimit         *int
	Ordered           *bool
	RetryClientErrors *bool
	StandardHeaders   *bool
	// SecretHeaders replaces the secret headers ("********" keeps a value).
	SecretHeaders map[string]string
}

// MarshalJSON writes only the fields that are set.
func (p WebhookPatch) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	put := func(name string, set bool, v any) {
		if set {
			m[name] = v
		}
	}
	put("name", p.Name != nil, p.Name)
	put("project", p.Project != nil, p.Project)
	put("url", p.URL != nil, p.URL)
	put("enabled", p.Enabled != nil, p.Enabled)
	put("category", p.Category != nil, p.Category)
	put("event_types", p.EventTypes != nil, p.EventTypes)
	put("conditions", p.Conditions != nil, p.Conditions)
	put("severity", p.Severity != nil, p.Severity)
	put("language", p.Language != nil, p.Language)
	put("format", p.Format != nil, p.Format)
	put("template", p.Template != nil, p.Template)
	put("headers", p.Headers != nil, p.Headers)
	put("auth", p.Auth != nil, p.Auth)
	put("tls", p.TLS != nil, p.TLS)
	put("challenge_secret", p.ChallengeSecret != nil, p.ChallengeSecret)
	put("max_attempts", p.MaxAttempts != nil, p.MaxAttempts)
	put("timeout", p.Timeout != nil, p.Timeout)
	put("rate_limit", p.RateLimit != nil, p.RateLimit)
	put("ordered", p.Ordered != nil, p.Ordered)
	put("retry_client_errors", p.RetryClientErrors != nil, p.RetryClientErrors)
	put("standard_headers", p.StandardHeaders != nil, p.StandardHeaders)
	put("secret_headers", p.SecretHeaders != nil, p.SecretHeaders)
	return json.Marshal(m)
}

// IsEmpty reports whether the patch changes nothing.
func (p WebhookPatch) IsEmpty() bool {
	b, _ := p.MarshalJSON()
	return string(b) == "{}"
}

// Webhook is a webhook as the API returns it, with the warnings the server
// attaches (for example about skip_verify).
type Webhook struct {
	herald.Webhook
	Warnings []string `json:"warnings,omitempty"`
}

// CreatedWebhook is the answer to CreateWebhook. SigningSecret ("whsec_...")
// is returned this once: keep it to verify signatures.
type CreatedWebhook struct {
	herald.Webhook
	SigningSecret string   `json:"signing_secret"`
	Warnings      []string `json:"warnings,omitempty"`
}

// TestResult is the outcome of TestWebhook.
type TestResult struct {
	DeliveryID      string  `json:"delivery_id"`
	OK              bool    `json:"ok"`
	StatusCode      int     `json:"status_code"`
	LatencyMS       float64 `json:"latency_ms"`
	ResponseExcerpt string  `json:"response_excerpt"`
	Error           string  `json:"error,omitempty"`
}

// Latency returns LatencyMS as a duration.
func (r *TestResult) Latency() time.Duration {
	return time.Duration(r.LatencyMS * float64(time.Millisecond))
}

// CreateWebhook creates a webhook. Enabled defaults to true.
func (c *Client) CreateWebhook(ctx context.Context, in WebhookInput) (*CreatedWebhook, error) {
	if in.Enabled == nil {
		on := true
		in.Enabled = &on
	}
	var out CreatedWebhook
	if err := c.do(ctx, call{method: http.MethodPost, path: "/webhooks", body: in, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListWebhooks returns the webhooks the token may see; a non-empty project
// keeps only that project's.
func (c *Client) ListWebhooks(ctx context.Context, project string) ([]Webhook, error) {
	q := url.Values{}
	if project != "" {
		q.Set("project", project)
	}
	var out list[Webhook]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/webhooks", query: q, out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetWebhook returns one webhook. Secret fields come back masked.
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	var out Webhook
	if err := c.do(ctx, call{method: http.MethodGet, path: idPath("/webhooks", id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateWebhook changes the fields set in patch and returns the webhook.
func (c *Client) UpdateWebhook(ctx context.Context, id string, patch WebhookPatch) (*Webhook, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	var out Webhook
	if err := c.do(ctx, call{method: http.MethodPatch, path: idPath("/webhooks", id), body: patch, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetWebhookEnabled switches a webhook on or off.
func (c *Client) SetWebhookEnabled(ctx context.Context, id string, enabled bool) (*Webhook, error) {
	return c.UpdateWebhook(ctx, id, WebhookPatch{Enabled: &enabled})
}

// DeleteWebhook deletes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := requireID("webhook", id); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: idPath("/webhooks", id)})
}

// TestWebhook sends a test event to the webhook now and reports how the
// endpoint answered. A failed send is a result with OK false, not an error.
// eventType chooses the event: "" (or "herald.test") sends a herald.test
// event, another type the sample event of that type (the one the
// console's payload preview shows).
func (c *Client) TestWebhook(ctx context.Context, id, eventType string) (*TestResult, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	k := call{method: http.MethodPost, path: idPath("/webhooks", id) + "/test"}
	if eventType != "" {
		k.body = struct {
			EventType string `json:"event_type"`
		}{eventType}
	}
	var out TestResult
	k.out = &out
	if err := c.do(ctx, k); err != nil {
		return nil, err
	}
	return &out, nil
}

// WebhookStatus returns, per event type, the last delivery attempt and its
// result (Harbor's webhook status).
func (c *Client) WebhookStatus(ctx context.Context, id string) ([]herald.EventTypeStatus, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	var out list[herald.EventTypeStatus]
	if err := c.do(ctx, call{method: http.MethodGet, path: idPath("/webhooks", id) + "/status", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Recover retries every failed delivery of the webhook whose last attempt is
// at or after since, and returns how many it requeued.
func (c *Client) Recover(ctx context.Context, id string, since time.Time) (int, error) {
	if err := requireID("webhook", id); err != nil {
		return 0, err
	}
	body := struct {
		Since string `json:"since"`
	}{formatTime(since)}
	var out struct {
		Recovered int `json:"recovered"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: idPath("/webhooks", id) + "/recover", body: body, out: &out}); err != nil {
		return 0, err
	}
	return out.Recovered, nil
}

// VerifyResult is the outcome of an ownership challenge run on demand.
type VerifyResult struct {
	OK         bool    `json:"ok"`
	Reason     string  `json:"reason,omitempty"`
	StatusCode int     `json:"status_code,omitempty"`
	LatencyMS  float64 `json:"latency_ms"`
	Error      string  `json:"error,omitempty"`
}

// VerifyWebhook runs the webhook's ownership challenge now.
func (c *Client) VerifyWebhook(ctx context.Context, id string) (*VerifyResult, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	var out VerifyResult
	if err := c.do(ctx, call{method: http.MethodPost, path: idPath("/webhooks", id) + "/verify", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RotatedSecret is a webhook's new signing secret, shown once.
type RotatedSecret struct {
	WebhookID                string     `json:"webhook_id"`
	SigningSecret            string     `json:"signing_secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until,omitempty"`
}

// RotateSecret gives the webhook a new signing secret; the previous one keeps
// signing for grace (nil: the server's default, 24h).
func (c *Client) RotateSecret(ctx context.Context, id string, grace *time.Duration) (*RotatedSecret, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	body := map[string]any{}
	if grace != nil {
		body["grace"] = grace.String()
	}
	var out RotatedSecret
	if err := c.do(ctx, call{method: http.MethodPost, path: idPath("/webhooks", id) + "/rotate-secret", body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SigningSecret returns the webhook's current signing secret (an explicit,
// audited call for those who may change the webhook).
func (c *Client) SigningSecret(ctx context.Context, id string) (*RotatedSecret, error) {
	if err := requireID("webhook", id); err != nil {
		return nil, err
	}
	var out RotatedSecret
	if err := c.do(ctx, call{method: http.MethodGet, path: idPath("/webhooks", id) + "/signing-secret", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
