package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

type rotated struct {
	WebhookID                string     `json:"webhook_id"`
	SigningSecret            string     `json:"signing_secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
}

// Signing secret rotation: POST /webhooks/{id}/rotate-secret returns the new
// secret once; during the grace period every request carries both
// signatures, space separated, each verified by the official Standard
// Webhooks library with its own secret; the engine on this node uses the new
// secret at once; after the grace only the new secret signs. The rotation is
// in the audit log, without the secret.
func TestSigningSecretRotation(t *testing.T) {
	// The checks "during the grace period" must all run within it, even on a
	// loaded machine; the test waits it out once.
	const rotationGrace = 5 * time.Second
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL, "project": "p"})
	oldSecret := wh.SigningSecret

	// deliver sends one event and returns what the endpoint received.
	deliver := func(what string) received {
		t.Helper()
		n := rc.count()
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		eventually(t, 10*time.Second, what, func() bool { return rc.count() > n })
		return rc.all()[n]
	}
	verifies := func(r received, secret string) bool {
		t.Helper()
		v, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return v.Verify(r.body, r.header) == nil
	}
	sigs := func(r received) int { return len(strings.Fields(r.header.Get("webhook-signature"))) }

	before := deliver("a delivery before the rotation")
	if sigs(before) != 1 || !verifies(before, oldSecret) {
		t.Fatalf("before rotation: %q", before.header.Get("webhook-signature"))
	}

	var rot rotated
	raw := h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", map[string]any{"grace": rotationGrace.String()}, &rot)
	if !strings.HasPrefix(rot.SigningSecret, "whsec_") || rot.SigningSecret == oldSecret || rot.WebhookID != wh.ID {
		t.Fatalf("rotate answered %s", raw)
	}
	if rot.PreviousSecretValidUntil == nil || time.Until(*rot.PreviousSecretValidUntil) > rotationGrace+time.Second {
		t.Fatalf("previous_secret_valid_until %v", rot.PreviousSecretValidUntil)
	}
	newSecret := rot.SigningSecret

	// At once (no cache delay on this node), both secrets sign.
	during := deliver("a delivery during the grace period")
	if sigs(during) != 2 {
		t.Fatalf("during the grace period: webhook-signature %q, want two signatures", during.header.Get("webhook-signature"))
	}
	if !verifies(during, oldSecret) || !verifies(during, newSecret) {
		t.Fatal("one of the two secrets does not verify during the grace period")
	}
	// The test send signs the same way.
	if res := h.testSend(wh.ID); !res.OK {
		t.Fatalf("test send: %+v", res)
	}
	test := rc.all()[rc.count()-1]
	if !verifies(test, oldSecret) || !verifies(test, newSecret) {
		t.Fatal("the test send is not signed with both secrets")
	}

	// Neither secret is readable afterwards.
	for _, path := range []string{"/api/v1/webhooks/" + wh.ID, "/api/v1/webhooks", "/api/v1/audit"} {
		raw := h.mustDo(http.StatusOK, "GET", path, nil, nil)
		for _, s := range []string{oldSecret, newSecret, strings.TrimPrefix(newSecret, "whsec_")} {
			if strings.Contains(string(raw), s) {
				t.Fatalf("%s shows a signing secret", path)
			}
		}
	}
	var audit struct {
		Data []struct{ Action, Object, Details string }
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/audit", nil, &audit)
	if len(audit.Data) == 0 || audit.Data[0].Action != "webhook.rotate_secret" || audit.Data[0].Object != wh.ID || !strings.Contains(audit.Data[0].Details, rotationGrace.String()) {
		t.Fatalf("audit %+v", audit.Data)
	}

	// Right after the grace period (the engine rebuilds its signer at the deadline), only the
	// new secret signs. (A wait for the clock to pass the deadline, not for a condition.)
	time.Sleep(time.Until(rot.PreviousSecretValidUntil.Add(50 * time.Millisecond)))
	after := deliver("a delivery after the grace period")
	if sigs(after) != 1 || !verifies(after, newSecret) || verifies(after, oldSecret) {
		t.Fatalf("after the grace period: webhook-signature %q", after.header.Get("webhook-signature"))
	}

	// No body: the default grace of 24h. grace 0: the previous secret stops at once.
	rot = rotated{}
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", nil, &rot)
	if rot.PreviousSecretValidUntil == nil {
		t.Fatal("no grace by default")
	}
	if d := time.Until(*rot.PreviousSecretValidUntil); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("default grace ends in %s, want 24h", d)
	}
	third := rot.SigningSecret
	rot = rotated{}
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", map[string]any{"grace": "0s"}, &rot)
	if rot.PreviousSecretValidUntil != nil {
		t.Fatalf("grace 0 kept the previous secret until %v", rot.PreviousSecretValidUntil)
	}
	last := deliver("a delivery after a rotation without grace")
	if sigs(last) != 1 || !verifies(last, rot.SigningSecret) || verifies(last, third) {
		t.Fatalf("grace 0: %q", last.header.Get("webhook-signature"))
	}

	for _, body := range []any{map[string]any{"grace": "-1h"}, map[string]any{"grace": "forever"}, map[string]any{"grace": "999h"}, map[string]any{"grac": "1h"}} {
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", body, nil)
		if code != http.StatusBadRequest || !strings.HasPrefix(decodeError(t, raw).Error.Field, "grac") {
			t.Fatalf("rotate with %v: %d %s", body, code, raw)
		}
	}
}
