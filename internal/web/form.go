package web

import (
	"context"
	"maps"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// webhookForm is the Add/Modify form as the user filled it: strings as typed,
// so that a page shown again after an error keeps every input.
type webhookForm struct {
	ID          string
	Name        string
	Project     string
	URL         string
	Enabled     bool
	Category    string
	Language    string
	Severity    string
	Format      string
	Template    string
	ContentType string
	// EventTypes are the catalog types ticked; ExtraTypes the other patterns
	// (wildcards, custom types), one per line.
	EventTypes []string
	ExtraTypes string
	Conditions []conditionRow
	Headers    []headerRow

	AuthType    string
	Username    string
	Password    string
	Token       string
	HeaderName  string
	HeaderValue string
	CertPEM     string
	KeyPEM      string
	SignSecret  string
	SkipVerify  bool
	CAPEM       string

	ChallengeSecret      string
	ClearChallengeSecret bool

	MaxAttempts string
	Timeout     string
	RateLimit   string
	Ordered     bool
	// RetryClientErrors: "Retry 4xx answers", on for a new webhook.
	RetryClientErrors bool
	// StandardHeaders: "Send Standard Webhooks headers", on for a new webhook.
	StandardHeaders bool

	// Stored secrets of the webhook being modified: a blank secret input
	// keeps them. SecretHeaders holds the names of the stored secret headers.
	Has struct {
		Password, Token, HeaderValue, KeyPEM, SignSecret, Challenge bool
		SecretHeaders                                               map[string]bool
	}

	// Warnings are what the SSRF guard says of the saved target (the
	// service's TargetWarning, translated).
	Warnings []warning

	// Errors maps a field (as the service names it: "url",
	// "conditions[0].values", ...) to its message.
	Errors map[string]string
	// Details holds, per field, the technical text behind its error when
	// the message leaves it out (errDetail): shown one click away.
	Details map[string]string
}

type conditionRow struct {
	Label, Operator, Values string
}

// headerRow is one extra header. A Secret row's value is never written
// into the page: blank keeps the stored value.
type headerRow struct {
	Name, Value string
	Secret      bool
}

// StoredSecret reports whether row h is a secret header with a stored
// value (its blank input keeps it).
func (f *webhookForm) StoredSecret(h headerRow) bool {
	return h.Secret && f.Has.SecretHeaders[textproto.CanonicalMIMEHeaderKey(h.Name)]
}

// Err returns the message for field, "" when it has none.
func (f *webhookForm) Err(field string) string { return f.Errors[field] }

// Detail returns the technical detail of field's error, "" when it has none.
func (f *webhookForm) Detail(field string) string { return f.Details[field] }

// HeaderErrAt returns the error of header row i (the service names headers
// by their name); "" for the row template, whose index is not a number.
func (f *webhookForm) HeaderErrAt(idx any) string {
	i, ok := idx.(int)
	if !ok || i < 0 || i >= len(f.Headers) {
		return ""
	}
	if m := f.Errors["headers["+strconv.Itoa(i)+"]"]; m != "" {
		return m
	}
	return f.Errors["headers."+f.Headers[i].Name]
}

// ErrorList is the error summary shown above the form, in form order.
func (f *webhookForm) ErrorList() []fieldError {
	out := make([]fieldError, 0, len(f.Errors))
	for k, v := range f.Errors {
		id := fieldID(k)
		if strings.HasPrefix(k, "headers.") {
			for i, h := range f.Headers {
				if "headers."+h.Name == k {
					id = fieldID("headers[" + strconv.Itoa(i) + "].name")
				}
			}
		} else if strings.HasPrefix(k, "headers[") {
			id = fieldID(k + ".name")
		} else if strings.HasPrefix(k, "event_types") {
			id = "f-event_types"
		}
		out = append(out, fieldError{Field: k, ID: id, Message: v})
	}
	slices.SortFunc(out, func(a, b fieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

type fieldError struct {
	Field, ID, Message string
}

func newWebhookForm() *webhookForm {
	return &webhookForm{
		Enabled: true, Category: herald.CategoryEvents, Language: defaultLang, Severity: herald.SeverityPresetAll,
		Format: herald.FormatStandard, AuthType: herald.AuthNone, RetryClientErrors: true, StandardHeaders: true,
		Errors: map[string]string{},
	}
}

// formOf fills the form from a stored webhook; secrets are never written
// into the page, only whether they are set.
func formOf(w *herald.Webhook, catalog []herald.EventType) *webhookForm {
	f := &webhookForm{
		ID: w.ID, Name: w.Name, Project: w.Project, URL: w.URL, Enabled: w.Enabled, Category: w.Category,
		Language: w.Language, Severity: w.Severity, Format: w.Format, Template: w.Template, ContentType: w.ContentType,
		AuthType: w.Auth.Type, Username: w.Auth.Username, HeaderName: w.Auth.HeaderName, CertPEM: w.Auth.CertPEM,
		SkipVerify: w.TLS.SkipVerify, CAPEM: w.TLS.CAPEM, Ordered: w.Ordered, RetryClientErrors: w.RetryClientErrors,
		StandardHeaders: w.StandardHeaders,
		Errors:          map[string]string{},
	}
	if f.AuthType == "" {
		f.AuthType = herald.AuthNone
	}
	f.Has.Password, f.Has.Token = w.Auth.Password.IsSet(), w.Auth.Token.IsSet()
	f.Has.HeaderValue, f.Has.KeyPEM = w.Auth.HeaderValue.IsSet(), w.Auth.KeyPEM.IsSet()
	f.Has.Challenge = w.ChallengeSecret.IsSet()
	f.Has.SignSecret = w.Auth.Secret.IsSet()
	var extra []string
	for _, t := range w.EventTypes {
		if slices.ContainsFunc(catalog, func(et herald.EventType) bool { return et.Name == t }) {
			f.EventTypes = append(f.EventTypes, t)
		} else {
			extra = append(extra, t)
		}
	}
	f.ExtraTypes = strings.Join(extra, "\n")
	for _, c := range w.Conditions {
		f.Conditions = append(f.Conditions, conditionRow{Label: c.Label, Operator: c.Operator, Values: strings.Join(c.Values, "\n")})
	}
	names := make([]string, 0, len(w.Headers))
	for k := range w.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		f.Headers = append(f.Headers, headerRow{Name: k, Value: w.Headers[k]})
	}
	f.Has.SecretHeaders = map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(w.SecretHeaders)) {
		f.Headers = append(f.Headers, headerRow{Name: k, Secret: true})
		f.Has.SecretHeaders[textproto.CanonicalMIMEHeaderKey(k)] = true
	}
	if w.MaxAttempts != 0 {
		f.MaxAttempts = strconv.Itoa(w.MaxAttempts)
	}
	if w.Timeout != 0 {
		f.Timeout = w.Timeout.Std().String()
	}
	if w.RateLimit != 0 {
		f.RateLimit = strconv.Itoa(w.RateLimit)
	}
	return f
}

// parseWebhookForm reads the posted form. Blank condition and header rows
// are dropped unless keepBlank (a row button was pressed: row numbers must
// stay as shown).
func parseWebhookForm(v url.Values, keepBlank bool) *webhookForm {
	f := &webhookForm{
		Name: strings.TrimSpace(v.Get("name")), Project: strings.TrimSpace(v.Get("project")),
		URL: strings.TrimSpace(v.Get("url")), Enabled: v.Get("enabled") != "",
		Category: v.Get("category"), Language: v.Get("language"), Severity: v.Get("severity"),
		Format: v.Get("format"), Template: v.Get("template"), ContentType: strings.TrimSpace(v.Get("content_type")),
		EventTypes: v["event_types"], ExtraTypes: v.Get("event_types_extra"),
		AuthType: v.Get("auth_type"), Username: v.Get("auth_username"), Password: v.Get("auth_password"),
		Token: v.Get("auth_token"), HeaderName: strings.TrimSpace(v.Get("auth_header_name")),
		HeaderValue: v.Get("auth_header_value"), CertPEM: v.Get("auth_cert_pem"), KeyPEM: v.Get("auth_key_pem"),
		SignSecret: v.Get("auth_sign_secret"),
		SkipVerify: v.Get("tls_skip_verify") != "", CAPEM: v.Get("tls_ca_pem"),
		ChallengeSecret: v.Get("challenge_secret"), ClearChallengeSecret: v.Get("challenge_secret_clear") != "",
		MaxAttempts: strings.TrimSpace(v.Get("max_attempts")), Timeout: strings.TrimSpace(v.Get("timeout")),
		RateLimit: strings.TrimSpace(v.Get("rate_limit")), Ordered: v.Get("ordered") != "",
		RetryClientErrors: v.Get("retry_client_errors") != "", StandardHeaders: v.Get("standard_headers") != "",
		Errors: map[string]string{},
	}
	labels, ops, values := v["cond_label"], v["cond_op"], v["cond_values"]
	for i := range labels {
		row := conditionRow{Label: strings.TrimSpace(labels[i])}
		if i < len(ops) {
			row.Operator = ops[i]
		}
		if i < len(values) {
			row.Values = strings.TrimSpace(values[i])
		}
		if row.Label == "" && row.Values == "" && !keepBlank {
			continue
		}
		f.Conditions = append(f.Conditions, row)
	}
	names, hvals, kinds := v["header_name"], v["header_value"], v["header_kind"]
	for i := range names {
		row := headerRow{Name: strings.TrimSpace(names[i])}
		if i < len(hvals) {
			row.Value = hvals[i]
		}
		row.Secret = i < len(kinds) && kinds[i] == "secret"
		if row.Name == "" && row.Value == "" && !keepBlank {
			continue
		}
		f.Headers = append(f.Headers, row)
	}
	return f
}

// splitLines returns the non-blank lines of s, trimmed.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// input turns the form into the service's input. Only what the form itself
// must decide is checked here (numbers, durations, empty or repeated header
// names); every rule of a webhook is the service's. It returns false when
// the form has errors (in f.Errors).
func (f *webhookForm) input(rq *request, editing bool) (*service.WebhookInput, bool) {
	in := &service.WebhookInput{
		Name: &f.Name, Project: &f.Project, URL: &f.URL, Enabled: &f.Enabled, Category: &f.Category,
		Language: &f.Language, Severity: &f.Severity, Format: &f.Format, Template: &f.Template,
		ContentType: &f.ContentType, Ordered: &f.Ordered, RetryClientErrors: &f.RetryClientErrors,
		StandardHeaders: &f.StandardHeaders,
	}
	types := slices.Clone(f.EventTypes)
	for _, t := range splitLines(f.ExtraTypes) {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if types == nil {
		types = []string{}
	}
	in.EventTypes = &types

	conds := make([]herald.Condition, 0, len(f.Conditions))
	for _, r := range f.Conditions {
		c := herald.Condition{Label: r.Label, Operator: r.Operator, Values: splitLines(r.Values)}
		conds = append(conds, c)
	}
	in.Conditions = &conds

	headers, seen := map[string]string{}, map[string]string{}
	secretHeaders := map[string]herald.Secret{}
	for i, h := range f.Headers {
		field := "headers[" + strconv.Itoa(i) + "]"
		switch {
		case h.Name == "":
			f.Errors[field] = rq.T("form.err.header_name")
		case headerSeen(seen, h.Name):
			f.Errors[field] = rq.T("form.err.header_twice", h.Name)
		case h.Secret:
			seen[h.Name] = ""
			v := herald.Secret(h.Value)
			if h.Value == "" && editing {
				v = herald.Mask // keep the stored value
			}
			secretHeaders[h.Name] = v
		default:
			seen[h.Name] = ""
			headers[h.Name] = h.Value
		}
	}
	in.Headers, in.SecretHeaders = &headers, &secretHeaders

	secret := func(v string) *herald.Secret {
		if v == "" && editing {
			return nil // keep the stored value
		}
		s := herald.Secret(v)
		return &s
	}
	a := &service.AuthInput{Type: &f.AuthType}
	switch f.AuthType {
	case herald.AuthBasic:
		a.Username, a.Password = &f.Username, secret(f.Password)
	case herald.AuthBearer:
		a.Token = secret(f.Token)
	case herald.AuthHeader, herald.AuthMTLS:
		a.HeaderName, a.HeaderValue = &f.HeaderName, secret(f.HeaderValue)
		if f.AuthType == herald.AuthMTLS {
			a.CertPEM, a.KeyPEM = &f.CertPEM, secret(f.KeyPEM)
		}
	case herald.AuthSign:
		a.Secret = secret(f.SignSecret)
	}
	in.Auth = a
	in.TLS = &herald.TLS{SkipVerify: f.SkipVerify, CAPEM: strings.TrimSpace(f.CAPEM)}

	switch {
	case f.ClearChallengeSecret:
		empty := herald.Secret("")
		in.ChallengeSecret = &empty
	case f.ChallengeSecret != "" || !editing:
		in.ChallengeSecret = secret(f.ChallengeSecret)
	}

	number := func(field, s string) *int {
		n := 0
		if s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				f.Errors[field] = rq.T("form.err.number")
			}
		}
		return &n
	}
	in.MaxAttempts = number("max_attempts", f.MaxAttempts)
	in.RateLimit = number("rate_limit", f.RateLimit)
	var d herald.Duration
	if f.Timeout != "" {
		std, err := time.ParseDuration(f.Timeout)
		if err != nil {
			f.Errors["timeout"] = rq.T("form.err.duration")
		}
		d = herald.Duration(std)
	}
	in.Timeout = &d
	return in, len(f.Errors) == 0
}

func headerSeen(h map[string]string, name string) bool {
	for k := range h {
		if textproto.CanonicalMIMEHeaderKey(k) == textproto.CanonicalMIMEHeaderKey(name) {
			return true
		}
	}
	return false
}

// setError records a service error against the form: its field when it has
// one, the form as a whole ("") otherwise. It reports false for errors that
// are not about the input (the caller shows an error page).
func (f *webhookForm) setError(rq *request, err error) bool {
	switch herald.ErrorCode(err) {
	case herald.EInvalid, herald.EConflict, herald.EUnprocessable, herald.EForbidden:
	default:
		return false
	}
	field := herald.ErrorField(err)
	if herald.ErrorCode(err) == herald.EForbidden && field == "" {
		return false
	}
	f.Errors[field] = rq.E(err)
	if d := rq.tr.errDetail(err); d != "" {
		if f.Details == nil {
			f.Details = map[string]string{}
		}
		f.Details[field] = d
	}
	return true
}

// applyRowAction carries out the no-JavaScript "add row" and "remove row"
// buttons (action=add_condition, remove_condition:N, add_header,
// remove_header:N); with JavaScript the rows change in the page instead.
// It reports whether action was one of them.
func (f *webhookForm) applyRowAction(action string) bool {
	name, arg, _ := strings.Cut(action, ":")
	i, _ := strconv.Atoi(arg)
	switch name {
	case "add_condition":
		f.Conditions = append(f.Conditions, conditionRow{Operator: herald.OpIn})
	case "remove_condition":
		if i >= 0 && i < len(f.Conditions) {
			f.Conditions = slices.Delete(f.Conditions, i, i+1)
		}
	case "add_header":
		f.Headers = append(f.Headers, headerRow{})
	case "remove_header":
		if i >= 0 && i < len(f.Headers) {
			f.Headers = slices.Delete(f.Headers, i, i+1)
		}
	default:
		return false
	}
	return true
}

// warning is a warning about what was saved: Text in plain words, the
// technical Detail (the guard's English reason) one click away.
type warning struct {
	Text, Detail string
}

// targetWarnings is the SSRF guard's verdict on w's target, in the
// caller's language (none when the guard lets it through).
func (c *Console) targetWarnings(ctx context.Context, rq *request, w *herald.Webhook) []warning {
	if err := c.svc.TargetWarning(ctx, w); err != nil {
		return []warning{{Text: rq.E(err), Detail: rq.tr.errDetail(err)}}
	}
	return nil
}
