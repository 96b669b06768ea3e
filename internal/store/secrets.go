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
	SignSecret          string    `json:"sign_secret,omitempty"`
	ChallengeSecret     string    `json:"challenge_secret,omitempty"`
	SigningSecret       string    `json:"signing_secret,omitempty"`
	PreviousSecret      string    `json:"previous_secret,omitempty"`
	PreviousSecretUntil time.Time `json:"previous_secret_until"`
	// Headers are the webhook's secret extra headers (name → value); null
	// for a nil map, so that a webhook reads back as it was written.
	Headers map[string]string `json:"headers"`
}

// SealWebhookSecrets returns the sealed form of w's secret fields.
func SealWebhookSecrets(box *seal.Box, w *herald.Webhook) (string, error) {
	ws := webhookSecrets{
		Password:            w.Auth.Password.Reveal(),
		Token:               w.Auth.Token.Reveal(),
		HeaderValue:         w.Auth.HeaderValue.Reveal(),
		KeyPEM:              w.Auth.KeyPEM.Reveal(),
		SignSecret:          w.Auth.Secret.Reveal(),
		ChallengeSecret:     w.ChallengeSecret.Reveal(),
		SigningSecret:       w.SigningSecret.Reveal(),
		PreviousSecret:      w.PreviousSecret.Reveal(),
		PreviousSecretUntil: w.PreviousSecretUntil,
	}
	if w.SecretHeaders != nil {
		ws.Headers = make(map[string]string, len(w.SecretHeaders))
		for k, v := range w.SecretHeaders {
			ws.Headers[k] = v.Reveal()
		}
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
	w.Auth.Secret = herald.Secret(ws.SignSecret)
	w.ChallengeSecret = herald.Secret(ws.ChallengeSecret)
	w.SigningSecret = herald.Secret(ws.SigningSecret)
	w.PreviousSecret = herald.Secret(ws.PreviousSecret)
	w.PreviousSecretUntil = ws.PreviousSecretUntil
	if ws.Headers != nil {
		w.SecretHeaders = make(map[string]herald.Secret, len(ws.Headers))
		for k, v := range ws.Headers {
			w.SecretHeaders[k] = herald.Secret(v)
		}
	}
	return nil
}

// WebhookRow is a webhook's structured fields in column form (JSON text) and
// its sealed secrets, as both stores keep them. EncodeWebhook is the one
// place where secrets are split off the webhook.
type WebhookRow struct {
	EventTypes, Conditions, Headers, Auth, TLS string
	Secrets                                    string
}

// EncodeWebhook returns w's structured columns; seal turns its secrets into
// the sealed column. The auth column has the secret fields blanked, not
// masked: it must not even say which secrets are set. Secret headers go
// only into the sealed column, plain headers into the headers column.
func EncodeWebhook(w *herald.Webhook, seal func(*herald.Webhook) (string, error)) (WebhookRow, error) {
	auth := w.Auth
	auth.Password, auth.Token, auth.HeaderValue, auth.KeyPEM, auth.Secret = "", "", "", "", ""
	for k := range w.Headers {
		if herald.CredentialHeader(k) {
			// Never in clear, even if a caller skipped the service's
			// normalization: seal a copy with the header moved.
			c := *w
			c.Headers = make(map[string]string, len(w.Headers))
			c.SecretHeaders = make(map[string]herald.Secret, len(w.SecretHeaders)+1)
			for k, v := range w.SecretHeaders {
				c.SecretHeaders[k] = v
			}
			for k, v := range w.Headers {
				if herald.CredentialHeader(k) {
					c.SecretHeaders[k] = herald.Secret(v)
				} else {
					c.Headers[k] = v
				}
			}
			w = &c
			break
		}
	}
	var r WebhookRow
	for _, f := range []struct {
		dst *string
		v   any
	}{
		{&r.EventTypes, w.EventTypes}, {&r.Conditions, w.Conditions}, {&r.Headers, w.Headers},
		{&r.Auth, auth}, {&r.TLS, w.TLS},
	} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return r, err
		}
		*f.dst = string(b)
	}
	var err error
	r.Secrets, err = seal(w)
	return r, err
}

// DecodeInto fills w's structured fields from r, and its secrets with open.
// The headers column holds only plain headers; a credential-named header
// found there (a row written before secret headers were sealed) is treated
// as a secret header at once, and sealed by the next update.
func (r WebhookRow) DecodeInto(w *herald.Webhook, open func(string, *herald.Webhook) error) error {
	for _, f := range []struct {
		src string
		dst any
	}{
		{r.EventTypes, &w.EventTypes}, {r.Conditions, &w.Conditions}, {r.Headers, &w.Headers},
		{r.Auth, &w.Auth}, {r.TLS, &w.TLS},
	} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return err
		}
	}
	w.SecretHeaders = nil
	if err := open(r.Secrets, w); err != nil {
		return err
	}
	for k, v := range w.Headers {
		if herald.CredentialHeader(k) {
			if w.SecretHeaders == nil {
				w.SecretHeaders = map[string]herald.Secret{}
			}
			if _, ok := w.SecretHeader(k); !ok {
				w.SecretHeaders[k] = herald.Secret(v)
			}
			delete(w.Headers, k)
		}
	}
	return nil
}
