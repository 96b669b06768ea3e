package app_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
)

// Secrets never leave Herald except where the SPEC says (the signing secret
// in the create and rotate answers, a token in its create answer): planted
// passwords, tokens, header credentials, an mTLS key, signing and challenge
// secrets go through deliveries (successful, retried, failed, gone), test
// sends, challenges (passing and failing), rotation and refused saves; then
// the server's whole log output (debug level) and every API answer are
// searched for them.
func TestSecretsNeverInLogsOrResponses(t *testing.T) {
	t.Parallel()
	h, logs := startSecure(t, nil, app.Options{ChallengeTimeout: testChallengeTimeout})

	ca := newTestCA(t, "Leak test CA")
	client := ca.clientCert(t, "herald", time.Now().Add(time.Hour))
	keyBody := strings.Split(client.keyPEM, "\n")[1] // a line of the key's base64
	planted := map[string]string{
		"basic password":     "planted-basic-pw-0c41",
		"bearer token":       "planted-bearer-tok-77d2",
		"header value":       "planted-header-val-a9e3",
		"mtls header value":  "planted-mtls-hdr-5b10",
		"mtls key":           keyBody,
		"challenge secret":   "planted-challenge-3f8e",
		"new challenge":      "planted-challenge-new-61aa",
		"refused challenge":  "planted-challenge-bad-902c",
		"basic password (2)": "planted-basic-pw-patched-d4e5",
	}
	var answers []string // every API answer: status, headers and body
	call := func(token, method, path string, body any, out any) (int, []byte) {
		t.Helper()
		var hdr http.Header
		code, raw := doReqHeaders(t, h.url, token, method, path, body, out, &hdr)
		hb, _ := json.Marshal(hdr)
		answers = append(answers, method+" "+path+" "+string(hb)+" "+string(raw))
		return code, raw
	}
	must := func(want int, method, path string, body any, out any) {
		t.Helper()
		if code, raw := call(adminToken, method, path, body, out); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, raw)
		}
	}
	// create returns the webhook ID; its answer legitimately shows the
	// signing secret, which is planted for every other answer.
	create := func(body map[string]any) string {
		t.Helper()
		body["event_types"] = []string{"*"}
		body["project"] = "p"
		var c createdWebhook
		must(http.StatusCreated, "POST", "/api/v1/webhooks", body, &c)
		planted["signing secret of "+c.ID] = c.SigningSecret
		answers[len(answers)-1] = strings.ReplaceAll(answers[len(answers)-1], c.SigningSecret, "<shown once>")
		return c.ID
	}

	// Endpoints: flaky basic (500 then 200), bearer refused (401 until
	// failed), header (200), gone (410: the webhook is disabled and logged),
	// mTLS with a header credential, and a Netdata challenge endpoint.
	basic := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	refusing := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token "+r.Header.Get("Authorization"), http.StatusUnauthorized) // echoes the credential back
	})
	plain := newReceiver(t, nil)
	gone := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	mtls := newTLSReceiver(t, &tls.Config{Certificates: []tls.Certificate{ca.serverCert(t).tls}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}, nil)
	challenge := newChallengeEndpoint(t, planted["challenge secret"])

	ids := []string{
		create(map[string]any{"name": "basic", "url": basic.URL, "auth": map[string]any{"type": "basic", "username": "u", "password": planted["basic password"]}}),
		create(map[string]any{"name": "bearer", "url": refusing.URL, "auth": map[string]any{"type": "bearer", "token": planted["bearer token"]}}),
		create(map[string]any{"name": "header", "url": plain.URL, "auth": map[string]any{"type": "header", "header_name": "X-Api-Key", "header_value": planted["header value"]}}),
		create(map[string]any{"name": "gone", "url": gone.URL}),
		create(map[string]any{"name": "mtls", "url": mtls.URL, "tls": map[string]any{"ca_pem": ca.certPEM},
			"auth": map[string]any{"type": "mtls", "cert_pem": client.certPEM, "key_pem": client.keyPEM, "header_name": "X-Gw", "header_value": planted["mtls header value"]}}),
		create(map[string]any{"name": "netdata", "url": challenge.URL, "challenge_secret": planted["challenge secret"]}),
	}
	challengeID := ids[5]

	// Refused saves: a challenge secret the endpoint does not know.
	code, raw := call(adminToken, "POST", "/api/v1/webhooks", map[string]any{"name": "refused", "url": challenge.URL, "project": "p", "event_types": []string{"*"}, "challenge_secret": planted["refused challenge"]}, nil)
	expect422(t, code, raw, "wrong_token")
	code, raw = call(adminToken, "PATCH", "/api/v1/webhooks/"+challengeID, map[string]any{"challenge_secret": planted["new challenge"]}, nil)
	expect422(t, code, raw, "wrong_token")
	// Accepted changes: a new password; the mask sent back keeps a secret.
	must(http.StatusOK, "PATCH", "/api/v1/webhooks/"+ids[0], map[string]any{"auth": map[string]any{"type": "basic", "username": "u", "password": planted["basic password (2)"]}}, nil)
	must(http.StatusOK, "PATCH", "/api/v1/webhooks/"+ids[2], map[string]any{"auth": map[string]any{"header_value": "********"}}, nil)

	// Deliveries of every kind, test sends, challenges.
	pub := h.token("publisher", "p")
	for range 2 {
		if code, raw := call(pub, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "p", "data": map[string]any{"k": "v"}}, nil); code != http.StatusAccepted {
			t.Fatalf("publish: %d %s", code, raw)
		}
	}
	eventually(t, 15*time.Second, "every delivery to finish", func() bool {
		for _, d := range h.deliveries("") {
			if d.State == "pending" || d.State == "retrying" {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		must(http.StatusOK, "POST", "/api/v1/webhooks/"+id+"/test", nil, nil)
	}
	must(http.StatusOK, "POST", "/api/v1/webhooks/"+challengeID+"/verify", nil, nil)
	challenge.set("wrong-secret")
	must(http.StatusOK, "POST", "/api/v1/webhooks/"+challengeID+"/verify", nil, nil)
	var rot rotated
	must(http.StatusOK, "POST", "/api/v1/webhooks/"+ids[2]+"/rotate-secret", nil, &rot)
	planted["rotated signing secret"] = rot.SigningSecret
	answers[len(answers)-1] = strings.ReplaceAll(answers[len(answers)-1], rot.SigningSecret, "<shown once>")
	if res := h.testSend(ids[2]); !res.OK {
		t.Fatalf("test send after rotation: %+v", res)
	}

	// Read everything back, as every role that may.
	var tok struct{ Token string }
	must(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": "planted", "role": "viewer", "projects": []string{"p"}}, &tok)
	planted["api token"] = tok.Token
	answers = answers[:len(answers)-1] // the token's create answer shows it once
	viewer := tok.Token
	for _, token := range []string{adminToken, viewer} {
		var list struct{ Data []delivery }
		call(token, "GET", "/api/v1/deliveries?limit=500", nil, &list)
		for _, d := range list.Data {
			call(token, "GET", "/api/v1/deliveries/"+d.ID, nil, nil)
			call(token, "GET", "/api/v1/events/"+d.EventID, nil, nil)
		}
		call(token, "GET", "/api/v1/webhooks", nil, nil)
		for _, id := range ids {
			call(token, "GET", "/api/v1/webhooks/"+id, nil, nil)
			call(token, "GET", "/api/v1/webhooks/"+id+"/status", nil, nil)
		}
		call(token, "GET", "/api/v1/settings", nil, nil)
	}
	call(adminToken, "GET", "/api/v1/audit?limit=500", nil, nil)
	call(adminToken, "GET", "/api/v1/tokens", nil, nil)

	// The capture is real: the log has lines, among them the 410 that
	// disabled a webhook, and the attempts recorded the refused credential.
	out := logs.String()
	if !strings.Contains(out, "webhook disabled") {
		t.Fatalf("the captured log lacks the disabled webhook; log:\n%s", out)
	}
	all := strings.Join(answers, "\n")
	if !strings.Contains(all, "[redacted]") || !strings.Contains(all, "bad token") {
		t.Fatal("the answers do not include the attempt records")
	}
	for name, secret := range planted {
		if secret == "" {
			t.Fatalf("%s not planted", name)
		}
		for _, needle := range []string{secret, strings.TrimPrefix(secret, "whsec_")} {
			if strings.Contains(out, needle) {
				t.Errorf("%s appears in the server log", name)
			}
			for _, a := range answers {
				if strings.Contains(a, needle) {
					t.Errorf("%s appears in the answer to %s", name, a[:min(len(a), 120)])
				}
			}
		}
	}
}

// API tokens and console passwords are stored only as hashes: the raw
// database (file and WAL, while running and after shutdown) never holds
// them, while it does hold the token's hash (so the scan reads real rows).
func TestTokensAndPasswordsHashedAtRest(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	var tok struct{ Token string }
	h.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "publisher"}, &tok)
	const password = "planted-console-password-8c2b"
	h.mustDo(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"username": "ops", "password": password, "role": "viewer"}, nil)
	check := func(stage string) {
		t.Helper()
		var raw []byte
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(filepath.Join(h.cfg.DataDir, "herald.db") + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		sum := sha256.Sum256([]byte(tok.Token))
		if !bytes.Contains(raw, []byte(hex.EncodeToString(sum[:]))) {
			t.Fatalf("%s: the scan does not see the token row", stage)
		}
		for name, secret := range map[string]string{"API token": tok.Token, "bootstrap token": adminToken, "console password": password} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s: %s stored in clear", stage, name)
			}
		}
	}
	check("running")
	h.close()
	check("after shutdown")
}
