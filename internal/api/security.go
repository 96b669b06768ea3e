package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// verifyWebhook runs the ownership challenge now: 200 with {ok, reason,
// status_code, latency_ms, error}, like a test send.
func (a *API) verifyWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	res, err := a.svc.VerifyWebhook(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// rotateSecret gives the webhook a new signing secret and returns it, once.
// The body is optional: {"grace": "24h"}.
func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	// Existence and permission first: a 404 must not depend on the body.
	if _, err := a.svc.GetWebhook(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	var in service.RotateInput
	body, err := readBody(w, r, 64<<10)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decode(r, &in); err != nil {
			if herald.ErrorField(err) == "" && herald.ErrorCode(err) == herald.EInvalid {
				return herald.Invalid("grace", "%s (send {\"grace\": \"24h\"} or no body)", herald.ErrorMessage(err))
			}
			return err
		}
	}
	res, err := a.svc.RotateSecret(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
	return nil
}

// limitIngest charges n events to the caller's token bucket; over the
// limit it answers 429 with Retry-After (whole seconds, at least 1).
func (a *API) limitIngest(w http.ResponseWriter, p *service.Principal, n int) error {
	if a.ingestLimit == nil {
		return nil
	}
	wait, ok := a.ingestLimit.take(p.Token.ID, n, time.Now())
	if ok {
		return nil
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	return herald.Errorf(herald.ERateLimited, "this token is over its ingest rate limit (%g events/s, burst %d); retry after %s",
		a.ingestLimit.rate, a.ingestLimit.burst, (time.Duration(max(secs, 1)) * time.Second).String())
}

func (a *API) revealSecret(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	res, err := a.svc.RevealSigningSecret(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
	return nil
}
