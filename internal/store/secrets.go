package store

import (
	"encoding/json"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
)

// webhookSecrets is what a store keeps encrypted for a webhook, as one sealed
// JSON value (column "secrets").
type webhookSecrets struct {
	Password            string    `json:"password,omitempty"`
	Token               string    `json:"token,omitempty"`
	HeaderValue         string    `json:"header_value,omitempty"`
	KeyPEM              string    `json:"key_pem,omitempty"`
	ChallengeSecret     string    `json:"challenge_secret,omitempty"`
	SigningSecret       string    `json:"signing_secret,omitempty"`
	PreviousSecret      string    `json:"previous_secret,omitempty"`
	PreviousSecretUntil time.Time `json:"previous_secret_until"`
}

// SealWebhookSecrets returns the sealed form of w's secret fields.
func SealWebhookSecrets(box *seal.Box, w *herald.Webhook) (string, error) {
	ws := webhookSecrets{
		Password:            w.Auth.Password.Reveal(),
		Token:               w.Auth.Token.Reveal(),
		HeaderValue:         w.Auth.HeaderValue.Reveal(),
		KeyPEM:              w.Auth.KeyPEM.Reveal(),
		ChallengeSecret:     w.ChallengeSecret.Reveal(),
		SigningSecret:       w.SigningSecret.Reveal(),
		PreviousSecret:      w.PreviousSecret.Reveal(),
		PreviousSecretUntil: w.PreviousSecretUntil,
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return "", err
	}
	return box.Seal(b)
}

// OpenWebhookSecrets fills w's secret fields from their sealed form.
func OpenWebhookSecrets(box *seal.Box, sealed string, w *herald.Webhook) error {
	b, err := box.Open(sealed)
	if err != nil || b == nil {
		return err
	}
	var ws webhookSecrets
	if err := json.Unmarshal(b, &ws); err != nil {
		return err
	}
	w.Auth.Password = herald.Secret(ws.Password)
	w.Auth.Token = herald.Secret(ws.Token)
	w.Auth.HeaderValue = herald.Secret(ws.HeaderValue)
	w.Auth.KeyPEM = herald.Secret(ws.KeyPEM)
	w.ChallengeSecret = herald.Secret(ws.ChallengeSecret)
	w.SigningSecret = herald.Secret(ws.SigningSecret)
	w.PreviousSecret = herald.Secret(ws.PreviousSecret)
	w.PreviousSecretUntil = ws.PreviousSecretUntil
	return nil
}
