package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/service"
)

// console is a browser on the login page: it keeps the cookies it is given
// itself (a cookie jar would not send Secure cookies back over plain HTTP,
// which is what a TLS-terminating proxy does), sends extra headers with every
// request (X-Forwarded-*), and may connect from a chosen loopback address.
type console struct {
	t       *testing.T
	base    string
	hc      *http.Client
	hdr     http.Header
	cookies map[string]*http.Cookie
	csrf    string
}

type consoleOpts struct {
	from  string // source IP of the TCP connection ("" = any)
	hdr   http.Header
	roots *x509.CertPool // trusted CAs for an https:// base
}

func newConsole(t *testing.T, base string, o consoleOpts) *console {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	if o.from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.from)}
	}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	if o.roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: o.roots}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &console{
		t: t, base: base, hdr: o.hdr, cookies: map[string]*http.Cookie{},
		hc: &http.Client{Transport: tr, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

var loginCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request with the console's cookies and headers; it returns the
// status, the body and the cookies the answer set.
func (c *console) do(method, path string, form url.Values) (int, string, map[string]*http.Cookie) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	set := map[string]*http.Cookie{}
	for _, ck := range resp.Cookies() {
		set[ck.Name] = ck
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if m := loginCSRF.FindStringSubmatch(string(raw)); m != nil {
		c.csrf = m[1]
	}
	return resp.StatusCode, string(raw), set
}

// login posts the password form (loading the login page first, once, for
// its CSRF token): 303 is a session, 401 a wrong password, 429 throttled.
func (c *console) login(user, pass string) (int, string, map[string]*http.Cookie) {
	c.t.Helper()
	if c.csrf == "" {
		if code, body, _ := c.do("GET", "/login", nil); code != http.StatusOK || c.csrf == "" {
			c.t.Fatalf("GET /login: %d\n%s", code, body)
		}
	}
	return c.do("POST", "/login", url.Values{"method": {"password"}, "username": {user}, "password": {pass}, "csrf": {c.csrf}})
}

// mustLogin fails the test unless user logs in with pass; it returns the
// cookies of the answer.
func (c *console) mustLogin(what, user, pass string) map[string]*http.Cookie {
	c.t.Helper()
	code, body, set := c.login(user, pass)
	if code != http.StatusSeeOther || set["herald_session"] == nil {
		c.t.Fatalf("%s: login of %s: %d, want 303 with a session\n%s", what, user, code, body)
	}
	return set
}

func (c *console) mustFail(what, user, pass string, want int) string {
	c.t.Helper()
	code, body, set := c.login(user, pass)
	if code != want || set["herald_session"] != nil {
		c.t.Fatalf("%s: login of %s: %d, want %d\n%s", what, user, code, want, body)
	}
	return body
}

const signinPassword = "correct horse battery"

func createUsers(h *herald, names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.mustDo(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"username": n, "password": signinPassword, "role": "viewer"}, nil)
	}
}

func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// Failed logins lock a user out from the address they came from only: the
// same user from another address and other users from the same address still
// log in. Addresses are told apart by the TCP source (loopback aliases) or,
// behind a trusted proxy, by X-Forwarded-For.
func TestSigninLockoutPerAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		trusted      []string
		optsA, optsB consoleOpts
	}{
		{name: "source addresses", optsA: consoleOpts{from: "127.0.0.2"}, optsB: consoleOpts{from: "127.0.0.3"}},
		{name: "trusted proxy", trusted: []string{"127.0.0.1"},
			optsA: consoleOpts{from: "127.0.0.1", hdr: xff("203.0.113.1")}, optsB: consoleOpts{from: "127.0.0.1", hdr: xff("198.51.100.1, 203.0.113.2")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(c *config.Config) { c.Server.TrustedProxies = tc.trusted })
			createUsers(h, "alice", "bob")
			a := newConsole(t, h.url, tc.optsA)
			for i := range service.LoginMaxFailures {
				a.mustFail("wrong password "+strconv.Itoa(i), "alice", "wrong password", http.StatusUnauthorized)
			}
			body := a.mustFail("right password from the guessing address", "alice", signinPassword, http.StatusTooManyRequests)
			if !strings.Contains(body, "too many failed logins for this user; try again in 15 minutes") {
				t.Fatalf("throttled page does not say why:\n%s", body)
			}
			newConsole(t, h.url, tc.optsB).mustLogin("alice from another address", "alice", signinPassword)
			a.mustLogin("bob from the guessing address", "bob", signinPassword)
		})
	}
}

// One password sprayed over many usernames from one address is refused after
// the per-address limit, for every username; other addresses are not affected.
// The limit is lowered to 8 here (each failure costs a bcrypt comparison,
// slow under the race detector); the default of 50 is tested in the service.
func TestSigninSprayPerAddress(t *testing.T) {
	t.Parallel()
	const addrLimit = 8
	h, _ := startSecure(t, func(c *config.Config) { c.Server.TrustedProxies = []string{"127.0.0.0/8"} },
		app.Options{LoginLimits: service.LoginLimits{MaxAddrFailures: addrLimit}})
	createUsers(h, "alice")
	spray := newConsole(t, h.url, consoleOpts{hdr: xff("203.0.113.7")})
	for i := range addrLimit {
		spray.mustFail("spray "+strconv.Itoa(i), "user"+strconv.Itoa(i), "Summer2026!", http.StatusUnauthorized)
	}
	body := spray.mustFail("spray after the limit", "user-next", "Summer2026!", http.StatusTooManyRequests)
	if !strings.Contains(body, "too many failed logins from this address; try again in 15 minutes") {
		t.Fatalf("throttled page does not say why:\n%s", body)
	}
	spray.mustFail("a real user from the spraying address", "alice", signinPassword, http.StatusTooManyRequests)
	code, _, _ := spray.do("POST", "/login", url.Values{"method": {"token"}, "token": {adminToken}, "csrf": {spray.csrf}})
	if code != http.StatusTooManyRequests {
		t.Fatalf("token login from the spraying address: %d, want 429", code)
	}
	newConsole(t, h.url, consoleOpts{hdr: xff("203.0.113.8")}).mustLogin("another address", "alice", signinPassword)
}

// X-Forwarded-For from a peer that is not a trusted proxy is ignored: a
// guesser cannot dodge the throttle by inventing addresses, nor lock out the
// addresses it names.
func TestSigninUntrustedForwardedFor(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8"} })
	createUsers(h, "alice")
	for i := range service.LoginMaxFailures {
		c := newConsole(t, h.url, consoleOpts{from: "127.0.0.4", hdr: xff("203.0.113." + strconv.Itoa(10+i))})
		c.mustFail("wrong password "+strconv.Itoa(i), "alice", "wrong password", http.StatusUnauthorized)
	}
	newConsole(t, h.url, consoleOpts{from: "127.0.0.4", hdr: xff("203.0.113.99")}).
		mustFail("a fresh forged address", "alice", signinPassword, http.StatusTooManyRequests)
	newConsole(t, h.url, consoleOpts{from: "127.0.0.5", hdr: xff("127.0.0.4")}).
		mustLogin("another source naming the locked one", "alice", signinPassword)
}

// The session cookie is Secure behind a TLS-terminating proxy that is trusted
// and says X-Forwarded-Proto: https, and only then.
func TestSigninForwardedProtoSecure(t *testing.T) {
	t.Parallel()
	trusted := start(t, func(c *config.Config) { c.Server.TrustedProxies = []string{"127.0.0.1"} })
	untrusted := start(t, func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8"} })
	createUsers(trusted, "alice")
	createUsers(untrusted, "alice")
	for _, tc := range []struct {
		name   string
		h      *herald
		proto  string
		secure bool
	}{
		{"trusted proxy, https", trusted, "https", true},
		{"trusted proxy, http", trusted, "http", false},
		{"trusted proxy, no header", trusted, "", false},
		{"untrusted peer, https", untrusted, "https", false},
	} {
		hdr := http.Header{}
		if tc.proto != "" {
			hdr.Set("X-Forwarded-Proto", tc.proto)
		}
		c := newConsole(t, tc.h.url, consoleOpts{from: "127.0.0.1", hdr: hdr})
		_, _, set := c.do("GET", "/login", nil)
		if ck := set["herald_csrf"]; ck == nil || ck.Secure != tc.secure {
			t.Errorf("%s: csrf cookie %v, want Secure=%v", tc.name, ck, tc.secure)
		}
		set = c.mustLogin(tc.name, "alice", signinPassword)
		ck := set["herald_session"]
		if ck.Secure != tc.secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s: session cookie %v, want Secure=%v HttpOnly SameSite=Strict", tc.name, ck, tc.secure)
		}
	}
}

// writeCert writes a certificate and key as PEM files.
func writeCert(t *testing.T, p certPair, certFile, keyFile string) {
	t.Helper()
	// Key first: a reader between the writes sees a mismatched pair, which
	// must keep the previous certificate in use.
	if err := os.WriteFile(keyFile, []byte(p.keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, []byte(p.certPEM), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With server.tls_cert_file and tls_key_file Herald serves HTTPS itself: its
// URL is https://, cookies are Secure, plain HTTP is refused, and a renewed
// certificate is picked up without a restart.
func TestSigninServeHTTPS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := newTestCA(t, "herald test CA")
	writeCert(t, ca.serverCert(t), certFile, keyFile)
	h := start(t, func(c *config.Config) { c.Server.TLSCertFile, c.Server.TLSKeyFile = certFile, keyFile })
	if !strings.HasPrefix(h.url, "https://127.0.0.1:") {
		t.Fatalf("URL %s, want https://", h.url)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)

	c := newConsole(t, h.url, consoleOpts{roots: roots})
	// Create the user over the API through the same verified TLS.
	code, body := apiTLS(t, c.hc, h.url, "/api/v1/users", `{"username":"alice","password":"`+signinPassword+`","role":"viewer"}`)
	if code != http.StatusCreated {
		t.Fatalf("create user over HTTPS: %d %s", code, body)
	}
	ck := c.mustLogin("over HTTPS", "alice", signinPassword)["herald_session"]
	if !ck.Secure || !ck.HttpOnly {
		t.Fatalf("session cookie over HTTPS: %v, want Secure and HttpOnly", ck)
	}

	// Plain HTTP to the TLS port gets no console.
	plain := newConsole(t, "http://"+h.app.Addr(), consoleOpts{})
	if code, _, _ := plain.do("GET", "/login", nil); code != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the HTTPS port: %d, want 400", code)
	}

	// A renewed certificate (from another CA here) is served once the files
	// change; a half-written pair keeps the old one in use meanwhile.
	ca2 := newTestCA(t, "herald renewed CA")
	renewed := ca2.serverCert(t)
	if err := os.WriteFile(keyFile, []byte(renewed.keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := c.do("GET", "/healthz", nil); code != http.StatusOK {
		t.Fatalf("with a half-written renewal: %d, want the old certificate to keep working", code)
	}
	if err := os.WriteFile(certFile, []byte(renewed.certPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	roots2 := x509.NewCertPool()
	roots2.AddCert(ca2.cert)
	eventually(t, 10*time.Second, "the renewed certificate to be served", func() bool {
		return handshakeVerifies(h.app.Addr(), roots2)
	})
	newConsole(t, h.url, consoleOpts{roots: roots2}).mustLogin("after the renewal", "alice", signinPassword)
}

func apiTLS(t *testing.T, hc *http.Client, base, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func handshakeVerifies(addr string, roots *x509.CertPool) bool {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// Bad TLS and proxy settings stop the start with a message naming them.
func TestSigninSettingsRefusedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, "herald test CA")
	good, other := ca.serverCert(t), ca.serverCert(t)
	certFile, keyFile, otherKey := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "other-key.pem")
	writeCert(t, good, certFile, keyFile)
	if err := os.WriteFile(otherKey, []byte(other.keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() config.Config {
		cfg := config.Defaults()
		cfg.Listen = "127.0.0.1:0"
		cfg.DataDir = t.TempDir()
		cfg.AdminToken = adminToken
		return cfg
	}

	// Refused by New (configuration).
	for _, tc := range []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"cert without key", func(c *config.Config) { c.Server.TLSCertFile = certFile }, "set both to serve HTTPS, or neither"},
		{"key without cert", func(c *config.Config) { c.Server.TLSKeyFile = keyFile }, "set both to serve HTTPS, or neither"},
		{"bad proxy", func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "my-proxy"} }, `server.trusted_proxies (HERALD_TRUSTED_PROXIES): "my-proxy" is not an IP address or a CIDR`},
	} {
		cfg := base()
		tc.mod(&cfg)
		a, err := app.New(context.Background(), cfg, app.Options{})
		if err == nil {
			a.Close(context.Background())
			t.Errorf("%s: started", tc.name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to contain %q", tc.name, err, tc.want)
		}
	}

	// Refused by Start (the files themselves).
	for _, tc := range []struct {
		name      string
		cert, key string
		want      string
	}{
		{"missing cert file", filepath.Join(dir, "nope.pem"), keyFile, "server.tls_cert_file " + filepath.Join(dir, "nope.pem")},
		{"key of another certificate", certFile, otherKey, "private key does not match public key"},
		{"not PEM", keyFile, certFile, "server.tls_cert_file " + keyFile},
	} {
		cfg := base()
		cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile = tc.cert, tc.key
		a, err := app.New(context.Background(), cfg, app.Options{})
		if err != nil {
			t.Fatalf("%s: New: %v", tc.name, err)
		}
		err = a.Start(context.Background())
		if err == nil {
			t.Errorf("%s: started", tc.name)
		} else if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "HERALD_TLS_CERT_FILE") {
			t.Errorf("%s: %v, want it to contain %q and the variable names", tc.name, err, tc.want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := a.Close(ctx); err != nil {
			t.Errorf("%s: close: %v", tc.name, err)
		}
		cancel()
	}
}
