package api

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/match"
	"github.com/herald-hq/herald/internal/signing"
	"github.com/herald-hq/herald/internal/store"
)

// webhookInput is the writable part of a webhook. Create decodes it over
// defaults; PATCH decodes it over the stored webhook, so only fields present
// change. Unknown fields are refused.
type webhookInput struct {
	Name            *string             `json:"name"`
	Project         *string             `json:"project"`
	URL             *string             `json:"url"`
	Enabled         *bool               `json:"enabled"`
	Category        *string             `json:"category"`
	EventTypes      *[]string           `json:"event_types"`
	Conditions      *[]herald.Condition `json:"conditions"`
	Severity        *string             `json:"severity"`
	Language        *string             `json:"language"`
	Format          *string             `json:"format"`
	Template        *string             `json:"template"`
	ContentType     *string             `json:"content_type"`
	Headers         *map[string]string  `json:"headers"`
	Auth            *authInput          `json:"auth"`
	TLS             *herald.TLS         `json:"tls"`
	ChallengeSecret *herald.Secret      `json:"challenge_secret"`
	MaxAttempts     *int                `json:"max_attempts"`
	Timeout         *herald.Duration    `json:"timeout"`
	RateLimit       *int                `json:"rate_limit"`
	Ordered         *bool               `json:"ordered"`
}

type authInput struct {
	Type        *string        `json:"type"`
	Username    *string        `json:"username"`
	Password    *herald.Secret `json:"password"`
	Token       *herald.Secret `json:"token"`
	HeaderName  *string        `json:"header_name"`
	HeaderValue *herald.Secret `json:"header_value"`
	CertPEM     *string        `json:"cert_pem"`
	KeyPEM      *herald.Secret `json:"key_pem"`
}

// setSecret keeps the stored value when the client sends back the mask.
func setSecret(dst *herald.Secret, v *herald.Secret) {
	if v != nil && !herald.Masked(*v) {
		*dst = *v
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (in *webhookInput) apply(w *herald.Webhook) {
	setIf(&w.Name, in.Name)
	setIf(&w.Project, in.Project)
	setIf(&w.URL, in.URL)
	setIf(&w.Enabled, in.Enabled)
	setIf(&w.Category, in.Category)
	setIf(&w.EventTypes, in.EventTypes)
	setIf(&w.Conditions, in.Conditions)
	setIf(&w.Severity, in.Severity)
	setIf(&w.Language, in.Language)
	setIf(&w.Format, in.Format)
	setIf(&w.Template, in.Template)
	setIf(&w.ContentType, in.ContentType)
	setIf(&w.Headers, in.Headers)
	setIf(&w.TLS, in.TLS)
	setSecret(&w.ChallengeSecret, in.ChallengeSecret)
	setIf(&w.MaxAttempts, in.MaxAttempts)
	setIf(&w.Timeout, in.Timeout)
	setIf(&w.RateLimit, in.RateLimit)
	setIf(&w.Ordered, in.Ordered)
	if a := in.Auth; a != nil {
		if a.Type != nil && *a.Type != w.Auth.Type {
			// A new auth type starts from nothing: no secret of the old one survives.
			w.Auth = herald.Auth{}
		}
		setIf(&w.Auth.Type, a.Type)
		setIf(&w.Auth.Username, a.Username)
		setSecret(&w.Auth.Password, a.Password)
		setSecret(&w.Auth.Token, a.Token)
		setIf(&w.Auth.HeaderName, a.HeaderName)
		setSecret(&w.Auth.HeaderValue, a.HeaderValue)
		setIf(&w.Auth.CertPEM, a.CertPEM)
		setSecret(&w.Auth.KeyPEM, a.KeyPEM)
	}
}

// reservedHeaders may not be set as extra headers: Herald owns them.
var reservedHeaders = map[string]bool{
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Transfer-Encoding": true, "Connection": true,
}

// normalizeWebhook fills defaults and validates w, naming the first bad field.
// It returns warnings to show with the webhook.
func normalizeWebhook(w *herald.Webhook, s herald.Settings) error {
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return herald.Invalid("name", "name is required")
	}
	if len(w.Name) > 200 {
		return herald.Invalid("name", "name is longer than 200 characters")
	}
	if len(w.Project) > 200 || strings.TrimSpace(w.Project) != w.Project {
		return herald.Invalid("project", "project must be at most 200 characters, without surrounding spaces")
	}
	if err := validateURL(w.URL, s.HTTPSOnly); err != nil {
		return err
	}
	switch w.Category {
	case "":
		w.Category = herald.CategoryEvents
	case herald.CategoryEvents, herald.CategoryAlarms:
	default:
		return herald.Invalid("category", "category %q is not events or alarms", w.Category)
	}
	if err := match.ValidateEventTypes(w.EventTypes); err != nil {
		return err
	}
	if w.Conditions == nil {
		w.Conditions = []herald.Condition{}
	}
	if err := match.ValidateConditions(w.Conditions); err != nil {
		return err
	}
	switch w.Severity {
	case "":
		w.Severity = herald.SeverityPresetAll
	case herald.SeverityPresetAll, herald.SeverityPresetAlerts, herald.SeverityPresetCritical:
	default:
		return herald.Invalid("severity", "severity %q is not all, alerts or critical", w.Severity)
	}
	if w.Language == "" {
		w.Language = format.DefaultLanguage
	}
	if w.Format == "" {
		w.Format = herald.FormatStandard
	}
	if err := format.Validate(w); err != nil {
		return err
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	for k, v := range w.Headers {
		f := "headers." + k
		if k == "" || !validHeaderName(k) {
			return herald.Invalid(f, "%q is not a valid header name", k)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			return herald.Invalid(f, "header %s is set by Herald and cannot be overridden", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return herald.Invalid(f, "header value must not contain line breaks")
		}
	}
	if err := normalizeAuth(&w.Auth); err != nil {
		return err
	}
	if w.TLS.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(w.TLS.CAPEM)) {
			return herald.Invalid("tls.ca_pem", "ca_pem holds no PEM certificate")
		}
	}
	// max_attempts 0 means the length of the retry schedule.
	if w.MaxAttempts < 0 || w.MaxAttempts > 50 {
		return herald.Invalid("max_attempts", "max_attempts must be between 1 and 50 (0 = the retry schedule's length)")
	}
	switch {
	case w.Timeout == 0:
		w.Timeout = herald.Duration(herald.DefaultTimeout)
	case w.Timeout.Std() < 100*time.Millisecond || w.Timeout.Std() > 5*time.Minute:
		return herald.Invalid("timeout", "timeout must be between 100ms and 5m")
	}
	if w.RateLimit < 0 {
		return herald.Invalid("rate_limit", "rate_limit must not be negative (0 = unlimited)")
	}
	return nil
}

func validHeaderName(k string) bool {
	for _, c := range k {
		if c > 127 || !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validateURL(raw string, httpsOnly bool) error {
	if strings.TrimSpace(raw) == "" {
		return herald.Invalid("url", "url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return herald.Invalid("url", "url is not a valid URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return herald.Invalid("url", "url must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return herald.Invalid("url", "url has no host")
	}
	if u.User != nil {
		return herald.Invalid("url", "put credentials in auth, not in the url")
	}
	if u.Fragment != "" {
		return herald.Invalid("url", "url must not have a #fragment")
	}
	if httpsOnly && u.Scheme != "https" {
		return herald.Invalid("url", "only https URLs are accepted (the https_only setting is on)")
	}
	return nil
}

func normalizeAuth(a *herald.Auth) error {
	keep := herald.Auth{Type: a.Type}
	switch a.Type {
	case "", herald.AuthNone:
		keep.Type = herald.AuthNone
	case herald.AuthBasic:
		if a.Username == "" {
			return herald.Invalid("auth.username", "basic auth needs a username")
		}
		if !a.Password.IsSet() {
			return herald.Invalid("auth.password", "basic auth needs a password")
		}
		keep.Username, keep.Password = a.Username, a.Password
	case herald.AuthBearer:
		if !a.Token.IsSet() {
			return herald.Invalid("auth.token", "bearer auth needs a token")
		}
		keep.Token = a.Token
	case herald.AuthHeader:
		if !a.HeaderValue.IsSet() {
			return herald.Invalid("auth.header_value", "header auth needs a header_value")
		}
		keep.HeaderName, keep.HeaderValue = a.HeaderName, a.HeaderValue
		if keep.HeaderName == "" {
			keep.HeaderName = "Authorization"
		}
		if !validHeaderName(keep.HeaderName) || reservedHeaders[textproto.CanonicalMIMEHeaderKey(keep.HeaderName)] {
			return herald.Invalid("auth.header_name", "%q cannot be used as the auth header", keep.HeaderName)
		}
	case herald.AuthMTLS:
		if a.CertPEM == "" {
			return herald.Invalid("auth.cert_pem", "mtls auth needs a PEM client certificate")
		}
		if !a.KeyPEM.IsSet() {
			return herald.Invalid("auth.key_pem", "mtls auth needs the PEM private key of the certificate")
		}
		pair, err := tls.X509KeyPair([]byte(a.CertPEM), []byte(a.KeyPEM.Reveal()))
		if err != nil {
			if blk, _ := pem.Decode([]byte(a.CertPEM)); blk == nil {
				return herald.Invalid("auth.cert_pem", "cert_pem is not a PEM certificate")
			}
			return herald.Invalid("auth.key_pem", "key_pem does not match cert_pem or is not a PEM private key")
		}
		if c, err := x509.ParseCertificate(pair.Certificate[0]); err == nil && time.Now().After(c.NotAfter) {
			return herald.Invalid("auth.cert_pem", "client certificate expired on %s", c.NotAfter.UTC().Format(time.DateOnly))
		}
		keep.CertPEM, keep.KeyPEM = a.CertPEM, a.KeyPEM
		// mTLS may be combined with an extra header credential.
		if a.HeaderValue.IsSet() {
			keep.HeaderName, keep.HeaderValue = a.HeaderName, a.HeaderValue
			if keep.HeaderName == "" {
				keep.HeaderName = "Authorization"
			}
		}
	default:
		return herald.Invalid("auth.type", "auth type %q is not none, basic, bearer, header or mtls", a.Type)
	}
	*a = keep
	return nil
}

// webhookView is a webhook as the API shows it: secrets masked, warnings added.
type webhookView struct {
	*herald.Webhook
	SigningSecret string   `json:"signing_secret,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

func viewOf(w *herald.Webhook) webhookView {
	v := webhookView{Webhook: w}
	if w.TLS.SkipVerify {
		v.Warnings = append(v.Warnings, "TLS certificate verification is off (tls.skip_verify): anyone on the network path can read and change deliveries")
	}
	if strings.HasPrefix(w.URL, "http://") {
		v.Warnings = append(v.Warnings, "the URL is plain http: deliveries and credentials travel unencrypted")
	}
	return v
}

func (a *API) readWebhookInput(r *http.Request) (*webhookInput, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	var in webhookInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	in, err := a.readWebhookInput(r)
	if err != nil {
		return err
	}
	now := a.o.Now().UTC()
	wh := &herald.Webhook{Enabled: true}
	in.apply(wh)
	if err := p.requireWrite(wh.Project, "project"); err != nil {
		if wh.Project == "" {
			return herald.Errorf(herald.EForbidden, "only a platform-admin may create a platform webhook (project \"\"); set project")
		}
		return herald.Errorf(herald.EForbidden, "your token may not create webhooks in project %q", wh.Project)
	}
	settings, err := a.o.Store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	if err := normalizeWebhook(wh, settings); err != nil {
		return err
	}
	wh.ID = herald.NewID("wh")
	wh.SigningSecret = herald.Secret(signing.NewSecret())
	wh.CreatedAt, wh.UpdatedAt = now, now
	if err := a.o.Store.CreateWebhook(r.Context(), wh); err != nil {
		return err
	}
	a.changed(wh.ID)
	v := viewOf(wh)
	v.SigningSecret = wh.SigningSecret.Reveal()
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) changed(id string) {
	a.o.Engine.InvalidateWebhook(id)
	a.o.OnWebhookChange(id)
}

// loadWebhook returns the webhook {id} if p may read it.
func (a *API) loadWebhook(r *http.Request, p *principal) (*herald.Webhook, error) {
	wh, err := a.o.Store.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.requireRead(wh.Project, "webhook"); err != nil {
		return nil, err
	}
	return wh, nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, p *principal) error {
	f := store.WebhookFilter{Projects: p.readable()}
	if q := r.URL.Query(); q.Has("project") {
		proj := q.Get("project")
		if !p.canRead(proj) {
			f.Projects = []string{}
		} else {
			f.Projects = []string{proj}
		}
	}
	var out []webhookView
	if f.Projects == nil || len(f.Projects) > 0 {
		ws, err := a.o.Store.ListWebhooks(r.Context(), f)
		if err != nil {
			return err
		}
		for _, wh := range ws {
			out = append(out, viewOf(wh))
		}
	}
	if out == nil {
		out = []webhookView{}
	}
	writeJSON(w, http.StatusOK, list[webhookView]{Data: out})
	return nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(wh))
	return nil
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if err := p.requireWrite(wh.Project, "webhook"); err != nil {
		return err
	}
	in, err := a.readWebhookInput(r)
	if err != nil {
		return err
	}
	wasEnabled := wh.Enabled
	in.apply(wh)
	if !p.canWrite(wh.Project) {
		return herald.Errorf(herald.EForbidden, "your token may not move a webhook to project %q", wh.Project)
	}
	settings, err := a.o.Store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	if err := normalizeWebhook(wh, settings); err != nil {
		return err
	}
	if wh.Enabled && !wasEnabled {
		// Switched on again by an admin: forget why it was off and its failing streak.
		wh.DisabledReason = ""
		wh.FailingSince = nil
	}
	wh.UpdatedAt = a.o.Now().UTC()
	if err := a.o.Store.UpdateWebhook(r.Context(), wh); err != nil {
		return err
	}
	a.changed(wh.ID)
	writeJSON(w, http.StatusOK, viewOf(wh))
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if err := p.requireWrite(wh.Project, "webhook"); err != nil {
		return err
	}
	if err := a.o.Store.DeleteWebhook(r.Context(), wh.ID, a.o.Now().UTC()); err != nil {
		return err
	}
	a.changed(wh.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if err := p.requireWrite(wh.Project, "webhook"); err != nil {
		return err
	}
	res, err := a.o.Engine.SendTest(r.Context(), wh, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// testUnsavedWebhook sends a test to a configuration that is not saved yet
// (the console's "Send test" before "Submit"). Nothing is recorded.
func (a *API) testUnsavedWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	in, err := a.readWebhookInput(r)
	if err != nil {
		return err
	}
	wh := &herald.Webhook{Enabled: true}
	in.apply(wh)
	if !p.canWrite(wh.Project) {
		return herald.Errorf(herald.EForbidden, "your token may not configure webhooks in project %q", wh.Project)
	}
	settings, err := a.o.Store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	if err := normalizeWebhook(wh, settings); err != nil {
		return err
	}
	wh.ID = "unsaved"
	wh.SigningSecret = herald.Secret(signing.NewSecret())
	res, err := a.o.Engine.SendTest(r.Context(), wh, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) webhookStatus(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	st, err := a.o.Store.WebhookStatus(r.Context(), wh.ID)
	if err != nil {
		return err
	}
	if st == nil {
		st = []herald.EventTypeStatus{}
	}
	writeJSON(w, http.StatusOK, list[herald.EventTypeStatus]{Data: st})
	return nil
}

func (a *API) recoverWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := a.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if err := p.requireWrite(wh.Project, "webhook"); err != nil {
		return err
	}
	var in struct {
		Since time.Time `json:"since"`
	}
	if err := decode(r, &in); err != nil {
		if t, ok := err.(*herald.Error); ok && t.Field == "" && strings.Contains(t.Message, "time") {
			return herald.Invalid("since", "since must be an RFC 3339 time like 2026-01-02T15:04:05Z")
		}
		return err
	}
	if in.Since.IsZero() {
		return herald.Invalid("since", "since is required (RFC 3339 time)")
	}
	n, err := a.o.Store.RecoverFailed(r.Context(), wh.ID, in.Since, a.o.Now().UTC())
	if err != nil {
		return err
	}
	a.o.Engine.Wake()
	writeJSON(w, http.StatusOK, map[string]int{"recovered": n})
	return nil
}
