package herald

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Auth types.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthHeader = "header"
	AuthMTLS   = "mtls"
	// AuthSign is a chat robot's signing secret (formats feishu, lark and
	// dingtalk): it signs each message, it is not sent.
	AuthSign = "sign"
)

// Categories (seed 002).
const (
	CategoryEvents = "events"
	CategoryAlarms = "alarms"
)

// Severity presets (seed 003).
const (
	SeverityPresetAll      = "all"      // all alerts and unreachable, and every other event
	SeverityPresetAlerts   = "alerts"   // warning, critical, clear
	SeverityPresetCritical = "critical" // critical only
	// SeverityPresetAlertsNoReachability is "alerts" without the host
	// reachability events (Netdata's "All alerts" without "unreachable").
	SeverityPresetAlertsNoReachability = "alerts-no-reachability"
)

// Payload formats.
const (
	FormatStandard     = "standard"
	FormatCloudEvents  = "cloudevents"
	FormatHarbor       = "harbor"
	FormatHarborLegacy = "harbor-legacy" // Harbor 1.x {"event_type", "events"}
	FormatNetdata      = "netdata"
	FormatAlertmanager = "alertmanager"
	FormatTemplate     = "template"
	// Chat destinations: the platform's incoming-webhook message.
	FormatSlack    = "slack"
	FormatDiscord  = "discord"
	FormatTeams    = "teams"
	FormatFeishu   = "feishu"
	FormatLark     = "lark"
	FormatDingTalk = "dingtalk"
	FormatWeCom    = "wecom"
)

// Condition operators (seed 001).
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// Defaults for webhook delivery settings.
const (
	DefaultTimeout = 15 * time.Second
)

// Auth is how Herald authenticates to the endpoint. Only the fields its Type
// needs are set.
type Auth struct {
	Type        string `json:"type"`
	Username    string `json:"username,omitempty"`
	Password    Secret `json:"password,omitempty"`
	Token       Secret `json:"token,omitempty"`
	HeaderName  string `json:"header_name,omitempty"`
	HeaderValue Secret `json:"header_value,omitempty"`
	CertPEM     string `json:"cert_pem,omitempty"`
	KeyPEM      Secret `json:"key_pem,omitempty"`
	// Secret is the signing secret of auth type sign.
	Secret Secret `json:"secret,omitempty"`
}

// TLS holds the endpoint's TLS options. Verification is on unless SkipVerify.
type TLS struct {
	SkipVerify bool   `json:"skip_verify"`
	CAPEM      string `json:"ca_pem,omitempty"`
}

// Condition is one notification condition (seed 001); all of a webhook's
// conditions must hold for an event to be delivered.
type Condition struct {
	Label    string   `json:"label"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Webhook is one endpoint configuration.
type Webhook struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Project         string            `json:"project"`
	URL             string            `json:"url"`
	Enabled         bool              `json:"enabled"`
	Category        string            `json:"category"`
	EventTypes      []string          `json:"event_types"`
	Conditions      []Condition       `json:"conditions"`
	Severity        string            `json:"severity"`
	Language        string            `json:"language"`
	Format          string            `json:"format"`
	Template        string            `json:"template,omitempty"`
	ContentType     string            `json:"content_type,omitempty"`
	Headers         map[string]string `json:"headers"`
	Auth            Auth              `json:"auth"`
	TLS             TLS               `json:"tls"`
	ChallengeSecret Secret            `json:"challenge_secret,omitempty"`
	MaxAttempts     int               `json:"max_attempts"`
	Timeout         Duration          `json:"timeout"`
	RateLimit       int               `json:"rate_limit"`
	Ordered         bool              `json:"ordered"`
	// RetryClientErrors retries a 4xx answer like a 5xx. When false, a 4xx
	// other than 408 and 429 (which stay retryable) fails the delivery at
	// once: state failed, no further attempts. 410 disables the webhook
	// either way. Default true.
	RetryClientErrors bool `json:"retry_client_errors"`
	// StandardHeaders sends the Standard Webhooks headers (webhook-id,
	// webhook-timestamp, webhook-signature). When false they are left out;
	// User-Agent and Herald-Hops are still sent. Default true.
	StandardHeaders bool `json:"standard_headers"`
	// SigningSecret is the whsec_ secret; PreviousSecret stays valid (both
	// signatures are sent) until PreviousSecretUntil.
	SigningSecret       Secret    `json:"-"`
	PreviousSecret      Secret    `json:"-"`
	PreviousSecretUntil time.Time `json:"-"`
	// DisabledReason says why Herald disabled the webhook itself (410 Gone,
	// failing for too long); empty when an admin switched it off.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// FailingSince is the first failed attempt since the last success; nil
	// while healthy. Maintained by the store.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`

	// SecretHeaders are extra request headers that carry credentials: sealed
	// at rest, shown as "********", redacted in attempt records and scrubbed
	// from echoed responses. A header named like a credential (see
	// CredentialHeader) given in Headers is moved here when saved.
	SecretHeaders map[string]Secret `json:"secret_headers"`
}

// EffectiveTimeout is the request timeout. Defaults to 15s.
func (w *Webhook) EffectiveTimeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout.Std()
	}
	return DefaultTimeout
}

// Secrets returns the signing secrets in force at now: the current one, and the
// previous one during a rotation's grace period.
func (w *Webhook) Secrets(now time.Time) []string {
	s := []string{w.SigningSecret.Reveal()}
	if w.PreviousSecret.IsSet() && now.Before(w.PreviousSecretUntil) {
		s = append(s, w.PreviousSecret.Reveal())
	}
	return s
}

// EventTypeStatus is the per-event-type status of a webhook (Harbor): when the
// last delivery of that type was attempted and how it ended.
type EventTypeStatus struct {
	EventType     string    `json:"event_type"`
	LastAttemptAt time.Time `json:"last_attempt_at"`
	State         string    `json:"state"`
	StatusCode    int       `json:"status_code,omitempty"`
	Error         string    `json:"error,omitempty"`
	DeliveryID    string    `json:"delivery_id"`
}

// Limits of a webhook's lists, refused at save (see SECURITY.md, "Limits").
const (
	// MaxHeaders bounds a webhook's extra headers, plain and secret together.
	MaxHeaders = 32
	// MaxHeaderBytes bounds the names and values of a webhook's extra headers
	// together.
	MaxHeaderBytes = 8 << 10
	// MaxConditions bounds a webhook's conditions.
	MaxConditions = 32
	// MaxConditionValues bounds the values of one condition.
	MaxConditionValues = 100
	// MaxConditionValueBytes bounds one condition label or value.
	MaxConditionValueBytes = 1024
	// MaxEventTypes bounds a webhook's event_types patterns.
	MaxEventTypes = 100
	// MaxHostBytes is the longest host name (RFC 1035: 253 bytes).
	MaxHostBytes = 253
)

// CredentialHeader reports whether an extra header's name marks it as a
// credential: Authorization, Proxy-Authorization, Cookie, and every name
// containing key, token, secret, password, passwd, signature, auth,
// credential, session or cookie (case-insensitive). Such headers are always
// secret headers.
func CredentialHeader(name string) bool {
	lower := strings.ToLower(name)
	for _, p := range [...]string{"key", "token", "secret", "password", "passwd", "signature", "auth", "credential", "session", "cookie"} {
		if strings.Contains(lower, p) {
			return true // Authorization and Proxy-Authorization contain "auth"
		}
	}
	return false
}

// SecretHeader returns the value of the secret header name (any case) and
// whether w has it.
func (w *Webhook) SecretHeader(name string) (Secret, bool) {
	for k, v := range w.SecretHeaders {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// HasControl reports whether s holds a control character (C0, DEL or C1,
// NUL included) or is not valid UTF-8: such text is refused in names,
// identifiers and labels.
func HasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// ValidHeaderValue reports whether v may be sent as an HTTP header value:
// valid UTF-8 without control characters other than horizontal tab (no CR,
// LF or NUL, which would split or truncate the request).
func ValidHeaderValue(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r != '\t' && unicode.IsControl(r) {
			return false
		}
	}
	return true
}
