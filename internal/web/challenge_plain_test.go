package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A failed ownership challenge on save is said in a plain sentence in the
// page's language, next to the field and in the summary; the sender's
// English explanation is one click away (a <details>), never inside the
// message. The same for Verify on the webhook page.
func TestChallengeFailureInPlainWords(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	// The receiver answers the challenge for the secret it knows.
	var known atomic.Value
	known.Store("receiver-secret")
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("crc_token"); tok != "" {
			mac := hmac.New(sha256.New, []byte(known.Load().(string)))
			mac.Write([]byte(tok))
			json.NewEncoder(w).Encode(map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	// Saved without a challenge secret; Verify and the form add one.
	id := s.createWebhook(map[string]any{"name": "chal", "url": recv.URL, "event_types": []string{"*"}})
	const english = "the response_token does not match"

	for _, tc := range []struct {
		lang, plain, summary string
	}{
		{"", "The ownership challenge failed: The endpoint answered with a wrong token: it must use the same challenge secret as this webhook. Nothing was saved.", "Technical detail"},
		{"zh-CN", "所有权挑战失败：接收方返回的令牌不正确：它必须使用与此 Webhook 相同的挑战密钥。未保存任何内容。", "技术细节"},
	} {
		c := s.client()
		c.lang = tc.lang
		c.loginToken(adminToken)
		c.get("/webhooks/new")
		form := url.Values{
			"action": {"save"}, "name": {"chal-new-" + tc.lang}, "url": {recv.URL}, "category": {"events"},
			"event_types": {"image.push"}, "auth_type": {"none"}, "severity": {"all"}, "format": {"standard"},
			"language": {"en"}, "enabled": {"1"}, "challenge_secret": {"a-challenge-secret"},
		}
		code, body := c.post("/webhooks/new", form)
		if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Fatalf("%q: save with a failing challenge: %d\n%s", tc.lang, code, body)
		}
		field := `<p class="field-error" id="f-challenge_secret-error">` + tc.plain + `</p>`
		detail := `<details class="err-detail field-detail"><summary>` + tc.summary + `</summary><code>`
		mustContain(t, body, field, `id="error-summary"`, field+detail)
		// The English text is only in the detail: once, after the summary.
		if n := strings.Count(body, english); n != 1 {
			t.Errorf("%q: the sender's text appears %d times, want once (in the detail)", tc.lang, n)
		}
		if i := strings.Index(body, english); i < strings.Index(body, detail) {
			t.Errorf("%q: the sender's text is outside the detail", tc.lang)
		}
		if tc.lang == "zh-CN" {
			mustNotContain(t, body, "ownership challenge failed", "nothing was saved", "The ownership challenge failed")
		}
	}

	// Verify on the webhook page: the same plain sentence, the detail one click away.
	s.mustAPI(http.StatusOK, "PATCH", "/webhooks/"+id, map[string]any{"challenge_secret": "receiver-secret"}, nil)
	known.Store("a secret the receiver changed to")
	c := s.client()
	c.lang = "zh-CN"
	c.loginToken(adminToken)
	c.get("/webhooks/" + id)
	code, body := c.post("/webhooks/"+id+"/verify", nil)
	if code != http.StatusOK {
		t.Fatalf("verify: %d\n%s", code, body)
	}
	mustContain(t, body, `<span class="err-plain">接收方返回的令牌不正确：它必须使用与此 Webhook 相同的挑战密钥。</span> <details class="err-detail"><summary>技术细节</summary><code>`+english)
}

// The SSRF guard's warning on a saved target is a plain translated
// sentence; the guard's English reason is one click away.
func TestGuardWarningInPlainWords(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	for _, tc := range []struct{ lang, plain, summary string }{
		{"", "The SSRF guard refuses this target: every delivery will fail until HERALD_ALLOW_CIDRS (network.allow_cidrs) allows it and Herald is restarted.", "Technical detail"},
		{"zh-CN", "SSRF 防护会拒绝此目标：在 HERALD_ALLOW_CIDRS（network.allow_cidrs）允许并重启 Herald 之前，所有投递都会失败。", "技术细节"},
	} {
		c := s.client()
		c.lang = tc.lang
		c.loginToken(adminToken)
		c.get("/webhooks/new")
		form := url.Values{"action": {"save"}, "name": {"private-" + tc.lang}, "url": {"http://10.9.8.7/hook"}, "event_types_extra": {"*"},
			"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}}
		code, body := c.post("/webhooks/new", form)
		if code != http.StatusOK {
			t.Fatalf("%q: create: %d\n%s", tc.lang, code, body)
		}
		want := `<div class="warning">` + tc.plain + `<details class="err-detail field-detail"><summary>` + tc.summary + `</summary><code>destination 10.9.8.7`
		mustContain(t, body, want)
	}
}
