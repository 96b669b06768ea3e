// Package api is Herald's JSON API under /api/v1: routing on net/http's
// ServeMux, bearer-token authentication, role checks, and one mapping from
// herald error codes to HTTP status used by every handler.
package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/metrics"
	"github.com/herald-hq/herald/internal/service"
)

// Options configure the API.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger
	// Metrics counts ingest results (herald_events_ingested_total); nil
	// counts nothing.
	Metrics *metrics.Metrics
	// MaxEventBytes limits a POST /events body. Defaults to 256 KiB.
	MaxEventBytes int64
	// IngestRateLimit is the events per second each token may post to
	// /events and /alertmanager (429 with Retry-After above). 0 = no limit.
	IngestRateLimit float64
	// IngestBurst is how many events a token may post at once after a
	// quiet spell. Defaults to twice IngestRateLimit.
	IngestBurst int
}

// API serves /api/v1.
type API struct {
	o   Options
	svc *service.Service
	// ingestLimit is nil without a rate limit.
	ingestLimit *tokenLimiter
}

// New returns the API.
func New(o Options) *API {
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = 256 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &API{o: o, svc: o.Service, ingestLimit: newTokenLimiter(o.IngestRateLimit, o.IngestBurst)}
}

// Register adds the API routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, p *service.Principal) error) {
		mux.Handle(pattern, a.authed(fn))
	}
	h("GET /api/v1/webhooks", a.listWebhooks)
	h("POST /api/v1/webhooks", a.createWebhook)
	h("POST /api/v1/webhooks/test", a.testUnsavedWebhook)
	h("GET /api/v1/webhooks/{id}", a.getWebhook)
	h("PATCH /api/v1/webhooks/{id}", a.patchWebhook)
	h("DELETE /api/v1/webhooks/{id}", a.deleteWebhook)
	h("POST /api/v1/webhooks/{id}/test", a.testWebhook)
	h("GET /api/v1/webhooks/{id}/status", a.webhookStatus)
	h("POST /api/v1/webhooks/{id}/recover", a.recoverWebhook)
	h("POST /api/v1/webhooks/{id}/verify", a.verifyWebhook)
	h("POST /api/v1/webhooks/{id}/rotate-secret", a.rotateSecret)
	h("GET /api/v1/webhooks/{id}/signing-secret", a.revealSecret)
	h("POST /api/v1/events", a.postEvents)
	h("GET /api/v1/events/{id}", a.getEvent)
	h("POST /api/v1/alertmanager", a.postAlertmanager)
	h("GET /api/v1/deliveries", a.listDeliveries)
	h("GET /api/v1/deliveries/export", a.exportDeliveries)
	h("GET /api/v1/deliveries/{id}", a.getDelivery)
	h("POST /api/v1/deliveries/{id}/retry", a.retryDelivery)
	h("GET /api/v1/event-types", a.eventTypes)
	h("GET /api/v1/settings", a.getSettings)
	h("PATCH /api/v1/settings", a.patchSettings)
	h("GET /api/v1/tokens", a.listTokens)
	h("POST /api/v1/tokens", a.createToken)
	h("DELETE /api/v1/tokens/{id}", a.deleteToken)
	h("GET /api/v1/audit", a.listAudit)
	a.registerUsers(h)
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, herald.Errorf(herald.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path), a.o.Logger)
	})
}

// Status maps an error code to its HTTP status.
func Status(code string) int {
	switch code {
	case herald.EInvalid:
		return http.StatusBadRequest
	case herald.EUnauthorized:
		return http.StatusUnauthorized
	case herald.EForbidden:
		return http.StatusForbidden
	case herald.ENotFound:
		return http.StatusNotFound
	case herald.EConflict:
		return http.StatusConflict
	case herald.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case herald.EUnprocessable:
		return http.StatusUnprocessableEntity
	case herald.ERateLimited:
		return http.StatusTooManyRequests
	case herald.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	if ingest.IsStoreUnavailable(err) {
		log.Error("store unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{errorDetail{Code: herald.EUnavailable, Message: "the database is unavailable; nothing was stored, retry later"}})
		return
	}
	code := herald.ErrorCode(err)
	if code == herald.EInternal {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if (code == herald.EUnavailable || code == herald.ERateLimited) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, Status(code), errorBody{errorDetail{Code: code, Message: herald.ErrorMessage(err), Field: herald.ErrorField(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// list is the envelope of list answers.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors naming the field.
func decode(r *http.Request, v any) error {
	// Every JSON body is bounded; handlers with a tighter limit wrap it first.
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return herald.Invalid("", "request body has data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return herald.Invalid("", "request body has data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error into an EInvalid naming the field.
func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &mbe):
		return herald.Errorf(herald.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &ute):
		field := ute.Field
		return herald.Invalid(field, "%s must be %s, not a JSON %s", fieldOrBody(field), typeName(ute.Type), ute.Value)
	case errors.As(err, &se):
		return herald.Invalid("", "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF):
		return herald.Invalid("", "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return herald.Invalid("", "malformed JSON: unexpected end of input")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return herald.Invalid(f, "unknown field %q", f)
	}
	// Errors from our own UnmarshalJSON methods (durations, ...).
	return herald.Invalid("", "invalid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

// typeName says what a Go type expects, for error messages.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[herald.Duration]():
		return `a duration such as "15s" or "2m"`
	case reflect.TypeFor[herald.Time]():
		return "an RFC 3339 time such as 2026-01-02T15:04:05Z"
	}
	return "a " + t.String()
}

func fieldOrBody(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func (a *API) authed(fn func(w http.ResponseWriter, r *http.Request, p *service.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			writeError(w, r, herald.Errorf(herald.EUnauthorized, "missing bearer token: send Authorization: Bearer <token>"), a.o.Logger)
			return
		}
		p, err := a.svc.Authenticate(r.Context(), tok)
		if err != nil {
			if herald.ErrorCode(err) == herald.EUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
			}
			writeError(w, r, err, a.o.Logger)
			return
		}
		if err := fn(w, r, p); err != nil {
			writeError(w, r, err, a.o.Logger)
		}
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
