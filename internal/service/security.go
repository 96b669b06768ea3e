package service

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/signing"
)

// Challenger runs Netdata's ownership challenge against a webhook;
// *sender.Sender implements it (same guarded dialer, TLS and auth as
// deliveries, 5s limit by default).
type Challenger interface {
	Challenge(ctx context.Context, w *herald.Webhook) sender.ChallengeResult
}

// TargetChecker runs the SSRF guard on a webhook URL without connecting;
// *sender.Sender implements it. The error is a *sender.BlockedError when the
// guard would refuse the destination.
type TargetChecker interface {
	CheckTarget(ctx context.Context, rawURL string) error
}

// refuseSelf refuses (400 naming url) a target that is this node's own
// listen address: a webhook pointing at Herald's own API would feed it its
// own deliveries. Other refusals of the guard only warn (TargetWarnings):
// allow_cidrs and DNS may change before the first delivery.
func (s *Service) refuseSelf(ctx context.Context, w *herald.Webhook) error {
	if s.o.Targets == nil {
		return nil
	}
	var be *sender.BlockedError
	if err := s.o.Targets.CheckTarget(ctx, w.URL); errors.As(err, &be) && be.Kind == sender.KindSelf {
		return herald.InvalidKey("url", "url.self", nil, "url points at this Herald itself (%s port %d): Herald does not deliver to its own API", be.Addr, be.Port)
	}
	return nil
}

// WebhookWarnings are Warnings plus TargetWarning's message. The API shows
// them in the create, update and get answers.
func (s *Service) WebhookWarnings(ctx context.Context, w *herald.Webhook) []string {
	v := Warnings(w)
	if err := s.TargetWarning(ctx, w); err != nil {
		v = append(v, herald.ErrorMessage(err))
	}
	return v
}

// TargetWarning says, as an error with a catalog key (the console
// translates it), that the SSRF guard refuses w's target now (loopback,
// private, metadata, ... and no network.allow_cidrs entry covers it); nil
// when it does not. Such a webhook is saved anyway, since allow_cidrs and
// DNS may change before the first delivery, but every delivery fails until
// then.
func (s *Service) TargetWarning(ctx context.Context, w *herald.Webhook) error {
	if s.o.Targets == nil {
		return nil
	}
	var be *sender.BlockedError
	if err := s.o.Targets.CheckTarget(ctx, w.URL); errors.As(err, &be) {
		// KindSelf only reaches here for a webhook saved before the check
		// existed: saving refuses it.
		return herald.ErrorfKey(herald.EInvalid, "target.guarded", herald.Args{"detail": be.Error()},
			"the SSRF guard refuses this target, so every delivery will fail: %s", be.Error())
	}
	return nil
}

// requireCredentialsOnMove refuses a change that moves the URL of stored
// (the webhook before the change) to another origin (scheme, host or port)
// while keeping a stored credential the request did not send again: the
// auth secrets (400 naming auth), a secret header (headers.<Name>) or the
// challenge secret (challenge_secret). Otherwise an admin who sees only
// "********" could redirect the credential to a host of their own.
func requireCredentialsOnMove(stored, w *herald.Webhook, in *WebhookInput) error {
	if sameOrigin(stored.URL, w.URL) {
		return nil
	}
	sent := func(v *herald.Secret) bool { return v != nil && !herald.Masked(*v) }
	var a AuthInput
	if in.Auth != nil {
		a = *in.Auth
	}
	for _, c := range []struct {
		now, before herald.Secret
		in          *herald.Secret
	}{
		{w.Auth.Password, stored.Auth.Password, a.Password},
		{w.Auth.Token, stored.Auth.Token, a.Token},
		{w.Auth.HeaderValue, stored.Auth.HeaderValue, a.HeaderValue},
		{w.Auth.KeyPEM, stored.Auth.KeyPEM, a.KeyPEM},
	} {
		if c.now.IsSet() && c.now == c.before && !sent(c.in) {
			return movedError("auth", "the auth credentials")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(w.SecretHeaders)) {
		v := w.SecretHeaders[k]
		before, ok := stored.SecretHeader(k)
		if !ok || before != v || headerSent(in, k) {
			continue
		}
		return movedError("headers."+k, "the value of header "+k)
	}
	if w.ChallengeSecret.IsSet() && w.ChallengeSecret == stored.ChallengeSecret && !sent(in.ChallengeSecret) {
		return movedError("challenge_secret", "challenge_secret")
	}
	return nil
}

func movedError(field, what string) error {
	return herald.InvalidKey(field, "webhook.credentials.moved", herald.Args{"what": what},
		"the url moves to another origin (scheme, host or port): send %s again in the same request, or they would go to the new host", what)
}

// headerSent reports whether in gives header k a value (not the mask).
func headerSent(in *WebhookInput, k string) bool {
	if in.SecretHeaders != nil {
		for n, v := range *in.SecretHeaders {
			if strings.EqualFold(n, k) && !herald.Masked(v) {
				return true
			}
		}
	}
	if in.Headers != nil {
		for n, v := range *in.Headers {
			if strings.EqualFold(n, k) && !herald.Masked(herald.Secret(v)) {
				return true
			}
		}
	}
	return false
}

// sameOrigin reports whether two URLs have the same scheme, host and port
// (the default port of the scheme when none is given).
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	origin := func(u *url.URL) string {
		scheme := strings.ToLower(u.Scheme)
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[scheme]
		}
		return scheme + "://" + strings.TrimSuffix(strings.ToLower(u.Hostname()), ".") + ":" + port
	}
	return origin(ua) == origin(ub)
}

// redacted is in for the audit log: every header value that is secret in w
// (the saved result) or named like a credential is masked (secret_headers and the auth secrets are herald.Secret
// and mask themselves).
func (in *WebhookInput) redacted(w *herald.Webhook) *WebhookInput {
	if in.Headers == nil {
		return in
	}
	c := *in
	h := make(map[string]string, len(*in.Headers))
	for k, v := range *in.Headers {
		if _, secret := w.SecretHeader(k); secret || herald.CredentialHeader(k) || herald.Masked(herald.Secret(v)) {
			v = herald.Secret(v).String()
		}
		h[k] = v
	}
	c.Headers = &h
	return &c
}

// Signing secret rotation bounds.
const (
	// DefaultSecretGrace is how long the previous signing secret keeps
	// signing after a rotation when the caller names no grace period.
	DefaultSecretGrace = 24 * time.Hour
	// MaxSecretGrace bounds the grace period.
	MaxSecretGrace = 30 * 24 * time.Hour
)

// challenge runs the ownership challenge when w has a challenge secret, and
// turns a failure into EUnprocessable (422) naming the reason. Create and
// every update call it before saving, so a refused webhook is never stored.
func (s *Service) challenge(ctx context.Context, w *herald.Webhook) error {
	if !w.ChallengeSecret.IsSet() {
		return nil
	}
	if s.o.Challenger == nil {
		return herald.Errorf(herald.EInternal, "ownership challenge: no challenger configured")
	}
	return challengeError(s.o.Challenger.Challenge(ctx, w))
}

func challengeError(res sender.ChallengeResult) error {
	if res.OK() {
		return nil
	}
	field := "url"
	if res.Reason == sender.ChallengeWrongToken || res.Reason == sender.ChallengeConfig {
		field = "challenge_secret"
	}
	return &herald.Error{
		Code:    herald.EUnprocessable,
		Field:   field,
		Message: "ownership challenge failed (" + string(res.Reason) + "): " + res.Err + "; nothing was saved",
		Key:     "challenge.failed",
		// "why" names the catalog's plain sentence for the reason; the
		// console shows it, with the English detail one click away.
		Args: herald.Args{"reason": string(res.Reason), "why": string(res.Reason), "detail": res.Err},
	}
}

// VerifyResult is what POST /webhooks/{id}/verify reports.
type VerifyResult struct {
	OK bool `json:"ok"`
	// Reason is "" on success, else wrong_token, timeout, status, bad_json,
	// blocked, network or config.
	Reason     string  `json:"reason,omitempty"`
	StatusCode int     `json:"status_code,omitempty"`
	LatencyMS  float64 `json:"latency_ms"`
	Error      string  `json:"error,omitempty"`
}

// VerifyWebhook runs the ownership challenge of webhook id now, on demand.
// It changes nothing; the webhook must have a challenge_secret.
func (s *Service) VerifyWebhook(ctx context.Context, p *Principal, id string) (*VerifyResult, error) {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !wh.ChallengeSecret.IsSet() {
		return nil, herald.InvalidKey("challenge_secret", "challenge.no_secret", nil, "this webhook has no challenge_secret to verify; set one first")
	}
	if s.o.Challenger == nil {
		return nil, herald.Errorf(herald.EInternal, "ownership challenge: no challenger configured")
	}
	res := s.o.Challenger.Challenge(ctx, wh)
	return &VerifyResult{
		OK: res.OK(), Reason: string(res.Reason), StatusCode: res.StatusCode,
		LatencyMS: float64(res.Latency) / float64(time.Millisecond), Error: res.Err,
	}, nil
}

// RotateInput is the optional body of POST /webhooks/{id}/rotate-secret.
type RotateInput struct {
	// Grace is how long the previous secret keeps signing next to the new
	// one. nil means DefaultSecretGrace (24h); 0 drops it at once.
	Grace *herald.Duration `json:"grace"`
}

// RotatedSecret is the answer to a rotation: the new secret, shown once.
type RotatedSecret struct {
	WebhookID     string `json:"webhook_id"`
	SigningSecret string `json:"signing_secret"`
	// PreviousSecretValidUntil is when the previous secret stops signing;
	// absent when it was dropped at once.
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until,omitempty"`
}

// RotateSecret gives webhook id a new signing secret. During the grace
// period (24h by default) every request carries two signatures, space
// separated, one per secret, so receivers can switch at their pace. A
// rotation during a grace period ends the older one: at most two secrets
// sign. The delivery engine on this node picks the change up at once.
func (s *Service) RotateSecret(ctx context.Context, p *Principal, id string, in RotateInput) (*RotatedSecret, error) {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return nil, err
	}
	grace := DefaultSecretGrace
	if in.Grace != nil {
		grace = in.Grace.Std()
	}
	if grace < 0 || grace > MaxSecretGrace {
		return nil, herald.InvalidKey("grace", "secret.grace.range", herald.Args{"max": MaxSecretGrace.String()}, "grace must be between 0s and %s", MaxSecretGrace)
	}
	now := s.now()
	out := &RotatedSecret{WebhookID: wh.ID}
	if grace > 0 {
		until := now.Add(grace)
		wh.PreviousSecret, wh.PreviousSecretUntil = wh.SigningSecret, until
		out.PreviousSecretValidUntil = &until
	} else {
		wh.PreviousSecret, wh.PreviousSecretUntil = "", time.Time{}
	}
	wh.SigningSecret = herald.Secret(signing.NewSecret())
	wh.UpdatedAt = now
	if err := s.o.Store.UpdateWebhook(ctx, wh); err != nil {
		return nil, err
	}
	s.changed(wh.ID)
	s.audit(ctx, p, "webhook.rotate_secret", wh.ID, wh.Project, map[string]any{
		"grace": grace.String(), "previous_secret_valid_until": out.PreviousSecretValidUntil,
	})
	out.SigningSecret = wh.SigningSecret.Reveal()
	return out, nil
}

// RevealSigningSecret returns the current signing secret of webhook id to
// those who may change the webhook (SPEC: secrets are write-only, except the
// signing secret to its admins on an explicit call). Each call is audited.
func (s *Service) RevealSigningSecret(ctx context.Context, p *Principal, id string) (*RotatedSecret, error) {
	wh, err := s.webhookForWrite(ctx, p, id)
	if err != nil {
		return nil, err
	}
	out := &RotatedSecret{WebhookID: wh.ID, SigningSecret: wh.SigningSecret.Reveal()}
	if wh.PreviousSecret.IsSet() && s.now().Before(wh.PreviousSecretUntil) {
		until := wh.PreviousSecretUntil
		out.PreviousSecretValidUntil = &until
	}
	s.audit(ctx, p, "webhook.secret.reveal", wh.ID, wh.Project, nil)
	return out, nil
}
