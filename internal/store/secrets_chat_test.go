package store

import (
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
)

// A chat robot's signing secret is sealed like every secret: not in the auth
// column, not in the sealed text, and back after opening.
func TestSignSecretSealed(t *testing.T) {
	t.Parallel()
	box, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	w := &herald.Webhook{Format: herald.FormatDingTalk, Auth: herald.Auth{Type: herald.AuthSign, Secret: "SECrobot-secret"}}
	row, err := EncodeWebhook(w, func(w *herald.Webhook) (string, error) { return SealWebhookSecrets(box, w) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row.Auth, "SECrobot") || strings.Contains(row.Auth, "secret") || strings.Contains(row.Secrets, "SECrobot") {
		t.Fatalf("the secret is readable: auth %s, secrets %s", row.Auth, row.Secrets)
	}
	var back herald.Webhook
	if err := row.DecodeInto(&back, func(s string, w *herald.Webhook) error { return OpenWebhookSecrets(box, s, w) }); err != nil {
		t.Fatal(err)
	}
	if back.Auth.Type != herald.AuthSign || back.Auth.Secret.Reveal() != "SECrobot-secret" {
		t.Fatalf("opened auth %+v", back.Auth)
	}
}
