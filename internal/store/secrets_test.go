package store

import (
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
)

func testBox(t *testing.T) *seal.Box {
	t.Helper()
	key, err := seal.ParseKey(seal.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// Secret headers go only into the sealed column; a credential-named header
// among the plain ones is sealed too, and one found in the headers column
// of an old row reads back as a secret header.
func TestSecretHeadersSealed(t *testing.T) {
	t.Parallel()
	box := testBox(t)
	sealFn := func(w *herald.Webhook) (string, error) { return SealWebhookSecrets(box, w) }
	openFn := func(s string, w *herald.Webhook) error { return OpenWebhookSecrets(box, s, w) }
	w := &herald.Webhook{
		Headers:       map[string]string{"X-Team": "ops", "X-Auth-Token": "planted-plain-cred"},
		SecretHeaders: map[string]herald.Secret{"X-Custom": "planted-secret-hdr"},
	}
	r, err := EncodeWebhook(w, sealFn)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{r.Headers, r.Auth, r.EventTypes, r.Conditions, r.TLS, r.Secrets} {
		if strings.Contains(col, "planted") {
			t.Fatalf("a secret in clear in a column: %s", col)
		}
	}
	if !strings.Contains(r.Headers, "X-Team") || w.Headers["X-Auth-Token"] == "" {
		t.Fatalf("headers column %s (and the caller's webhook must not change: %v)", r.Headers, w.Headers)
	}
	var got herald.Webhook
	if err := r.DecodeInto(&got, openFn); err != nil {
		t.Fatal(err)
	}
	if got.Headers["X-Team"] != "ops" || len(got.Headers) != 1 ||
		got.SecretHeaders["X-Custom"] != "planted-secret-hdr" || got.SecretHeaders["X-Auth-Token"] != "planted-plain-cred" {
		t.Fatalf("decoded %v %v", got.Headers, got.SecretHeaders)
	}

	// An old row: the credential sits in the headers column.
	old := WebhookRow{EventTypes: "[]", Conditions: "[]", Headers: `{"Authorization":"Bearer legacy","X-Team":"ops"}`, Auth: "{}", TLS: "{}"}
	old.Secrets, _ = SealWebhookSecrets(box, &herald.Webhook{})
	var legacy herald.Webhook
	if err := old.DecodeInto(&legacy, openFn); err != nil {
		t.Fatal(err)
	}
	if legacy.SecretHeaders["Authorization"] != "Bearer legacy" || len(legacy.Headers) != 1 {
		t.Fatalf("legacy row %v %v", legacy.Headers, legacy.SecretHeaders)
	}
}
