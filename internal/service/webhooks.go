package service

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"net/netip"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/dispatch"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/match"
	"github.com/herald-hq/herald/internal/signing"
	"github.com/herald-hq/herald/internal/store"
)

// WebhookInput is the writable part of a webhook (JSON field names as in
// the API). A nil field is "not given". Create decodes it over
// defaults; PATCH decodes it over the stored webhook, so only fields present
// change. Unknown fields are refused.
type WebhookInput struct {
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
	Auth            *AuthInput          `json:"auth"`
	TLS             *herald.TLS         `json:"tls"`
	ChallengeSecret *herald.Secret      `json:"challenge_secret"`
	MaxAttempts     *int                `json:"max_attempts"`
	Timeout         *herald.Duration    `json:"timeout"`
	RateLimit       *int                `json:"rate_limit"`
	Ordered         *bool               `json:"ordered"`
	// RetryClientErrors defaults to true on create.
	RetryClientErrors *bool `json:"retry_client_errors"`
	// StandardHeaders defaults to true on create: the Standard Webhooks
	// headers are sent.
	StandardHeaders *bool `json:"standard_headers"`

	// SecretHeaders are extra headers holding credentials (write-only:
	// "********" keeps a stored value). A credential-named header given in
	// Headers is treated as one.
	SecretHeaders *map[string]herald.Secret `json:"secret_headers"`
}

type AuthInput struct {
	Type        *string        `json:"type"`
	Username    *string        `json:"username"`
	Password    *herald.Secret `json:"password"`
	Token       *herald.Secret `json:"token"`
	HeaderName  *string        `json:"header_name"`
	HeaderValue *herald.Secret `json:"header_value"`
	CertPEM     *string        `json:"cert_pem"`
	KeyPEM      *herald.Secret `json:"key_pem"`
	Secret      *herald.Secret `json:"secret"`
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

// Apply sets the fields given in in on w.
func (in *WebhookInput) Apply(w *herald.Webhook) {
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
	in.applyHeaders(w)
	setIf(&w.TLS, in.TLS)
	setSecret(&w.ChallengeSecret, in.ChallengeSecret)
	setIf(&w.MaxAttempts, in.MaxAttempts)
	setIf(&w.Timeout, in.Timeout)
	setIf(&w.RateLimit, in.RateLimit)
	setIf(&w.Ordered, in.Ordered)
	setIf(&w.RetryClientErrors, in.RetryClientErrors)
	setIf(&w.StandardHeaders, in.StandardHeaders)
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
		setSecret(&w.Auth.Secret, a.Secret)
	}
}

// applyHeaders sets w's plain and secret headers from in. A header sent
// with the mask "********" keeps its stored secret value. A header named
// like a credential (herald.CredentialHeader) is secret wherever it is
// given; so is a header already secret that comes back in headers while
// secret_headers is not given (once secret, a header stays secret until
// secret_headers says otherwise). The stored maps are never changed in
// place: UpdateWebhook compares them with the result.
func (in *WebhookInput) applyHeaders(w *herald.Webhook) {
	if in.Headers == nil && in.SecretHeaders == nil {
		return
	}
	old := w.SecretHeaders
	keep := func(k string, v herald.Secret) herald.Secret {
		if herald.Masked(v) {
			if ov, ok := w.SecretHeader(k); ok {
				return ov
			}
		}
		return v
	}
	secret := make(map[string]herald.Secret, len(old))
	if in.SecretHeaders == nil {
		for k, v := range old {
			secret[k] = v
		}
	} else {
		for k, v := range *in.SecretHeaders {
			secret[k] = keep(k, v)
		}
	}
	plain := w.Headers
	if in.Headers != nil {
		plain = make(map[string]string, len(*in.Headers))
		for k, v := range *in.Headers {
			_, wasSecret := w.SecretHeader(k)
			if herald.CredentialHeader(k) || wasSecret && (in.SecretHeaders == nil || herald.Masked(herald.Secret(v))) {
				for sk := range secret {
					if strings.EqualFold(sk, k) {
						delete(secret, sk)
					}
				}
				secret[k] = keep(k, herald.Secret(v))
			} else {
				plain[k] = v
			}
		}
	}
	w.Headers, w.SecretHeaders = plain, secret
}

// reservedHeaders may not be set as extra headers: Herald owns them.
var reservedHeaders = map[string]bool{
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true, "Herald-Hops": true,
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Transfer-Encoding": true, "Connection": true,
}

// NormalizeWebhook fills defaults and validates w, naming the first bad field.
func NormalizeWebhook(w *herald.Webhook, s herald.Settings) error {
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return herald.InvalidKey("name", "webhook.name.required", nil, "name is required")
	}
	if len(w.Name) > 200 {
		return herald.InvalidKey("name", "webhook.name.too_long", herald.Args{"max": "200"}, "name is longer than 200 characters")
	}
	if herald.HasControl(w.Name) {
		return herald.InvalidKey("name", "webhook.name.control", nil, "name must not contain control characters (NUL, line breaks, ...)")
	}
	if len(w.Project) > 200 || strings.TrimSpace(w.Project) != w.Project {
		return herald.InvalidKey("project", "webhook.project.invalid", herald.Args{"max": "200"}, "project must be at most 200 characters, without surrounding spaces")
	}
	if herald.HasControl(w.Project) {
		return herald.InvalidKey("project", "webhook.project.control", nil, "project must not contain control characters (NUL, line breaks, ...)")
	}
	if err := validateURL(w.URL, s.HTTPSOnly); err != nil {
		return err
	}
	switch w.Category {
	case "":
		w.Category = herald.CategoryEvents
	case herald.CategoryEvents, herald.CategoryAlarms:
	default:
		return herald.InvalidKey("category", "webhook.category.invalid", herald.Args{"value": strconv.Quote(w.Category)}, "category %q is not events or alarms", w.Category)
	}
	if len(w.EventTypes) > herald.MaxEventTypes {
		return herald.InvalidKey("event_types", "event_types.too_many", herald.Args{"max": strconv.Itoa(herald.MaxEventTypes)}, "at most %d event types per webhook, got %d", herald.MaxEventTypes, len(w.EventTypes))
	}
	for i, t := range w.EventTypes {
		if herald.HasControl(t) || len(t) > 200 {
			return herald.InvalidKey("event_types["+strconv.Itoa(i)+"]", "event_types.control", herald.Args{"index": strconv.Itoa(i)}, "event type must be at most 200 bytes, without control characters")
		}
	}
	if err := match.ValidateEventTypes(w.EventTypes); err != nil {
		return err
	}
	if w.Conditions == nil {
		w.Conditions = []herald.Condition{}
	}
	if err := validateConditionLimits(w.Conditions); err != nil {
		return err
	}
	if err := match.ValidateConditions(w.Conditions); err != nil {
		return err
	}
	switch w.Severity {
	case "":
		w.Severity = herald.SeverityPresetAll
	case herald.SeverityPresetAll, herald.SeverityPresetAlerts, herald.SeverityPresetAlertsNoReachability, herald.SeverityPresetCritical:
	default:
		return herald.InvalidKey("severity", "webhook.severity.invalid", herald.Args{"value": strconv.Quote(w.Severity)}, "severity %q is not all, alerts, alerts-no-reachability or critical", w.Severity)
	}
	if w.Language == "" {
		w.Language = format.DefaultLanguage
	}
	for _, l := range format.Languages() {
		if strings.EqualFold(l, w.Language) {
			w.Language = l // stored in its canonical spelling ("zh-CN")
		}
	}
	if w.Format == "" {
		w.Format = herald.FormatStandard
	}
	if err := format.Validate(w); err != nil {
		return err
	}
	if err := normalizeHeaders(w); err != nil {
		return err
	}
	if err := normalizeAuth(&w.Auth); err != nil {
		return err
	}
	if w.TLS.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(w.TLS.CAPEM)) {
			return herald.InvalidKey("tls.ca_pem", "tls.ca_pem.invalid", nil, "ca_pem holds no PEM certificate")
		}
	}
	// max_attempts 0 means the length of the retry schedule.
	if w.MaxAttempts < 0 || w.MaxAttempts > 50 {
		return herald.InvalidKey("max_attempts", "webhook.max_attempts.range", herald.Args{"min": "1", "max": "50"}, "max_attempts must be between 1 and 50 (0 = the retry schedule's length)")
	}
	switch {
	case w.Timeout == 0:
		w.Timeout = herald.Duration(herald.DefaultTimeout)
	case w.Timeout.Std() < 100*time.Millisecond || w.Timeout.Std() > 5*time.Minute:
		return herald.InvalidKey("timeout", "webhook.timeout.range", herald.Args{"min": "100ms", "max": "5m"}, "timeout must be between 100ms and 5m")
	}
	if w.RateLimit < 0 {
		return herald.InvalidKey("rate_limit", "webhook.rate_limit.negative", nil, "rate_limit must not be negative (0 = unlimited)")
	}
	chatDefaults(w) // chat.go
	return nil
}

// validateConditionLimits bounds the conditions (count, values, sizes) and
// refuses control characters in labels and values, before the matcher's
// own rules run.
func validateConditionLimits(cs []herald.Condition) error {
	if len(cs) > herald.MaxConditions {
		return herald.InvalidKey("conditions", "condition.too_many", herald.Args{"max": strconv.Itoa(herald.MaxConditions)}, "at most %d conditions per webhook, got %d", herald.MaxConditions, len(cs))
	}
	maxBytes := strconv.Itoa(herald.MaxConditionValueBytes)
	for i, c := range cs {
		f := "conditions[" + strconv.Itoa(i) + "]"
		idx := strconv.Itoa(i)
		if len(c.Label) > herald.MaxConditionValueBytes || herald.HasControl(c.Label) {
			return herald.InvalidKey(f+".label", "condition.label.invalid", herald.Args{"index": idx, "max": maxBytes}, "label must be at most %d bytes, without control characters", herald.MaxConditionValueBytes)
		}
		if len(c.Values) > herald.MaxConditionValues {
			return herald.InvalidKey(f+".values", "condition.values.too_many", herald.Args{"index": idx, "max": strconv.Itoa(herald.MaxConditionValues)}, "at most %d values per condition, got %d", herald.MaxConditionValues, len(c.Values))
		}
		for _, v := range c.Values {
			if len(v) > herald.MaxConditionValueBytes || herald.HasControl(v) {
				return herald.InvalidKey(f+".values", "condition.value.invalid", herald.Args{"index": idx, "max": maxBytes}, "each value must be at most %d bytes, without control characters", herald.MaxConditionValueBytes)
			}
		}
	}
	return nil
}

// normalizeHeaders checks the plain and secret extra headers together:
// names, values, reserved names, one spelling per name, count and size
// limits. A credential-named header still among the plain ones is moved to
// the secret ones.
func normalizeHeaders(w *herald.Webhook) error {
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	if w.SecretHeaders == nil {
		w.SecretHeaders = map[string]herald.Secret{}
	}
	for k, v := range w.Headers {
		if herald.CredentialHeader(k) {
			if _, ok := w.SecretHeader(k); ok {
				return herald.InvalidKey("headers."+k, "header.twice", herald.Args{"name": k}, "header %s is given twice (in headers and secret_headers)", k)
			}
			w.SecretHeaders[k] = herald.Secret(v)
			delete(w.Headers, k)
		}
	}
	if n := len(w.Headers) + len(w.SecretHeaders); n > herald.MaxHeaders {
		return herald.InvalidKey("headers", "header.too_many", herald.Args{"max": strconv.Itoa(herald.MaxHeaders)}, "at most %d extra headers, got %d", herald.MaxHeaders, n)
	}
	seen := make(map[string]string, len(w.Headers)+len(w.SecretHeaders))
	size := 0
	check := func(k, v string, secret bool) error {
		f := "headers." + k
		if k == "" || !validHeaderName(k) || len(k) > 256 {
			return herald.InvalidKey(f, "header.name.invalid", herald.Args{"name": strconv.Quote(k)}, "%q is not a valid header name", k)
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		if reservedHeaders[canon] {
			return herald.InvalidKey(f, "header.reserved", herald.Args{"name": k}, "header %s is set by Herald and cannot be overridden", k)
		}
		if prev, ok := seen[canon]; ok {
			return herald.InvalidKey(f, "header.twice", herald.Args{"name": k}, "header %s is given twice (as %s and %s)", canon, prev, k)
		}
		seen[canon] = k
		if !herald.ValidHeaderValue(v) {
			return herald.InvalidKey(f, "header.value.line_break", herald.Args{"name": k}, "header value must not contain line breaks or other control characters")
		}
		if herald.Masked(herald.Secret(v)) {
			return herald.InvalidKey(f, "header.value.mask", herald.Args{"name": k}, "header %s has no stored value to keep: send its value, not ********", k)
		}
		if secret && v == "" {
			return herald.InvalidKey(f, "header.value.required", herald.Args{"name": k}, "secret header %s needs a value", k)
		}
		size += len(k) + len(v)
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(w.Headers)) {
		if err := check(k, w.Headers[k], false); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(w.SecretHeaders)) {
		if err := check(k, w.SecretHeaders[k].Reveal(), true); err != nil {
			return err
		}
	}
	if size > herald.MaxHeaderBytes {
		return herald.InvalidKey("headers", "header.too_large", herald.Args{"max": strconv.Itoa(herald.MaxHeaderBytes)}, "extra headers are %d bytes together, at most %d", size, herald.MaxHeaderBytes)
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
		return herald.InvalidKey("url", "url.required", nil, "url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return herald.InvalidKey("url", "url.invalid", herald.Args{"detail": err.Error()}, "url is not a valid URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return herald.InvalidKey("url", "url.scheme", nil, "url must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return herald.InvalidKey("url", "url.no_host", nil, "url has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return herald.InvalidKey("url", "url.port", nil, "url port must be between 1 and 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return herald.InvalidKey("url", "url.port", nil, "url port must be between 1 and 65535")
	}
	if err := validateHost(u.Hostname()); err != nil {
		return err
	}
	if u.User != nil {
		return herald.InvalidKey("url", "url.credentials", nil, "put credentials in auth, not in the url")
	}
	if u.Fragment != "" {
		return herald.InvalidKey("url", "url.fragment", nil, "url must not have a #fragment")
	}
	if httpsOnly && u.Scheme != "https" {
		return herald.InvalidKey("url", "url.https_only", nil, "only https URLs are accepted (the https_only setting is on)")
	}
	return nil
}

// validateHost refuses host names DNS cannot carry: over 253 bytes, an
// empty label or a label over 63 bytes. IP literals pass.
func validateHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if len(strings.TrimSuffix(h, ".")) > herald.MaxHostBytes {
		return herald.InvalidKey("url", "url.host_too_long", herald.Args{"max": strconv.Itoa(herald.MaxHostBytes)}, "url host is longer than %d bytes", herald.MaxHostBytes)
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 {
			return herald.InvalidKey("url", "url.host_label", nil, "url host has an empty label or one longer than 63 bytes")
		}
	}
	return nil
}

// validAuthHeaderValue refuses what would split or break the request line
// of an auth header: control characters (CR, LF, NUL, ...).
func authValueError(field, what string, v herald.Secret) error {
	if !herald.ValidHeaderValue(v.Reveal()) {
		return herald.InvalidKey(field, "auth.control", herald.Args{"field": what}, "%s must not contain line breaks or other control characters", what)
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
			return herald.InvalidKey("auth.username", "auth.basic.username_required", nil, "basic auth needs a username")
		}
		if herald.HasControl(a.Username) || strings.Contains(a.Username, ":") {
			return herald.InvalidKey("auth.username", "auth.basic.username_invalid", nil, "a basic auth username must not contain ':' or control characters")
		}
		if !a.Password.IsSet() {
			return herald.InvalidKey("auth.password", "auth.basic.password_required", nil, "basic auth needs a password")
		}
		if strings.ContainsAny(a.Password.Reveal(), "\x00") {
			return herald.InvalidKey("auth.password", "auth.control", herald.Args{"field": "password"}, "password must not contain NUL")
		}
		keep.Username, keep.Password = a.Username, a.Password
	case herald.AuthBearer:
		if !a.Token.IsSet() {
			return herald.InvalidKey("auth.token", "auth.bearer.token_required", nil, "bearer auth needs a token")
		}
		if err := authValueError("auth.token", "token", a.Token); err != nil {
			return err
		}
		keep.Token = a.Token
	case herald.AuthHeader:
		if !a.HeaderValue.IsSet() {
			return herald.InvalidKey("auth.header_value", "auth.header.value_required", nil, "header auth needs a header_value")
		}
		if err := authValueError("auth.header_value", "header_value", a.HeaderValue); err != nil {
			return err
		}
		keep.HeaderName, keep.HeaderValue = a.HeaderName, a.HeaderValue
		if keep.HeaderName == "" {
			keep.HeaderName = "Authorization"
		}
		if !validHeaderName(keep.HeaderName) || reservedHeaders[textproto.CanonicalMIMEHeaderKey(keep.HeaderName)] {
			return herald.InvalidKey("auth.header_name", "auth.header.name_invalid", herald.Args{"name": strconv.Quote(keep.HeaderName)}, "%q cannot be used as the auth header", keep.HeaderName)
		}
	case herald.AuthMTLS:
		if a.CertPEM == "" {
			return herald.InvalidKey("auth.cert_pem", "auth.mtls.cert_required", nil, "mtls auth needs a PEM client certificate")
		}
		if !a.KeyPEM.IsSet() {
			return herald.InvalidKey("auth.key_pem", "auth.mtls.key_required", nil, "mtls auth needs the PEM private key of the certificate")
		}
		pair, err := tls.X509KeyPair([]byte(a.CertPEM), []byte(a.KeyPEM.Reveal()))
		if err != nil {
			if blk, _ := pem.Decode([]byte(a.CertPEM)); blk == nil {
				return herald.InvalidKey("auth.cert_pem", "auth.mtls.cert_invalid", nil, "cert_pem is not a PEM certificate")
			}
			return herald.InvalidKey("auth.key_pem", "auth.mtls.key_mismatch", nil, "key_pem does not match cert_pem or is not a PEM private key")
		}
		if c, err := x509.ParseCertificate(pair.Certificate[0]); err == nil && time.Now().After(c.NotAfter) {
			return herald.InvalidKey("auth.cert_pem", "auth.mtls.cert_expired", herald.Args{"date": c.NotAfter.UTC().Format(time.DateOnly)}, "client certificate expired on %s", c.NotAfter.UTC().Format(time.DateOnly))
		}
		keep.CertPEM, keep.KeyPEM = a.CertPEM, a.KeyPEM
		// mTLS may be combined with an extra header credential.
		if a.HeaderValue.IsSet() {
			if err := authValueError("auth.header_value", "header_value", a.HeaderValue); err != nil {
				return err
			}
			keep.HeaderName, keep.HeaderValue = a.HeaderName, a.HeaderValue
			if keep.HeaderName == "" {
				keep.HeaderName = "Authorization"
			}
			if !validHeaderName(keep.HeaderName) || reservedHeaders[textproto.CanonicalMIMEHeaderKey(keep.HeaderName)] {
				return herald.InvalidKey("auth.header_name", "auth.header.name_invalid", herald.Args{"name": strconv.Quote(keep.HeaderName)}, "%q cannot be used as the auth header", keep.HeaderName)
			}
		}
	case herald.AuthSign:
		if !a.Secret.IsSet() {
			return herald.InvalidKey("auth.secret", "auth.sign.secret_required", nil, "sign auth needs the robot's signing secret")
		}
		keep.Secret = a.Secret
	default:
		return herald.InvalidKey("auth.type", "auth.type.invalid", herald.Args{"value": strconv.Quote(a.Type)}, "auth type %q is not none, basic, bearer, header, mtls or sign", a.Type)
	}
	*a = keep
	return nil
}

// Warnings are what to tell an admin about w (shown by the API and the
// console): TLS verification off, plain http.
func Warnings(w *herald.Webhook) []string {
	var v []string
	if w.TLS.SkipVerify {
		v = append(v, "TLS certificate verification is off (tls.skip_verify): anyone on the network path can read and change deliveries")
	}
	if strings.HasPrefix(w.URL, "http://") {
		v = append(v, "the URL is plain http: deliveries and credentials travel unencrypted")
	}
	v = append(v, eventTypeWarnings(w)...)
	return v
}

// ListWebhooks returns the webhooks p may read; project != nil limits to one
// project ("" = platform webhooks).
func (s *Service) ListWebhooks(ctx context.Context, p *Principal, project *string) ([]*herald.Webhook, error) {
	f := store.WebhookFilter{Projects: p.Readable()}
	if project != nil {
		if !p.CanRead(*project) {
			return []*herald.Webhook{}, nil
		}
		f.Projects = []string{*project}
	}
	if f.Projects != nil && len(f.Projects) == 0 {
		return []*herald.Webhook{}, nil
	}
	ws, err := s.o.Store.ListWebhooks(ctx, f)
	if err != nil {
		return nil, err
	}
	if ws == nil {
		ws = []*herald.Webhook{}
	}
	return ws, nil
}

// GetWebhook returns webhook id if p may read it (ENotFound otherwise).
func (s *Service) GetWebhook(ctx context.Context, p *Principal, id string) (*herald.Webhook, error) {
	wh, err := s.o.Store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireRead(wh.Project, "webhook"); err != nil {
		return nil, err
	}
	return wh, nil
}

// webhookForWrite returns webhook id if p may change it.
func (s *Service) webhookForWrite(ctx context.Context, p *Principal, id string) (*herald.Webhook, error) {
	wh, err := s.GetWebhook(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(wh.Project, "webhook"); err != nil {
		return nil, err
	}
	return wh, nil
}

// CreateWebhook validates and stores a new webhook. The result carries its
// signing secret (SigningSecret.Reveal()), to show once.
func (s *Service) CreateWebhook(ctx context.Context, p *Principal, in *WebhookInput) (*herald.Webhook, error) {
	now := s.now()
	wh := &herald.Webhook{Enabled: true, RetryClientErrors: true, StandardHeaders: true}
	in.Apply(wh)
	if !p.CanWrite(wh.Project) {
		if wh.Project == "" {
			return nil, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "only a platform-admin may create a platform webhook (project \"\"); set project", Key: "webhook.project.platform_only"}
		}
		return nil, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not create webhooks in project " + wh.Project, Key: "webhook.project.create_forbidden", Args: herald.Args{"project": wh.Project}}
	}
	settings, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	if err := NormalizeWebhook(wh, settings); err != nil {
		return nil, err
	}
	if err := s.refuseSelf(ctx, wh); err != nil {
		return nil, err
	}
	if err := s.challenge(ctx, wh); err != nil {
		return nil, err
	}
	wh.ID = herald.NewID("wh")
	wh.SigningSecret = herald.Secret(signing.NewSecret())
	wh.CreatedAt, wh.UpdatedAt = now, now
	if err := s.o.Store.CreateWebhook(ctx, wh); err != nil {
		return nil, err
	}
	s.changed(wh.ID)
	s.audit(ctx, p, "webhook.create", wh.ID, wh.Project, wh)
	return wh, nil
}

func (s *Service) changed(id string) {
	s.o.Engine.InvalidateWebhook(id)
	s.o.OnWebhookChange(id)
}

// UpdateWebhook applies the fields given in in to webhook id.
func (s *Service) UpdateWebhook(ctx context.Context, p *Principal, id string, in *WebhookInput) (*herald.Webhook, error) {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return nil, err
	}
	wasEnabled := wh.Enabled
	stored := *wh
	in.Apply(wh)
	if !p.CanWrite(wh.Project) {
		return nil, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not move a webhook to project " + wh.Project, Key: "webhook.project.move_forbidden", Args: herald.Args{"project": wh.Project}}
	}
	settings, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	if err := NormalizeWebhook(wh, settings); err != nil {
		return nil, err
	}
	if err := requireCredentialsOnMove(&stored, wh, in); err != nil {
		return nil, err
	}
	if err := s.refuseSelf(ctx, wh); err != nil {
		return nil, err
	}
	// Every update, whatever it changes, runs the challenge again (seed 003).
	if err := s.challenge(ctx, wh); err != nil {
		return nil, err
	}
	if wh.Enabled && !wasEnabled {
		// Switched on again by an admin: forget why it was off and its failing streak.
		wh.DisabledReason = ""
		wh.FailingSince = nil
	}
	wh.UpdatedAt = s.now()
	if err := s.o.Store.UpdateWebhook(ctx, wh); err != nil {
		return nil, err
	}
	s.changed(wh.ID)
	s.audit(ctx, p, "webhook.update", wh.ID, wh.Project, in.redacted(wh))
	return wh, nil
}

// DeleteWebhook removes webhook id; its pending deliveries are cancelled.
func (s *Service) DeleteWebhook(ctx context.Context, p *Principal, id string) error {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.o.Store.DeleteWebhook(ctx, wh.ID, s.now()); err != nil {
		return err
	}
	s.changed(wh.ID)
	s.audit(ctx, p, "webhook.delete", wh.ID, wh.Project, map[string]string{"name": wh.Name, "url": wh.URL})
	return nil
}

// TestWebhook sends a test event to webhook id now, through the real sender,
// and records it in the delivery log as a test. The event is herald.test,
// or with eventType set the sample event of that type (see SampleEvent).
func (s *Service) TestWebhook(ctx context.Context, p *Principal, id, eventType string) (*dispatch.TestResult, error) {
	sample, err := testSample(eventType)
	if err != nil {
		return nil, err
	}
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.o.Engine.SendTest(ctx, wh, sample, true)
}

// testSample is the event a test of eventType sends: nil (herald.test) when
// eventType is empty or herald.test, else SampleEvent's.
func testSample(eventType string) (*herald.Event, error) {
	if eventType == "" || eventType == herald.EventTypeTest {
		return nil, nil
	}
	return SampleEvent("event_type", eventType)
}

// TestUnsaved sends a test to a configuration that is not saved yet (the
// console's "Send test" before "Submit"). Nothing is recorded. With id set,
// the input is applied over that stored webhook (so its secrets are used).
func (s *Service) TestUnsaved(ctx context.Context, p *Principal, id string, in *WebhookInput, eventType string) (*dispatch.TestResult, error) {
	sample, err := testSample(eventType)
	if err != nil {
		return nil, err
	}
	wh := &herald.Webhook{Enabled: true, RetryClientErrors: true, StandardHeaders: true}
	var stored *herald.Webhook
	if id != "" {
		st, err := s.webhookForWrite(ctx, p, id)
		if err != nil {
			return nil, err
		}
		copied := *st
		wh, stored = st, &copied
	}
	in.Apply(wh)
	if !p.CanWrite(wh.Project) {
		return nil, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not configure webhooks in project " + wh.Project, Key: "webhook.project.configure_forbidden", Args: herald.Args{"project": wh.Project}}
	}
	settings, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	if err := NormalizeWebhook(wh, settings); err != nil {
		return nil, err
	}
	if stored != nil {
		// The edited form's Send test may not carry the stored credentials
		// to another origin either.
		if err := requireCredentialsOnMove(stored, wh, in); err != nil {
			return nil, err
		}
	}
	if err := s.refuseSelf(ctx, wh); err != nil {
		return nil, err
	}
	if id == "" {
		wh.ID = "unsaved"
		wh.SigningSecret = herald.Secret(signing.NewSecret())
	}
	return s.o.Engine.SendTest(ctx, wh, sample, false)
}

// WebhookStatus returns, per event type, the last delivery of webhook id.
func (s *Service) WebhookStatus(ctx context.Context, p *Principal, id string) ([]herald.EventTypeStatus, error) {
	wh, err := s.GetWebhook(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st, err := s.o.Store.WebhookStatus(ctx, wh.ID)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = []herald.EventTypeStatus{}
	}
	return st, nil
}

// Recover retries every failed delivery of webhook id whose last attempt is
// at or after since.
func (s *Service) Recover(ctx context.Context, p *Principal, id string, since time.Time) (int, error) {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return 0, err
	}
	if since.IsZero() {
		return 0, herald.InvalidKey("since", "recover.since_required", nil, "since is required (RFC 3339 time)")
	}
	n, err := s.o.Store.RecoverFailed(ctx, wh.ID, since, s.now())
	if err != nil {
		return 0, err
	}
	s.audit(ctx, p, "webhook.recover", wh.ID, wh.Project, map[string]any{"since": since, "recovered": n})
	s.o.Engine.Wake()
	return n, nil
}
