package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

func validWebhook() *herald.Webhook {
	return &herald.Webhook{Name: "n", Project: "p", URL: "https://hooks.example.com/x", EventTypes: []string{"*"}}
}

// Credential-named headers become secret headers; the mask keeps a stored
// value; once secret, a header stays secret when headers is patched alone.
func TestApplyHeaders(t *testing.T) {
	t.Parallel()
	stored := validWebhook()
	stored.Headers = map[string]string{"X-Team": "a"}
	stored.SecretHeaders = map[string]herald.Secret{"X-Api-Key": "key-1", "X-Custom": "custom-1"}
	decode := func(s string) *WebhookInput {
		var in WebhookInput
		if err := json.Unmarshal([]byte(s), &in); err != nil {
			t.Fatal(err)
		}
		return &in
	}
	for _, tc := range []struct {
		name          string
		in            string
		plain         map[string]string
		secret        map[string]herald.Secret
		storedChanged bool
	}{
		{"nothing given", `{}`, map[string]string{"X-Team": "a"}, stored.SecretHeaders, false},
		{"masks back", `{"headers": {"X-Team": "b"}, "secret_headers": {"X-Api-Key": "********", "X-Custom": "********"}}`,
			map[string]string{"X-Team": "b"}, stored.SecretHeaders, false},
		{"credential name in headers", `{"headers": {"Authorization": "Bearer z", "X-Team": "a"}}`,
			map[string]string{"X-Team": "a"}, map[string]herald.Secret{"X-Api-Key": "key-1", "X-Custom": "custom-1", "Authorization": "Bearer z"}, false},
		{"secret stays secret", `{"headers": {"X-Custom": "custom-2"}}`,
			map[string]string{}, map[string]herald.Secret{"X-Api-Key": "key-1", "X-Custom": "custom-2"}, false},
		{"mask in headers", `{"headers": {"x-api-key": "********"}}`,
			map[string]string{}, map[string]herald.Secret{"x-api-key": "key-1", "X-Custom": "custom-1"}, false},
		{"unmarking", `{"headers": {"X-Custom": "now-public"}, "secret_headers": {"X-Api-Key": "********"}}`,
			map[string]string{"X-Custom": "now-public"}, map[string]herald.Secret{"X-Api-Key": "key-1"}, false},
	} {
		w := *stored
		decode(tc.in).Apply(&w)
		if err := NormalizeWebhook(&w, herald.Settings{}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !equalMap(w.Headers, tc.plain) || !equalMap(w.SecretHeaders, tc.secret) {
			t.Errorf("%s: plain %v secret %v, want %v %v", tc.name, w.Headers, reveal(w.SecretHeaders), tc.plain, reveal(tc.secret))
		}
		if stored.SecretHeaders["X-Api-Key"] != "key-1" || len(stored.SecretHeaders) != 2 || stored.Headers["X-Team"] != "a" {
			t.Fatalf("%s: the stored webhook changed: %v %v", tc.name, stored.Headers, reveal(stored.SecretHeaders))
		}
	}
	// The mask of a header that has no stored value is refused.
	w := *stored
	decode(`{"secret_headers": {"X-New": "********"}}`).Apply(&w)
	if err := NormalizeWebhook(&w, herald.Settings{}); herald.ErrorField(err) != "headers.X-New" {
		t.Fatalf("mask without a value: %v", err)
	}
	// The audit copy of an input masks every secret header value.
	in := decode(`{"headers": {"X-Api-Key": "key-9", "X-Custom": "custom-9", "X-Team": "t"}}`)
	w = *stored
	in.Apply(&w)
	b, _ := json.Marshal(in.redacted(&w))
	if strings.Contains(string(b), "key-9") || strings.Contains(string(b), "custom-9") || !strings.Contains(string(b), `"X-Team":"t"`) {
		t.Fatalf("audit copy %s", b)
	}
}

func equalMap[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func reveal(m map[string]herald.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Reveal()
	}
	return out
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://h.example/a", "https://h.example/b?x=1", true},
		{"https://h.example/a", "https://H.EXAMPLE:443/", true},
		{"http://h.example/", "http://h.example:80/", true},
		{"https://h.example./", "https://h.example/", true},
		{"https://h.example/", "http://h.example/", false},
		{"https://h.example/", "https://h.example:8443/", false},
		{"https://h.example/", "https://evil.example/", false},
		{"https://h.example/", "https://h.example.evil.example/", false},
		{"https://[::1]:80/", "https://[::1]:81/", false},
	} {
		if got := sameOrigin(tc.a, tc.b); got != tc.same {
			t.Errorf("sameOrigin(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

// Moving the URL to another origin needs every stored credential in the
// same request.
func TestRequireCredentialsOnMove(t *testing.T) {
	t.Parallel()
	stored := validWebhook()
	stored.Auth = herald.Auth{Type: herald.AuthMTLS, CertPEM: "c", KeyPEM: "k", HeaderName: "X-Gw", HeaderValue: "hv"}
	stored.SecretHeaders = map[string]herald.Secret{"X-Api-Key": "key"}
	stored.ChallengeSecret = "chal"
	all := `"auth": {"key_pem": "k", "header_value": "hv"}, "secret_headers": {"X-Api-Key": "key"}, "challenge_secret": "chal"`
	for _, tc := range []struct{ name, in, field string }{
		{"same origin", `{"url": "https://hooks.example.com/other"}`, ""},
		{"url only", `{"url": "https://evil.example/"}`, "auth"},
		{"masks", `{"url": "https://evil.example/", "auth": {"key_pem": "********", "header_value": "********"}}`, "auth"},
		{"key missing", `{"url": "https://evil.example/", "auth": {"header_value": "hv"}, "secret_headers": {"X-Api-Key": "key"}, "challenge_secret": "chal"}`, "auth"},
		{"header missing", `{"url": "https://evil.example/", "auth": {"key_pem": "k", "header_value": "hv"}, "challenge_secret": "chal"}`, "headers.X-Api-Key"},
		{"challenge missing", `{"url": "https://evil.example/", "auth": {"key_pem": "k", "header_value": "hv"}, "secret_headers": {"X-Api-Key": "key"}}`, "challenge_secret"},
		{"everything again", `{"url": "https://evil.example/", ` + all + `}`, ""},
		{"header dropped", `{"url": "https://evil.example/", "auth": {"key_pem": "k", "header_value": "hv"}, "secret_headers": {}, "challenge_secret": "chal"}`, ""},
		{"auth type changed", `{"url": "https://evil.example/", "auth": {"type": "none"}, "secret_headers": {"X-Api-Key": "key2"}, "challenge_secret": ""}`, ""},
	} {
		var in WebhookInput
		if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
			t.Fatal(err)
		}
		w := *stored
		in.Apply(&w)
		err := requireCredentialsOnMove(stored, &w, &in)
		if got := herald.ErrorField(err); got != tc.field || (tc.field != "" && herald.ErrorCode(err) != herald.EInvalid) {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}
}

// Values that break later are refused when saved, naming the field.
func TestNormalizeRefusesBadValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		mod   func(*herald.Webhook)
		field string
	}{
		{"tab in name", func(w *herald.Webhook) { w.Name = "a\tb" }, "name"},
		{"C1 control in project", func(w *herald.Webhook) { w.Project = "p\u0085" }, "project"},
		{"invalid UTF-8 in name", func(w *herald.Webhook) { w.Name = "a\xffb" }, "name"},
		{"port 0", func(w *herald.Webhook) { w.URL = "https://h.example:0/" }, "url"},
		{"port 70000", func(w *herald.Webhook) { w.URL = "https://h.example:70000/" }, "url"},
		{"empty port", func(w *herald.Webhook) { w.URL = "https://h.example:/" }, "url"},
		{"long host", func(w *herald.Webhook) { w.URL = "https://" + strings.Repeat("abcdefghi.", 26) + "com/" }, "url"},
		{"empty label", func(w *herald.Webhook) { w.URL = "https://a..example/" }, "url"},
		{"bearer CRLF", func(w *herald.Webhook) { w.Auth = herald.Auth{Type: herald.AuthBearer, Token: "a\r\nb"} }, "auth.token"},
		{"header auth NUL", func(w *herald.Webhook) { w.Auth = herald.Auth{Type: herald.AuthHeader, HeaderValue: "a\x00"} }, "auth.header_value"},
		{"basic colon", func(w *herald.Webhook) { w.Auth = herald.Auth{Type: herald.AuthBasic, Username: "a:b", Password: "p"} }, "auth.username"},
		{"basic LF", func(w *herald.Webhook) { w.Auth = herald.Auth{Type: herald.AuthBasic, Username: "a\nb", Password: "p"} }, "auth.username"},
		{"secret header LF", func(w *herald.Webhook) { w.SecretHeaders = map[string]herald.Secret{"X-S": "a\nb"} }, "headers.X-S"},
		{"secret header empty", func(w *herald.Webhook) { w.SecretHeaders = map[string]herald.Secret{"X-S": ""} }, "headers.X-S"},
		{"twice across maps", func(w *herald.Webhook) {
			w.Headers = map[string]string{"x-s": "1"}
			w.SecretHeaders = map[string]herald.Secret{"X-S": "2"}
		}, "headers.X-S"},
		{"Herald-Hops", func(w *herald.Webhook) { w.Headers = map[string]string{"herald-hops": "0"} }, "headers.herald-hops"},
		{"condition label NUL", func(w *herald.Webhook) {
			w.Conditions = []herald.Condition{{Label: "a\x00", Operator: herald.OpExists}}
		}, "conditions[0].label"},
		{"long condition value", func(w *herald.Webhook) {
			w.Conditions = []herald.Condition{{Label: "a", Operator: herald.OpIn, Values: []string{strings.Repeat("v", 1025)}}}
		}, "conditions[0].values"},
		{"timeout negative", func(w *herald.Webhook) { w.Timeout = -1 }, "timeout"},
	} {
		w := validWebhook()
		tc.mod(w)
		err := NormalizeWebhook(w, herald.Settings{})
		if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want 400 naming %s", tc.name, err, tc.field)
		}
	}
	// At the limits: accepted.
	w := validWebhook()
	w.URL = "https://" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".example:65535/"
	w.Headers = map[string]string{}
	for i := range herald.MaxHeaders {
		w.Headers["X-H"+strings.Repeat("h", i)] = "v"
	}
	if err := NormalizeWebhook(w, herald.Settings{}); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
}

func TestParseHops(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]int{"": 0, "0": 0, "1": 1, " 3 ": 3} {
		if n, err := ParseHops(v); err != nil || n != want {
			t.Errorf("ParseHops(%q) = %d, %v", v, n, err)
		}
	}
	for _, v := range []string{"4", "99999999999999999999", "-1", "x", "1.5"} {
		if _, err := ParseHops(v); herald.ErrorField(err) != herald.HopsHeader {
			t.Errorf("ParseHops(%q) = %v", v, err)
		}
	}
	if Hops(WithHops(context.Background(), 2)) != 2 || Hops(context.Background()) != 0 {
		t.Fatal("hops context")
	}
}
