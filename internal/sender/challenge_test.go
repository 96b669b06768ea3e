package sender

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// netdataRecipe is seed 003's Flask handler in Go: HMAC-SHA256 of the
// crc_token keyed with the shared secret, base64, behind "sha256=", as JSON.
func netdataRecipe(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := []byte(r.URL.Query().Get("crc_token"))
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(token)
		response := map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))}
		json.NewEncoder(w).Encode(response)
	}
}

// testChallengeTimeout is the challenge limit in TestChallenge: far above
// what an answering endpoint needs on a loaded machine, far below the 30s the
// slow endpoint hangs.
const testChallengeTimeout = 3 * time.Second

func TestChallenge(t *testing.T) {
	t.Parallel()
	const secret = "challenge-secret-1"
	slowDone := make(chan struct{})
	t.Cleanup(func() { close(slowDone) })
	cases := []struct {
		name    string
		handler http.HandlerFunc
		secret  string
		reason  ChallengeReason
		status  int
		errHas  string
	}{
		{"recipe passes", netdataRecipe(secret), secret, "", 200, ""},
		{"wrong secret", netdataRecipe("another-secret"), secret, ChallengeWrongToken, 200, "does not match"},
		{"token of another crc", func(w http.ResponseWriter, r *http.Request) {
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte("replayed-crc-token"))
			json.NewEncoder(w).Encode(map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))})
		}, secret, ChallengeWrongToken, 200, "does not match"},
		{"slow answer", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-slowDone:
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			netdataRecipe(secret)(w, r)
		}, secret, ChallengeTimeout, 0, "within " + testChallengeTimeout.String()},
		{"bad JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>ok</html>")) }, secret, ChallengeBadJSON, 200, `began with "<html>ok</html>"`},
		{"no response_token", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"token":"x"}`)) }, secret, ChallengeBadJSON, 200, "no \"response_token\""},
		{"response_token not a string", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"response_token":42}`)) }, secret, ChallengeBadJSON, 200, "response_token is a JSON number"},
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, secret, ChallengeStatus, 500, "answered 500"},
		{"201 is not 200", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); netdataRecipe(secret)(w, r) }, secret, ChallengeStatus, 201, "want 200"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				netdataRecipe(secret)(w, r)
				return
			}
			http.Redirect(w, r, "/elsewhere?"+r.URL.RawQuery, http.StatusFound)
		}, secret, ChallengeStatus, 302, "redirects are not followed"},
		{"no secret", netdataRecipe(""), "", ChallengeConfig, 0, "no challenge_secret"},
	}
	s := New(Options{AllowCIDRs: loopback, ChallengeTimeout: testChallengeTimeout})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tc.handler, nil, false)
			w := newWebhook(r.srv.URL + "/hook?space=s1")
			w.ChallengeSecret = herald.Secret(tc.secret)
			res := s.Challenge(context.Background(), w)
			if res.Reason != tc.reason || res.StatusCode != tc.status || !strings.Contains(res.Err, tc.errHas) {
				t.Fatalf("reason %q status %d err %q, want %q %d %q", res.Reason, res.StatusCode, res.Err, tc.reason, tc.status, tc.errHas)
			}
			if res.OK() != (tc.reason == "") {
				t.Fatalf("OK() = %v with reason %q", res.OK(), res.Reason)
			}
			if tc.secret != "" && strings.Contains(res.Err, tc.secret) {
				t.Fatalf("the error quotes the secret: %q", res.Err)
			}
			if tc.reason == ChallengeTimeout && (res.Latency < testChallengeTimeout || res.Latency > 15*time.Second) {
				t.Fatalf("timeout took %s", res.Latency)
			}
			if tc.reason == ChallengeConfig {
				return
			}
			for _, rec := range r.reqs0() {
				if strings.HasPrefix(rec.path, "/elsewhere") {
					t.Fatalf("the redirect was followed")
				}
			}
		})
	}
}

// The challenge request is a GET carrying a fresh random crc_token next to
// the URL's own query, with the webhook's auth and extra headers.
func TestChallengeRequest(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, netdataRecipe("k"), nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL + "/netdata?space=s1")
	w.ChallengeSecret = "k"
	w.Headers = map[string]string{"X-Space": "s1"}
	w.Auth = herald.Auth{Type: herald.AuthBearer, Token: "bearer-1"}
	tokens := map[string]bool{}
	for range 2 {
		if res := s.Challenge(context.Background(), w); !res.OK() {
			t.Fatalf("challenge: %+v", res)
		}
		got := r.last(t)
		if got.method != http.MethodGet || !strings.HasPrefix(got.path, "/netdata?") {
			t.Fatalf("request %s %s", got.method, got.path)
		}
		q := got.query
		if q.Get("space") != "s1" || len(q.Get("crc_token")) < 32 {
			t.Fatalf("query %v", q)
		}
		tokens[q.Get("crc_token")] = true
		if got.header.Get("Authorization") != "Bearer bearer-1" || got.header.Get("X-Space") != "s1" || got.header.Get("User-Agent") != herald.UserAgent() {
			t.Fatalf("headers %v", got.header)
		}
	}
	if len(tokens) != 2 {
		t.Fatal("the crc_token is not random")
	}
}

// The challenge goes through the SSRF guard like a delivery.
func TestChallengeBlockedByGuard(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, netdataRecipe("k"), nil, false)
	s := New(Options{}) // no allow_cidrs: loopback is refused
	w := newWebhook(r.srv.URL)
	w.ChallengeSecret = "k"
	res := s.Challenge(context.Background(), w)
	if res.Reason != ChallengeBlocked || !strings.Contains(res.Err, "loopback") {
		t.Fatalf("reason %q err %q", res.Reason, res.Err)
	}
	if r.count() != 0 {
		t.Fatal("the guard let the challenge through")
	}
	// A host name is checked by the addresses it resolves to.
	s = New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("127.0.0.1")}}})
	w = newWebhook(hostURL(t, r, "rebind.example"))
	w.ChallengeSecret = "k"
	if res := s.Challenge(context.Background(), w); res.Reason != ChallengeBlocked {
		t.Fatalf("name resolving to loopback: %+v", res)
	}
}

// The challenge uses the webhook's TLS options and client certificate, and
// TLS failures are network failures with the reason.
func TestChallengeTLSAndMTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "Challenge CA")
	server := ca.leaf(t, "receiver", false)
	client := ca.leaf(t, "herald", true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	r := newReceiver(t, netdataRecipe("k"), &tls.Config{
		Certificates: []tls.Certificate{server.tls},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.ChallengeSecret = "k"
	w.TLS.CAPEM = ca.certPEM
	w.Auth = herald.Auth{Type: herald.AuthMTLS, CertPEM: client.certPEM, KeyPEM: herald.Secret(client.keyPEM)}
	if res := s.Challenge(context.Background(), w); !res.OK() {
		t.Fatalf("mtls challenge: %+v", res)
	}
	if cn := r.last(t).peerCN; cn != "herald" {
		t.Fatalf("client CN %q", cn)
	}
	noCert := newWebhook(r.srv.URL)
	noCert.ChallengeSecret = "k"
	noCert.TLS.CAPEM = ca.certPEM
	if res := s.Challenge(context.Background(), noCert); res.Reason != ChallengeNetwork || res.Err == "" {
		t.Fatalf("without client certificate: %+v", res)
	}
	untrusted := newWebhook(r.srv.URL)
	untrusted.ChallengeSecret = "k"
	if res := s.Challenge(context.Background(), untrusted); res.Reason != ChallengeNetwork || !strings.Contains(res.Err, "unknown authority") {
		t.Fatalf("unverified server: %+v", res)
	}
}
