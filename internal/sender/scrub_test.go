package sender

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/herald-hq/herald"
)

// An endpoint that echoes the request's credentials (an error page quoting
// Authorization, an echo server) does not get them into the attempt record.
func TestEchoedCredentialsScrubbed(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-Echo", req.Header.Get("Authorization")+" "+req.Header.Get("X-Key"))
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("denied: " + req.Header.Get("Authorization") + " / " + req.Header.Get("X-Key")))
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	for name, auth := range map[string]herald.Auth{
		"basic":  {Type: herald.AuthBasic, Username: "user", Password: "echoed-password"},
		"bearer": {Type: herald.AuthBearer, Token: "echoed-token"},
		"header": {Type: herald.AuthHeader, HeaderName: "X-Key", HeaderValue: "echoed-header-value"},
	} {
		w := newWebhook(r.srv.URL)
		w.Auth = auth
		res := s.Send(context.Background(), w, newRequest(`{}`))
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.ResponseBody, "denied: ") {
			t.Fatalf("%s: %+v", name, res)
		}
		basic := base64.StdEncoding.EncodeToString([]byte("user:echoed-password"))
		for _, secret := range []string{"echoed-password", "echoed-token", "echoed-header-value", basic} {
			if strings.Contains(res.ResponseBody, secret) || strings.Contains(strings.Join(res.ResponseHeaders.Values("X-Echo"), ""), secret) {
				t.Fatalf("%s: %q recorded: body %q headers %v", name, secret, res.ResponseBody, res.ResponseHeaders)
			}
		}
		if !strings.Contains(res.ResponseBody, redacted) {
			t.Fatalf("%s: body %q", name, res.ResponseBody)
		}
	}
}

// The headers sensitiveHeader passes without the name check are none that
// herald.CredentialHeader would flag; the webhook's own credential names
// still win.
func TestSensitiveHeaderFastPath(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Content-Type", "User-Agent", "Webhook-Id", "Webhook-Timestamp", herald.HopsHeader} {
		if herald.CredentialHeader(name) {
			t.Fatalf("%s is a credential name but passes unchecked", name)
		}
		w := &herald.Webhook{Auth: herald.Auth{Type: herald.AuthHeader, HeaderName: name}}
		if !sensitiveHeader(name, w) {
			t.Fatalf("%s as the webhook's auth header was not redacted", name)
		}
		w = &herald.Webhook{SecretHeaders: map[string]herald.Secret{strings.ToLower(name): "s3cret"}}
		if !sensitiveHeader(name, w) {
			t.Fatalf("%s as the webhook's secret header was not redacted", name)
		}
	}
}

// cleanText agrees with the decoding it skips for valid text, returns a
// copy, and never changes its input.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "ok", `{"a":"b"}`, "caf\xc3\xa9", "cut \xe2\x82", "bad \xff byte", "nul \x00 here", "\xf0\x9f\x98"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := string(b)
		got := cleanText(b)
		if string(b) != in {
			t.Fatalf("cleanText changed its input %q to %q", in, b)
		}
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("cleanText(%q) = %q: not clean text", in, got)
		}
		// The reference: the slow path on the same (possibly cut) input.
		ref := cleanTextSlow([]byte(in))
		if got != ref {
			t.Fatalf("cleanText(%q) = %q, want %q", in, got, ref)
		}
	})
}

// cleanTextSlow is cleanText without its fast path.
func cleanTextSlow(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(cutRune(b)), "\uFFFD"), "\x00", "\uFFFD")
}
