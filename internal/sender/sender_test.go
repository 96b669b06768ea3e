package sender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/signing"
)

// signed builds a Request signed with w's secrets, as the engine does.
func signed(t testing.TB, w *herald.Webhook, msgID, body string) Request {
	t.Helper()
	now := time.Now()
	sig, err := signing.Sign(w.Secrets(now), msgID, now, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return Request{MsgID: msgID, Timestamp: now, Body: []byte(body), Signature: sig}
}

func TestSendStandardHeadersAndSignature(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL + "/hooks?src=herald")
	w.SigningSecret = herald.Secret(signing.NewSecret())
	w.PreviousSecret = herald.Secret(signing.NewSecret())
	w.PreviousSecretUntil = time.Now().Add(time.Hour)
	w.Headers = map[string]string{
		"X-Env":             "prod",
		"webhook-id":        "forged",
		"Webhook-Signature": "v1,forged",
		"webhook-timestamp": "1",
		"Content-Length":    "1",
	}
	body := `{"type":"image.pushed","data":{"tag":"1.27"}}`
	req := signed(t, w, "msg_2xK", body)

	res := s.Send(context.Background(), w, req)
	if res.Outcome != Success || res.StatusCode != 200 || res.Err != "" {
		t.Fatalf("outcome %v status %d err %q", res.Outcome, res.StatusCode, res.Err)
	}
	got := r.last(t)
	if string(got.body) != body {
		t.Errorf("body %q", got.body)
	}
	checks := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        herald.UserAgent(),
		"Webhook-Id":        "msg_2xK",
		"Webhook-Timestamp": strconv.FormatInt(req.Timestamp.Unix(), 10),
		"Webhook-Signature": req.Signature,
		"X-Env":             "prod",
	}
	for k, want := range checks {
		if v := got.header.Values(k); len(v) != 1 || v[0] != want {
			t.Errorf("receiver saw %s = %q, want %q", k, v, want)
		}
	}
	if _, ok := got.header["Idempotency-Key"]; ok {
		t.Error("the replay marker Idempotency-Key went on the wire")
	}
	if _, ok := res.RequestHeaders["Idempotency-Key"]; ok {
		t.Error("the replay marker Idempotency-Key is in the attempt record")
	}
	if res.RequestHeaders.Get("Webhook-Id") != "msg_2xK" || res.RequestHeaders.Get("X-Env") != "prod" {
		t.Errorf("RequestHeaders = %v", res.RequestHeaders)
	}
	// Both secrets of the rotation verify with the official library.
	for _, sec := range []herald.Secret{w.SigningSecret, w.PreviousSecret} {
		wh, err := standardwebhooks.NewWebhook(sec.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(got.body, got.header); err != nil {
			t.Errorf("official library: %v", err)
		}
	}
}

// standard_headers off: webhook-id, webhook-timestamp and webhook-signature
// are neither sent nor recorded, also when the extra headers name them;
// User-Agent and Herald-Hops still are.
func TestSendWithoutStandardHeaders(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.SigningSecret = herald.Secret(signing.NewSecret())
	w.Headers = map[string]string{"X-Env": "prod", "webhook-id": "forged", "Webhook-Signature": "v1,forged"}
	req := signed(t, w, "msg_off", `{"a":1}`)
	req.Hops = 2
	for i, on := range []bool{false, true} {
		w.StandardHeaders = on
		res := s.Send(context.Background(), w, req)
		if res.Outcome != Success || r.count() != i+1 {
			t.Fatalf("standard_headers %v: outcome %v err %q, %d requests", on, res.Outcome, res.Err, r.count())
		}
		got := r.last(t)
		for _, k := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
			sent, recorded := got.header.Values(k), res.RequestHeaders.Values(k)
			if on && (len(sent) != 1 || len(recorded) != 1) {
				t.Errorf("standard_headers on: %s sent %q, recorded %q", k, sent, recorded)
			}
			if !on && (len(sent) != 0 || len(recorded) != 0) {
				t.Errorf("standard_headers off: %s sent %q, recorded %q", k, sent, recorded)
			}
		}
		if on && got.header.Get("Webhook-Id") != "msg_off" {
			t.Errorf("Webhook-Id = %q", got.header.Get("Webhook-Id"))
		}
		if got.header.Get("User-Agent") != herald.UserAgent() || got.header.Get(herald.HopsHeader) != "2" || got.header.Get("X-Env") != "prod" {
			t.Errorf("standard_headers %v: User-Agent %q, %s %q, X-Env %q", on, got.header.Get("User-Agent"),
				herald.HopsHeader, got.header.Get(herald.HopsHeader), got.header.Get("X-Env"))
		}
		if res.RequestHeaders.Get("User-Agent") == "" || res.RequestHeaders.Get(herald.HopsHeader) != "2" {
			t.Errorf("standard_headers %v: RequestHeaders = %v", on, res.RequestHeaders)
		}
	}
}

func TestSendContentTypeAndUserAgent(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback, UserAgent: "Herald/test"})
	w := newWebhook(r.srv.URL)
	w.Headers = map[string]string{"Content-Type": "text/plain", "User-Agent": "curl"}

	s.Send(context.Background(), w, newRequest(`{}`))
	if got := r.last(t); got.header.Get("Content-Type") != "application/json" || got.header.Get("User-Agent") != "Herald/test" {
		t.Errorf("defaults: %v", got.header)
	}
	w.ContentType = "application/cloudevents+json"
	s.Send(context.Background(), w, newRequest(`{}`))
	if got := r.last(t).header.Get("Content-Type"); got != "application/cloudevents+json" {
		t.Errorf("webhook content type: %q", got)
	}
	req := newRequest(`a=b`)
	req.ContentType = "application/x-www-form-urlencoded"
	s.Send(context.Background(), w, req)
	if got := r.last(t).header.Get("Content-Type"); got != req.ContentType {
		t.Errorf("request content type: %q", got)
	}
}

func TestSendAuth(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	cases := []struct {
		name   string
		auth   herald.Auth
		header string
		want   string
	}{
		{"none", herald.Auth{Type: herald.AuthNone}, "Authorization", ""},
		{"empty type", herald.Auth{}, "Authorization", ""},
		{"basic", herald.Auth{Type: herald.AuthBasic, Username: "harbor", Password: "s3cr3t"}, "Authorization",
			"Basic " + base64.StdEncoding.EncodeToString([]byte("harbor:s3cr3t"))},
		{"bearer", herald.Auth{Type: herald.AuthBearer, Token: "tok_123"}, "Authorization", "Bearer tok_123"},
		{"header default name", herald.Auth{Type: herald.AuthHeader, HeaderValue: "Token abc"}, "Authorization", "Token abc"},
		{"header custom name", herald.Auth{Type: herald.AuthHeader, HeaderName: "X-Harbor-Auth", HeaderValue: "abc"}, "X-Harbor-Auth", "abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWebhook(r.srv.URL)
			w.Auth = tc.auth
			w.Headers = map[string]string{"Authorization": "from-extra-headers"}
			res := s.Send(context.Background(), w, newRequest(`{}`))
			if res.Outcome != Success {
				t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
			}
			want := tc.want
			if want == "" && tc.header == "Authorization" {
				want = "from-extra-headers" // no auth: the extra header stands
			}
			if got := r.last(t).header.Get(tc.header); got != want {
				t.Errorf("receiver saw %s = %q, want %q", tc.header, got, want)
			}
			if got := res.RequestHeaders.Get(tc.header); got != redacted {
				t.Errorf("record has %s = %q, want redacted", tc.header, got)
			}
		})
	}
	t.Run("unknown type", func(t *testing.T) {
		w := newWebhook(r.srv.URL)
		w.Auth = herald.Auth{Type: "oauth2"}
		before := r.count()
		res := s.Send(context.Background(), w, newRequest(`{}`))
		if res.Outcome != Retry || !strings.Contains(res.Err, `unknown auth type "oauth2"`) {
			t.Errorf("outcome %v err %q", res.Outcome, res.Err)
		}
		if r.count() != before {
			t.Error("a request with unknown auth was sent")
		}
	})
}

// TestRedaction: no credential reaches the attempt record, whatever its
// header is called.
func TestRedaction(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.Auth = herald.Auth{Type: herald.AuthHeader, HeaderName: "X-Signature-Seed", HeaderValue: "hv-SECRET-1"}
	secrets := map[string]string{
		"Proxy-Authorization": "pa-SECRET-2",
		"Cookie":              "sid=SECRET-3",
		"X-Api-Key":           "SECRET-4",
		"X-Auth-Token":        "SECRET-5",
		"x-client-secret":     "SECRET-6",
		"X-Password":          "SECRET-7",
		"X-Session":           "SECRET-8",
		"Authorization":       "SECRET-9",
	}
	w.Headers = map[string]string{"X-Trace": "visible"}
	for k, v := range secrets {
		w.Headers[k] = v
	}
	res := s.Send(context.Background(), w, newRequest(`{}`))
	if res.Outcome != Success {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
	seen := r.last(t).header
	for k, v := range secrets {
		if seen.Get(k) != v {
			t.Errorf("receiver saw %s = %q, want %q", k, seen.Get(k), v)
		}
		if got := res.RequestHeaders.Get(k); got != redacted {
			t.Errorf("record has %s = %q", k, got)
		}
	}
	if got := res.RequestHeaders.Get("X-Signature-Seed"); got != redacted {
		t.Errorf("auth header_name not redacted: %q", got)
	}
	if got := res.RequestHeaders.Get("X-Trace"); got != "visible" {
		t.Errorf("X-Trace = %q", got)
	}
	if dump := fmt.Sprintf("%v %+v", res, res.RequestHeaders); strings.Contains(dump, "SECRET") {
		t.Errorf("a secret leaked into the result: %s", dump)
	}
}

func TestClassification(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		code, _ := strconv.Atoi(req.URL.Query().Get("status"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d", code)
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	cases := []struct {
		code int
		want Outcome
	}{
		{200, Success}, {201, Success}, {202, Success}, {204, Success},
		{410, Gone},
		{500, Retry}, {502, Retry}, {503, Retry}, {408, Retry}, {429, Retry},
		{400, Retry}, {401, Retry}, {404, Retry}, {413, Retry},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			res := s.Send(context.Background(), newWebhook(r.srv.URL+"/?status="+strconv.Itoa(tc.code)), newRequest(`{}`))
			if res.StatusCode != tc.code || res.Outcome != tc.want {
				t.Fatalf("status %d outcome %v err %q, want %d %v", res.StatusCode, res.Outcome, res.Err, tc.code, tc.want)
			}
			if res.Err != "" {
				t.Errorf("Err = %q for a plain status", res.Err)
			}
			if tc.code != 204 && res.ResponseBody != fmt.Sprintf("status %d", tc.code) {
				t.Errorf("body %q", res.ResponseBody)
			}
			if res.Latency <= 0 {
				t.Errorf("latency %v", res.Latency)
			}
			if res.ResponseHeaders.Get("Content-Type") == "" && tc.code != 204 {
				t.Errorf("response headers missing: %v", res.ResponseHeaders)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Retry-After", req.URL.Query().Get("ra"))
		code, _ := strconv.Atoi(req.URL.Query().Get("status"))
		w.WriteHeader(code)
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	cases := []struct {
		name     string
		status   int
		ra       string
		min, max time.Duration
	}{
		{"seconds on 429", 429, "120", 120 * time.Second, 120 * time.Second},
		{"date on 503", 503, date, 85 * time.Second, 90 * time.Second},
		{"garbage", 503, "soon", 0, 0},
		{"ignored on success", 200, "120", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := fmt.Sprintf("%s/?status=%d&ra=%s", r.srv.URL, tc.status, urlQueryEscape(tc.ra))
			res := s.Send(context.Background(), newWebhook(u), newRequest(`{}`))
			if res.StatusCode != tc.status {
				t.Fatalf("status %d err %q", res.StatusCode, res.Err)
			}
			if res.RetryAfter < tc.min || res.RetryAfter > tc.max {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", res.RetryAfter, tc.min, tc.max)
			}
		})
	}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer(" ", "%20", ",", "%2C", ":", "%3A").Replace(s)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                                  0,
		"0":                                 0,
		"-5":                                0,
		" 30 ":                              30 * time.Second,
		"3600":                              time.Hour,
		"99999999999999":                    365 * 24 * time.Hour,
		"1.5":                               0,
		"Wed, 01 Jan 2025 12:02:00 GMT":     2 * time.Minute,
		"Wednesday, 01-Jan-25 12:00:30 GMT": 30 * time.Second, // RFC 850
		"Wed Jan  1 12:01:00 2025":          time.Minute,      // ANSI C
		"Wed, 01 Jan 2025 11:00:00 GMT":     0,                // past
		"tomorrow":                          0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-release:
		case <-time.After(30 * time.Second):
		}
	}, nil, false)
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.Timeout = herald.Duration(200 * time.Millisecond)
	start := time.Now()
	res := s.Send(context.Background(), w, newRequest(`{}`))
	elapsed := time.Since(start)
	if res.Outcome != Retry || res.Err != "timeout after 200ms" {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
	// The receiver hangs 30s: well under that shows the cut (a generous
	// bound, for loaded machines).
	if elapsed < 200*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("took %v for a 200ms timeout", elapsed)
	}
	if res.Latency < 200*time.Millisecond || res.Latency > 10*time.Second {
		t.Errorf("latency %v", res.Latency)
	}
}

// TestTimeoutCoversBody: a 2xx whose body never ends is cut at the timeout;
// the status still decides the outcome.
func TestTimeoutCoversBody(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-req.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.Timeout = herald.Duration(time.Second) // room to read "partial" first on a loaded machine
	res := s.Send(context.Background(), w, newRequest(`{}`))
	if res.Outcome != Success || res.StatusCode != 200 {
		t.Fatalf("outcome %v status %d", res.Outcome, res.StatusCode)
	}
	if res.ResponseBody != "partial" || !strings.Contains(res.Err, "reading response body: timeout after 1s") {
		t.Errorf("body %q err %q", res.ResponseBody, res.Err)
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	res := s.Send(ctx, newWebhook(r.srv.URL), newRequest(`{}`))
	if res.Outcome != Retry || res.Err != "cancelled before the endpoint answered" {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	url := r.srv.URL
	r.srv.Close() // nothing listens there any more
	s := New(Options{AllowCIDRs: loopback})
	res := s.Send(context.Background(), newWebhook(url), newRequest(`{}`))
	if res.Outcome != Retry || !strings.Contains(res.Err, "connection refused") {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
	if strings.Contains(res.Err, "Post ") {
		t.Errorf("Err keeps net/http's URL prefix: %q", res.Err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, nil, nil, false)
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Has("bare") {
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		http.Redirect(w, req, target.srv.URL+"/elsewhere", http.StatusFound)
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`))
	if res.Outcome != Retry || res.StatusCode != http.StatusFound {
		t.Fatalf("outcome %v status %d", res.Outcome, res.StatusCode)
	}
	if want := "redirect not followed: Location " + target.srv.URL + "/elsewhere"; res.Err != want {
		t.Errorf("Err = %q, want %q", res.Err, want)
	}
	if target.count() != 0 {
		t.Error("the redirect was followed")
	}
	res = s.Send(context.Background(), newWebhook(r.srv.URL+"/?bare"), newRequest(`{}`))
	if res.Err != "redirect not followed: 301 Moved Permanently without Location" {
		t.Errorf("Err = %q", res.Err)
	}
}

func TestResponseBodyCapped(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Has("endless") {
			chunk := bytes.Repeat([]byte("z"), 32<<10)
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		w.Write(bytes.Repeat([]byte("a"), 10000))
	}, nil, false)

	s := New(Options{AllowCIDRs: loopback})
	res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`))
	if len(res.ResponseBody) != DefaultMaxResponseBytes || strings.Trim(res.ResponseBody, "a") != "" {
		t.Errorf("kept %d bytes, want %d", len(res.ResponseBody), DefaultMaxResponseBytes)
	}

	small := New(Options{AllowCIDRs: loopback, MaxResponseBytes: 10})
	if res := small.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`)); res.ResponseBody != "aaaaaaaaaa" {
		t.Errorf("MaxResponseBytes 10 kept %q", res.ResponseBody)
	}

	// An endless body neither hangs Send nor is read beyond the drain bound.
	start := time.Now()
	res = s.Send(context.Background(), newWebhook(r.srv.URL+"/?endless"), newRequest(`{}`))
	if res.Outcome != Success || len(res.ResponseBody) != DefaultMaxResponseBytes {
		t.Errorf("endless body: outcome %v, %d bytes, err %q", res.Outcome, len(res.ResponseBody), res.Err)
	}
	if d := time.Since(start); d > 10*time.Second { // generous, for loaded machines
		t.Errorf("endless body took %v", d)
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain":               "plain",
		"镜像":                  "镜像",
		"镜像"[:4]:              "镜",          // a rune cut by the limit is dropped
		"ok\xff\xfeok":        "ok\uFFFDok", // invalid bytes replaced
		"nul\x00byte":         "nul\uFFFDbyte",
		"":                    "",
		"\xe9":                "",     // a lone cut lead byte
		"abc\xf0\x9f\x98":     "abc",  // a cut emoji
		"abc\xf0\x9f\x98\x80": "abc😀", // a whole emoji
		"abc\x80":             "abc\uFFFD",
	}
	for in, want := range cases {
		if got := cleanText([]byte(in)); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, &tls.Config{}, false) // httptest's own certificate
	serverCA := certPEM(r.srv.Certificate())
	otherCA := newCA(t, "Other CA")
	s := New(Options{AllowCIDRs: loopback})
	cases := []struct {
		name    string
		tls     herald.TLS
		want    Outcome
		wantErr string
	}{
		{"unknown CA fails", herald.TLS{}, Retry, "certificate signed by unknown authority"},
		{"custom CA works", herald.TLS{CAPEM: serverCA}, Success, ""},
		{"wrong CA fails", herald.TLS{CAPEM: otherCA.certPEM}, Retry, "certificate signed by unknown authority"},
		{"skip_verify works", herald.TLS{SkipVerify: true}, Success, ""},
		{"bad ca_pem", herald.TLS{CAPEM: "not a certificate"}, Retry, "tls.ca_pem holds no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWebhook(r.srv.URL)
			w.TLS = tc.tls
			res := s.Send(context.Background(), w, newRequest(`{}`))
			if res.Outcome != tc.want || !strings.Contains(res.Err, tc.wantErr) {
				t.Fatalf("outcome %v err %q, want %v %q", res.Outcome, res.Err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestTLSConfigChange: the cached transport follows a TLS change at once.
func TestTLSConfigChange(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, &tls.Config{}, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	if res := s.Send(context.Background(), w, newRequest(`{}`)); res.Outcome != Retry {
		t.Fatalf("untrusted: %v", res.Outcome)
	}
	w.TLS.CAPEM = certPEM(r.srv.Certificate()) // same UpdatedAt: the material decides
	if res := s.Send(context.Background(), w, newRequest(`{}`)); res.Outcome != Success {
		t.Fatalf("after adding the CA: %v %q", res.Outcome, res.Err)
	}
}

func TestHTTP2(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, &tls.Config{}, true)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.TLS.CAPEM = certPEM(r.srv.Certificate())
	for range 5 {
		if res := s.Send(context.Background(), w, newRequest(`{}`)); res.Outcome != Success {
			t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
		}
	}
	if got := r.last(t).proto; got != 2 {
		t.Errorf("protocol HTTP/%d, want HTTP/2", got)
	}
	if n := r.conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 requests", n)
	}
}

func TestMTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "Herald Test CA")
	server := ca.leaf(t, "receiver", false)
	client := ca.leaf(t, "herald-client", true)
	stranger := newCA(t, "Stranger CA").leaf(t, "stranger", true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	r := newReceiver(t, nil, &tls.Config{
		Certificates: []tls.Certificate{server.tls},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, false)
	s := New(Options{AllowCIDRs: loopback})

	t.Run("client certificate presented", func(t *testing.T) {
		t.Parallel()
		w := newWebhook(r.srv.URL)
		w.TLS.CAPEM = ca.certPEM
		w.Auth = herald.Auth{Type: herald.AuthMTLS, CertPEM: client.certPEM, KeyPEM: herald.Secret(client.keyPEM),
			HeaderName: "X-Gateway-Key", HeaderValue: "gw-123"}
		res := s.Send(context.Background(), w, newRequest(`{}`))
		if res.Outcome != Success {
			t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
		}
		var got recorded
		for _, rec := range r.reqs0() {
			if rec.header.Get("X-Gateway-Key") == "gw-123" {
				got = rec
			}
		}
		if got.peerCN != "herald-client" {
			t.Errorf("the receiver saw client CN %q", got.peerCN)
		}
		if res.RequestHeaders.Get("X-Gateway-Key") != redacted {
			t.Errorf("record: %v", res.RequestHeaders)
		}
	})
	for name, auth := range map[string]herald.Auth{
		"no client certificate":     {},
		"certificate of another CA": {Type: herald.AuthMTLS, CertPEM: stranger.certPEM, KeyPEM: herald.Secret(stranger.keyPEM)},
		"mtls type, no certificate": {Type: herald.AuthMTLS},
		"key not matching the cert": {Type: herald.AuthMTLS, CertPEM: client.certPEM, KeyPEM: herald.Secret(stranger.keyPEM)},
		"garbage certificate":       {Type: herald.AuthMTLS, CertPEM: "junk", KeyPEM: "junk"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWebhook(r.srv.URL)
			w.TLS.CAPEM = ca.certPEM
			w.Auth = auth
			res := s.Send(context.Background(), w, newRequest(`{}`))
			if res.Outcome != Retry || res.Err == "" || res.StatusCode != 0 {
				t.Fatalf("outcome %v status %d err %q", res.Outcome, res.StatusCode, res.Err)
			}
			if strings.Contains(res.Err, "BEGIN") {
				t.Errorf("Err quotes PEM: %q", res.Err)
			}
		})
	}
}

func (r *receiver) reqs0() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// TestKeepAlive counts connections on the receiver: one pooled connection
// serves sequential sends, even with bodies to drain, and a configuration
// change or CloseIdle opens a new one.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Write(bytes.Repeat([]byte("b"), 10000)) // beyond the 4 KiB kept, within the drain
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	send := func() {
		t.Helper()
		if res := s.Send(context.Background(), w, newRequest(`{}`)); res.Outcome != Success {
			t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
		}
	}
	for range 20 {
		send()
	}
	if n := r.conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 sequential sends, want 1", n)
	}
	w.UpdatedAt = w.UpdatedAt.Add(time.Second) // the webhook was edited
	for range 5 {
		send()
	}
	if n := r.conns.Load(); n != 2 {
		t.Fatalf("%d connections after an update, want 2", n)
	}
	s.CloseIdle()
	send()
	if n := r.conns.Load(); n != 3 {
		t.Fatalf("%d connections after CloseIdle, want 3", n)
	}
}

// TestUnsavedWebhook: a webhook without ID gets a transient transport whose
// connection is closed after the send.
func TestUnsavedWebhook(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.ID = ""
	for range 3 {
		if res := s.Send(context.Background(), w, newRequest(`{}`)); res.Outcome != Success {
			t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
		}
	}
	if n := r.conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) != 0 {
		t.Errorf("%d cached clients for an unsaved webhook", len(s.clients))
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	busy, quiet := newWebhook(r.srv.URL), newWebhook(r.srv.URL)
	s.Send(context.Background(), quiet, newRequest(`{}`))
	s.Send(context.Background(), busy, newRequest(`{}`))

	s.mu.Lock()
	s.clients[quiet.ID].lastUsed.Store(time.Now().Add(-clientIdleTTL - time.Second).UnixNano())
	s.lastSweep = time.Now().Add(-sweepEvery)
	s.mu.Unlock()

	s.Send(context.Background(), busy, newRequest(`{}`)) // triggers the sweep
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[quiet.ID]; ok {
		t.Error("the quiet webhook's transport was kept")
	}
	if _, ok := s.clients[busy.ID]; !ok {
		t.Error("the busy webhook's transport was dropped")
	}
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback})
	cases := map[string]string{
		"ftp://example.com/x": `url scheme must be http or https, not "ftp"`,
		"http://":             "url has no host",
		"http://a b.com/":     "invalid url",
		"example.com/hook":    `url scheme must be http or https, not ""`,
	}
	for u, want := range cases {
		res := s.Send(context.Background(), newWebhook(u), newRequest(`{}`))
		if res.Outcome != Retry || !strings.Contains(res.Err, want) {
			t.Errorf("%s: outcome %v err %q, want %q", u, res.Outcome, res.Err, want)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	for o, want := range map[Outcome]string{Success: "success", Retry: "retry", Gone: "gone", Outcome(9): "outcome(9)"} {
		if o.String() != want {
			t.Errorf("%d: %q", int(o), o.String())
		}
	}
	var zero Result
	if zero.Outcome != Retry {
		t.Error("a zero Result must not count as delivered")
	}
}

// TestConcurrentSends shares one Sender and webhook between goroutines
// (run with -race).
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.SigningSecret = herald.Secret(signing.NewSecret())
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for j := range 5 {
				res := s.Send(context.Background(), w, signed(t, w, fmt.Sprintf("msg_%d_%d", i, j), `{}`))
				if res.Outcome != Success {
					t.Errorf("outcome %v err %q", res.Outcome, res.Err)
				}
			}
		})
	}
	wg.Wait()
	if r.count() != 160 {
		t.Errorf("receiver got %d requests, want 160", r.count())
	}
	// net/http may dial a few more connections than there are senders (a
	// dial races an idle connection coming back), but pooling must show.
	if n := r.conns.Load(); n >= 160 {
		t.Errorf("%d connections for 160 requests: no reuse", n)
	}
}

func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	s := New(Options{AllowCIDRs: loopback})
	b.Cleanup(s.CloseIdle)
	w := newWebhook(srv.URL)
	w.SigningSecret = herald.Secret(signing.NewSecret())
	w.Auth = herald.Auth{Type: herald.AuthBearer, Token: "tok"}
	w.Headers = map[string]string{"X-Env": "bench"}
	signer, err := signing.NewSigner(w.SigningSecret.Reveal())
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"k":"value"},`), 73)
	req := func() Request {
		now := time.Now()
		return Request{MsgID: "msg_bench", Timestamp: now, Body: body, Signature: signer.Sign("msg_bench", now, body)}
	}
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res := s.Send(context.Background(), w, req()); res.Outcome != Success {
				b.Fatalf("outcome %v err %q", res.Outcome, res.Err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if res := s.Send(context.Background(), w, req()); res.Outcome != Success {
					b.Errorf("outcome %v err %q", res.Outcome, res.Err)
					return
				}
			}
		})
	})
}
