package client_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// fakeHerald is an in-memory server for the /api/v1 contract the client is
// written against. It decodes bodies strictly, as the real API does, so a
// field the contract does not know fails the test with a 400.
type fakeHerald struct {
	t     *testing.T
	token string

	mu         sync.Mutex
	requests   []recorded
	webhooks   map[string]*herald.Webhook
	secrets    map[string]string // webhook ID → revealed secrets, "field=value"
	events     map[string]*herald.Event
	deliveries []*herald.Delivery
	attempts   map[string][]herald.Attempt
	tokens     map[string]*herald.Token
	settings   herald.Settings
	held       int
	recovered  time.Time
	nextID     int
}

type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

func newFake(t *testing.T) (*fakeHerald, *httptest.Server) {
	t.Helper()
	f := &fakeHerald{
		t: t, token: "hrld_test",
		webhooks: map[string]*herald.Webhook{}, secrets: map[string]string{},
		events: map[string]*herald.Event{}, attempts: map[string][]herald.Attempt{},
		tokens: map[string]*herald.Token{}, settings: herald.Settings{WebhooksEnabled: true},
	}
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
			f.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if r.Header.Get("Authorization") != "Bearer "+f.token {
				writeErr(w, herald.Errorf(herald.EUnauthorized, "invalid or revoked token"))
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if err := h(w, r); err != nil {
				writeErr(w, err)
			}
		})
	}
	route("POST /api/v1/webhooks", f.createWebhook)
	route("GET /api/v1/webhooks", f.listWebhooks)
	route("GET /api/v1/webhooks/{id}", f.getWebhook)
	route("PATCH /api/v1/webhooks/{id}", f.patchWebhook)
	route("DELETE /api/v1/webhooks/{id}", f.deleteWebhook)
	route("POST /api/v1/webhooks/{id}/test", f.testWebhook)
	route("GET /api/v1/webhooks/{id}/status", f.webhookStatus)
	route("POST /api/v1/webhooks/{id}/recover", f.recoverWebhook)
	route("POST /api/v1/events", f.postEvents)
	route("GET /api/v1/events/{id}", f.getEvent)
	route("GET /api/v1/deliveries", f.listDeliveries)
	route("GET /api/v1/deliveries/{id}", f.getDelivery)
	route("POST /api/v1/deliveries/{id}/retry", f.retryDelivery)
	route("POST /api/v1/tokens", f.createToken)
	route("GET /api/v1/tokens", f.listTokens)
	route("DELETE /api/v1/tokens/{id}", f.deleteToken)
	route("GET /api/v1/settings", f.getSettings)
	route("PATCH /api/v1/settings", f.patchSettings)
	route("GET /api/v1/event-types", f.eventTypes)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeHerald) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("no request recorded")
	}
	return f.requests[len(f.requests)-1]
}

// stored returns the secrets the server received for a webhook.
func (f *fakeHerald) stored(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets[id]
}

func (f *fakeHerald) recoveredSince() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recovered
}

func (f *fakeHerald) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeHerald) id(prefix string) string {
	f.nextID++
	return fmt.Sprintf("%s_%03d", prefix, f.nextID)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	status := map[string]int{
		herald.EInvalid: 400, herald.EUnauthorized: 401, herald.EForbidden: 403, herald.ENotFound: 404,
		herald.EConflict: 409, herald.EUnprocessable: 422, herald.ERateLimited: 429,
	}[herald.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	if status == 429 {
		w.Header().Set("Retry-After", "7")
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{
		"code": herald.ErrorCode(err), "message": herald.ErrorMessage(err), "field": herald.ErrorField(err),
	}})
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return herald.Invalid(strings.Trim(f, `"`), "unknown field %s", f)
		}
		return herald.Invalid("", "bad JSON: %v", err)
	}
	return nil
}

// webhookBody is the contract's webhook request body, secrets in clear.
type webhookBody struct {
	Name       *string             `json:"name"`
	Project    *string             `json:"project"`
	URL        *string             `json:"url"`
	Enabled    *bool               `json:"enabled"`
	Category   *string             `json:"category"`
	EventTypes *[]string           `json:"event_types"`
	Conditions *[]herald.Condition `json:"conditions"`
	Severity   *string             `json:"severity"`
	Language   *string             `json:"language"`
	Format     *string             `json:"format"`
	Template   *string             `json:"template"`
	Headers    *map[string]string  `json:"headers"`
	Auth       *struct {
		Type        string `json:"type"`
		Username    string `json:"username"`
		Password    string `json:"password"`
		Token       string `json:"token"`
		HeaderName  string `json:"header_name"`
		HeaderValue string `json:"header_value"`
		CertPEM     string `json:"cert_pem"`
		KeyPEM      string `json:"key_pem"`
	} `json:"auth"`
	TLS             *herald.TLS      `json:"tls"`
	ChallengeSecret *string          `json:"challenge_secret"`
	MaxAttempts     *int             `json:"max_attempts"`
	Timeout         *herald.Duration `json:"timeout"`
	RateLimit       *int             `json:"rate_limit"`
	Ordered         *bool            `json:"ordered"`
	// RetryClientErrors defaults to true, as on the server.
	RetryClientErrors *bool `json:"retry_client_errors"`
	StandardHeaders   *bool `json:"standard_headers"`
}

func (f *fakeHerald) apply(w *herald.Webhook, b *webhookBody) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&w.Name, b.Name)
	set(&w.Project, b.Project)
	set(&w.URL, b.URL)
	set(&w.Category, b.Category)
	set(&w.Severity, b.Severity)
	set(&w.Language, b.Language)
	set(&w.Format, b.Format)
	set(&w.Template, b.Template)
	if b.Enabled != nil {
		w.Enabled = *b.Enabled
	}
	if b.EventTypes != nil {
		w.EventTypes = *b.EventTypes
	}
	if b.Conditions != nil {
		w.Conditions = *b.Conditions
	}
	if b.Headers != nil {
		w.Headers = *b.Headers
	}
	if b.Auth != nil {
		a := b.Auth
		w.Auth = herald.Auth{Type: a.Type, Username: a.Username, Password: herald.Secret(a.Password),
			Token: herald.Secret(a.Token), HeaderName: a.HeaderName, HeaderValue: herald.Secret(a.HeaderValue),
			CertPEM: a.CertPEM, KeyPEM: herald.Secret(a.KeyPEM)}
		f.secrets[w.ID] = fmt.Sprintf("password=%s token=%s header_value=%s key_pem=%s", a.Password, a.Token, a.HeaderValue, a.KeyPEM)
	}
	if b.TLS != nil {
		w.TLS = *b.TLS
	}
	if b.ChallengeSecret != nil {
		w.ChallengeSecret = herald.Secret(*b.ChallengeSecret)
	}
	if b.MaxAttempts != nil {
		w.MaxAttempts = *b.MaxAttempts
	}
	if b.Timeout != nil {
		w.Timeout = *b.Timeout
	}
	if b.RateLimit != nil {
		w.RateLimit = *b.RateLimit
	}
	if b.Ordered != nil {
		w.Ordered = *b.Ordered
	}
	if b.RetryClientErrors != nil {
		w.RetryClientErrors = *b.RetryClientErrors
	}
	if b.StandardHeaders != nil {
		w.StandardHeaders = *b.StandardHeaders
	}
}

func warnings(w *herald.Webhook) []string {
	if w.TLS.SkipVerify {
		return []string{"TLS verification is off"}
	}
	return nil
}

func (f *fakeHerald) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var b webhookBody
	if err := decodeStrict(r, &b); err != nil {
		return err
	}
	if b.URL == nil || !strings.HasPrefix(*b.URL, "http") {
		return herald.Invalid("url", "url must be an http or https URL")
	}
	wh := &herald.Webhook{ID: f.id("wh"), Format: herald.FormatStandard, RetryClientErrors: true, StandardHeaders: true, CreatedAt: time.Unix(1700000000, 0).UTC()}
	f.apply(wh, &b)
	f.webhooks[wh.ID] = wh
	writeJSON(w, http.StatusCreated, struct {
		*herald.Webhook
		SigningSecret string   `json:"signing_secret"`
		Warnings      []string `json:"warnings,omitempty"`
	}{wh, "whsec_" + wh.ID, warnings(wh)})
	return nil
}

func (f *fakeHerald) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	out := []*herald.Webhook{}
	for _, wh := range f.webhooks {
		if p := r.URL.Query().Get("project"); p == "" || p == wh.Project {
			out = append(out, wh)
		}
	}
	slices.SortFunc(out, func(a, b *herald.Webhook) int { return strings.Compare(a.ID, b.ID) })
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (f *fakeHerald) webhook(r *http.Request) (*herald.Webhook, error) {
	wh, ok := f.webhooks[r.PathValue("id")]
	if !ok {
		return nil, herald.NotFound("webhook")
	}
	return wh, nil
}

func (f *fakeHerald) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := f.webhook(r)
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		*herald.Webhook
		Warnings []string `json:"warnings,omitempty"`
	}{wh, warnings(wh)})
	return nil
}

func (f *fakeHerald) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := f.webhook(r)
	if err != nil {
		return err
	}
	var b webhookBody
	if err := decodeStrict(r, &b); err != nil {
		return err
	}
	f.apply(wh, &b)
	writeJSON(w, 200, wh)
	return nil
}

func (f *fakeHerald) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.webhook(r); err != nil {
		return err
	}
	delete(f.webhooks, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (f *fakeHerald) testWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := f.webhook(r)
	if err != nil {
		return err
	}
	res := map[string]any{"delivery_id": "dlv_test", "ok": true, "status_code": 200, "latency_ms": 12.5, "response_excerpt": "ok"}
	if !wh.Enabled {
		res = map[string]any{"delivery_id": "dlv_test", "ok": false, "status_code": 0, "latency_ms": 3.0, "response_excerpt": "", "error": "connection refused"}
	}
	writeJSON(w, 200, res)
	return nil
}

func (f *fakeHerald) webhookStatus(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.webhook(r); err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": []herald.EventTypeStatus{{
		EventType: "image.pushed", LastAttemptAt: time.Unix(1700000000, 0).UTC(), State: "failed",
		StatusCode: 503, Error: "HTTP 503", DeliveryID: "dlv_1",
	}}})
	return nil
}

func (f *fakeHerald) recoverWebhook(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.webhook(r); err != nil {
		return err
	}
	var b struct {
		Since string `json:"since"`
	}
	if err := decodeStrict(r, &b); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339, b.Since)
	if err != nil {
		return herald.Invalid("since", "since must be an RFC 3339 time")
	}
	f.recovered = since
	writeJSON(w, 200, map[string]int{"recovered": 3})
	return nil
}

type eventBody struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Project    string            `json:"project"`
	Source     string            `json:"source"`
	Subject    string            `json:"subject"`
	Severity   string            `json:"severity"`
	Labels     map[string]string `json:"labels"`
	Data       json.RawMessage   `json:"data"`
	OccurredAt *time.Time        `json:"occurred_at"`
}

func (f *fakeHerald) postEvents(w http.ResponseWriter, r *http.Request) error {
	raw, _ := io.ReadAll(r.Body)
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return herald.Invalid("", "bad JSON")
	}
	var batch []eventBody
	if _, ok := probe["events"]; ok {
		var b struct {
			Events []eventBody `json:"events"`
		}
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		if err := decodeStrict(r, &b); err != nil {
			return err
		}
		batch = b.Events
	} else {
		var e eventBody
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		if err := decodeStrict(r, &e); err != nil {
			return err
		}
		batch = []eventBody{e}
	}
	type result struct {
		ID         string `json:"id"`
		Project    string `json:"project"`
		Duplicate  bool   `json:"duplicate"`
		Deliveries int    `json:"deliveries"`
	}
	var out []result
	for i, e := range batch {
		if e.Type == "" {
			return herald.Invalid(fmt.Sprintf("events[%d].type", i), "type is required")
		}
		id := e.ID
		if id == "" && len(batch) == 1 {
			id = r.Header.Get("Idempotency-Key")
		}
		if id == "" {
			id = f.id("evt")
		}
		key := e.Project + "/" + id
		_, dup := f.events[key]
		if !dup {
			f.events[key] = &herald.Event{ID: id, Type: e.Type, Project: e.Project, Source: e.Source, Subject: e.Subject,
				Severity: e.Severity, Labels: e.Labels, Data: e.Data, OccurredAt: time.Unix(1700000000, 0).UTC()}
		}
		n := 0
		if !dup {
			n = len(f.webhooks)
		}
		out = append(out, result{id, e.Project, dup, n})
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"data": out})
	return nil
}

func (f *fakeHerald) getEvent(w http.ResponseWriter, r *http.Request) error {
	ev, ok := f.events[r.URL.Query().Get("project")+"/"+r.PathValue("id")]
	if !ok {
		return herald.NotFound("event")
	}
	writeJSON(w, 200, ev)
	return nil
}

func (f *fakeHerald) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 2
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	var match []*herald.Delivery
	for _, d := range f.deliveries {
		if (q.Get("webhook") == "" || d.WebhookID == q.Get("webhook")) &&
			(q.Get("state") == "" || string(d.State) == q.Get("state")) &&
			(q.Get("cursor") == "" || d.ID > q.Get("cursor")) {
			match = append(match, d)
		}
	}
	next := ""
	if len(match) > limit {
		match = match[:limit]
		next = match[limit-1].ID
	}
	writeJSON(w, 200, map[string]any{"data": match, "next_cursor": next})
	return nil
}

func (f *fakeHerald) delivery(r *http.Request) (*herald.Delivery, error) {
	for _, d := range f.deliveries {
		if d.ID == r.PathValue("id") {
			return d, nil
		}
	}
	return nil, herald.NotFound("delivery")
}

func (f *fakeHerald) getDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := f.delivery(r)
	if err != nil {
		return err
	}
	dd := *d
	dd.Attempts = len(f.attempts[d.ID])
	writeJSON(w, 200, struct {
		*herald.Delivery
		Attempts []herald.Attempt `json:"attempt_log"`
	}{&dd, f.attempts[d.ID]})
	return nil
}

func (f *fakeHerald) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := f.delivery(r)
	if err != nil {
		return err
	}
	if d.State == herald.StatePending || d.State == herald.StateRetrying {
		return herald.Errorf(herald.EConflict, "delivery is already queued")
	}
	d.State = herald.StateRetrying
	writeJSON(w, 200, d)
	return nil
}

func (f *fakeHerald) createToken(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Projects []string `json:"projects"`
	}
	if err := decodeStrict(r, &b); err != nil {
		return err
	}
	if !herald.ValidRole(b.Role) {
		return herald.Invalid("role", "unknown role %q", b.Role)
	}
	t := &herald.Token{ID: f.id("tok"), Name: b.Name, Role: b.Role, Projects: b.Projects, CreatedAt: time.Unix(1700000000, 0).UTC()}
	f.tokens[t.ID] = t
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": t.ID, "name": t.Name, "role": t.Role, "projects": t.Projects, "created_at": t.CreatedAt,
		"token": "hrld_" + t.ID,
	})
	return nil
}

func (f *fakeHerald) listTokens(w http.ResponseWriter, r *http.Request) error {
	out := []*herald.Token{}
	for _, t := range f.tokens {
		out = append(out, t)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (f *fakeHerald) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if _, ok := f.tokens[r.PathValue("id")]; !ok {
		return herald.NotFound("token")
	}
	delete(f.tokens, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (f *fakeHerald) settingsBody() any {
	return map[string]any{"webhooks_enabled": f.settings.WebhooksEnabled, "https_only": f.settings.HTTPSOnly, "held": f.held}
}

func (f *fakeHerald) getSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, f.settingsBody())
	return nil
}

func (f *fakeHerald) patchSettings(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		WebhooksEnabled *bool `json:"webhooks_enabled"`
		HTTPSOnly       *bool `json:"https_only"`
	}
	if err := decodeStrict(r, &b); err != nil {
		return err
	}
	if b.WebhooksEnabled != nil {
		f.settings.WebhooksEnabled = *b.WebhooksEnabled
	}
	if b.HTTPSOnly != nil {
		f.settings.HTTPSOnly = *b.HTTPSOnly
	}
	writeJSON(w, 200, f.settingsBody())
	return nil
}

func (f *fakeHerald) eventTypes(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, map[string]any{"data": []herald.EventType{{
		Name: "image.pushed", Category: "events", Source: "harbor",
		Description: map[string]string{"en": "An image was pushed", "zh-CN": "镜像已推送"},
	}}})
	return nil
}
