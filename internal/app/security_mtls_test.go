package app_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/testenv"
)

// testResult is the answer of POST /webhooks/{id}/test.
type testResult struct {
	DeliveryID      string `json:"delivery_id"`
	OK              bool   `json:"ok"`
	StatusCode      int    `json:"status_code"`
	ResponseExcerpt string `json:"response_excerpt"`
	Error           string `json:"error"`
}

func (h *herald) testSend(id string) testResult {
	h.t.Helper()
	var res testResult
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+id+"/test", nil, &res)
	return res
}

func mtlsAuth(c certPair, header string) map[string]any {
	a := map[string]any{"type": "mtls", "cert_pem": c.certPEM, "key_pem": c.keyPEM}
	if header != "" {
		a["header_name"] = "X-Gateway-Key"
		a["header_value"] = header
	}
	return a
}

// mTLS (seed 003) through a real Herald against a Go TLS server that requires
// and verifies client certificates, combined with a header credential the
// endpoint also checks. Without the certificate, or with one the server does
// not trust, the handshake fails and nothing is delivered.
func TestMTLSAgainstGoServer(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	ca := newTestCA(t, "Receiver CA")
	clientCA := newTestCA(t, "Herald client CA")
	client := clientCA.clientCert(t, "herald-client", time.Now().Add(time.Hour))
	stranger := newTestCA(t, "Stranger CA").clientCert(t, "stranger", time.Now().Add(time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	rc := newTLSReceiver(t, &tls.Config{
		Certificates: []tls.Certificate{ca.serverCert(t).tls},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Gateway-Key") != "gw-secret-5a1" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	tlsOpt := map[string]any{"ca_pem": ca.certPEM}

	wh := h.createWebhook(map[string]any{"url": rc.URL, "project": "p", "tls": tlsOpt, "auth": mtlsAuth(client, "gw-secret-5a1")})
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	var ds []delivery
	eventually(t, 10*time.Second, "the mTLS delivery", func() bool {
		ds = h.deliveries("webhook=" + wh.ID)
		return len(ds) == 1 && ds[0].State == "succeeded"
	})
	seen := rc.requests()
	if len(seen) != 1 || seen[0].clientCN != "herald-client" || seen[0].header.Get("X-Gateway-Key") != "gw-secret-5a1" {
		t.Fatalf("the endpoint saw %+v", seen)
	}
	// The key and the header credential are write-only.
	raw := h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, nil)
	if bytes.Contains(raw, []byte("PRIVATE KEY")) || bytes.Contains(raw, []byte("gw-secret-5a1")) {
		t.Fatalf("secret in the webhook view: %s", raw)
	}
	if !bytes.Contains(raw, []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("the client certificate (public) should be shown: %s", raw)
	}

	for name, c := range map[string]struct {
		auth map[string]any
		want string // in the test result's error, or "status 401"
	}{
		"no client certificate":          {map[string]any{"type": "header", "header_name": "X-Gateway-Key", "header_value": "gw-secret-5a1"}, "certificate"},
		"certificate the server refuses": {mtlsAuth(stranger, "gw-secret-5a1"), "certificate"},
		"certificate without the header": {mtlsAuth(client, ""), "status 401"},
	} {
		other := h.createWebhook(map[string]any{"url": rc.URL, "project": "p", "tls": tlsOpt, "auth": c.auth})
		res := h.testSend(other.ID)
		if res.OK {
			t.Fatalf("%s: delivered", name)
		}
		if c.want == "status 401" {
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: %+v", name, res)
			}
		} else if res.StatusCode != 0 || !strings.Contains(res.Error, c.want) {
			t.Fatalf("%s: %+v", name, res)
		}
	}
}

// mTLS material is checked at save: it parses, the key matches the
// certificate, the certificate has not expired; else 400 naming the field.
func TestMTLSValidatedAtSave(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	ca := newTestCA(t, "CA")
	good := ca.clientCert(t, "ok", time.Now().Add(time.Hour))
	other := ca.clientCert(t, "other", time.Now().Add(time.Hour))
	expired := ca.clientCert(t, "old", time.Now().Add(-time.Hour))
	cases := []struct {
		name  string
		auth  map[string]any
		field string
		msg   string
	}{
		{"garbage certificate", map[string]any{"type": "mtls", "cert_pem": "not a cert", "key_pem": good.keyPEM}, "auth.cert_pem", "not a PEM certificate"},
		{"key of another certificate", map[string]any{"type": "mtls", "cert_pem": good.certPEM, "key_pem": other.keyPEM}, "auth.key_pem", "does not match"},
		{"garbage key", map[string]any{"type": "mtls", "cert_pem": good.certPEM, "key_pem": "junk"}, "auth.key_pem", ""},
		{"expired certificate", map[string]any{"type": "mtls", "cert_pem": expired.certPEM, "key_pem": expired.keyPEM}, "auth.cert_pem", "expired"},
		{"no key", map[string]any{"type": "mtls", "cert_pem": good.certPEM}, "auth.key_pem", ""},
		{"reserved header", func() map[string]any {
			a := mtlsAuth(good, "x")
			a["header_name"] = "Content-Type"
			return a
		}(), "auth.header_name", ""},
	}
	for _, tc := range cases {
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", map[string]any{"name": tc.name, "url": "https://example.com/hook", "event_types": []string{"*"}, "auth": tc.auth}, nil)
		if code != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %s", tc.name, code, raw)
		}
		e := decodeError(t, raw)
		if e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.msg) {
			t.Fatalf("%s: %+v", tc.name, e.Error)
		}
		if strings.Contains(string(raw), "PRIVATE KEY") {
			t.Fatalf("%s: the error quotes the key: %s", tc.name, raw)
		}
	}
	var list struct{ Data []any }
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("refused webhooks were stored: %d", len(list.Data))
	}
	h.createWebhook(map[string]any{"url": "https://example.com/hook", "auth": mtlsAuth(good, "x")})
}

// nginxBinary finds Debian's nginx (nginx-light or nginx; `make test`
// installs it when missing).
func nginxBinary(t *testing.T) string {
	return testenv.LookPath(t, "nginx", "apt-get install -y nginx-light (`make test` does it); the mTLS test runs it with ssl_verify_client on",
		"nginx", "/usr/sbin/nginx")
}

// startNginx runs nginx with seed 003's client-certificate configuration:
// ssl_verify_client on, ssl_client_certificate the client CA, and a
// location that also checks the subject, on a free loopback port. It
// returns the https URL.
func startNginx(t *testing.T, server certPair, clientCA certPair, clientCN string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	crt, key, ca := write("server.crt", server.certPEM), write("server.key", server.keyPEM), write("client_ca.pem", clientCA.certPEM)
	addr := freePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers keep access to the test's private temp directory
	}
	for _, sub := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		os.Mkdir(filepath.Join(dir, sub), 0o700)
	}
	conf := write("nginx.conf", fmt.Sprintf(`%[1]s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 64; }
http {
	access_log %[2]s/access.log;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen %[3]s ssl;
		ssl_certificate %[4]s;
		ssl_certificate_key %[5]s;
		ssl_verify_client on;
		ssl_client_certificate %[6]s;
		location / {
			if ($ssl_client_s_dn !~ "CN=%[7]s") {
				return 403;
			}
			default_type text/plain;
			return 200 "accepted $ssl_client_s_dn\n";
		}
	}
}
`, user, dir, addr, crt, key, ca, clientCN))
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), errLog)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), errLog)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "https://" + addr + "/hooks/herald"
}

// mTLS against nginx configured as seed 003 tells receivers to: with
// Herald's client certificate the delivery gets 200; without one nginx
// answers 400 (No required SSL certificate was sent); with a certificate of
// another CA, 400 too.
func TestMTLSAgainstNginx(t *testing.T) {
	t.Parallel()
	serverCA := newTestCA(t, "nginx server CA")
	clientCA := newTestCA(t, "Herald client CA")
	client := clientCA.clientCert(t, "herald.example", time.Now().Add(time.Hour))
	stranger := newTestCA(t, "Stranger CA").clientCert(t, "herald.example", time.Now().Add(time.Hour))
	url := startNginx(t, serverCA.serverCert(t), clientCA, "herald.example")
	h := start(t, nil)
	tlsOpt := map[string]any{"ca_pem": serverCA.certPEM}

	wh := h.createWebhook(map[string]any{"url": url, "project": "p", "tls": tlsOpt, "auth": mtlsAuth(client, "")})
	res := h.testSend(wh.ID)
	if !res.OK || res.StatusCode != http.StatusOK || !strings.Contains(res.ResponseExcerpt, "CN=herald.example") {
		t.Fatalf("with the client certificate: %+v", res)
	}
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	eventually(t, 10*time.Second, "the delivery through nginx", func() bool {
		ds := h.deliveries("webhook=" + wh.ID + "&event_type=x")
		return len(ds) == 1 && ds[0].State == "succeeded"
	})

	none := h.createWebhook(map[string]any{"url": url, "project": "p", "tls": tlsOpt})
	res = h.testSend(none.ID)
	if res.OK || res.StatusCode != http.StatusBadRequest || !strings.Contains(res.ResponseExcerpt, "No required SSL certificate") {
		t.Fatalf("without a client certificate: %+v", res)
	}
	wrong := h.createWebhook(map[string]any{"url": url, "project": "p", "tls": tlsOpt, "auth": mtlsAuth(stranger, "")})
	res = h.testSend(wrong.ID)
	if res.OK || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("with a certificate of another CA: %+v", res)
	}
}
