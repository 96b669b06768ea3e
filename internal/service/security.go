package service

import (
	"context"
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
		Args:    herald.Args{"reason": string(res.Reason), "detail": res.Err},
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
