package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

// logBuffer captures everything a server logs, for tests that grep it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSecure is start with app options (a short challenge timeout) and a
// logger at debug level that writes into the returned buffer.
func startSecure(t *testing.T, mod func(*config.Config), o app.Options) (*herald, *logBuffer) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	cfg.Delivery.RetrySchedule = []string{"200ms", "200ms", "200ms"}
	cfg.Delivery.Workers = 32
	if mod != nil {
		mod(&cfg)
	}
	logs := &logBuffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, o)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &herald{t: t, app: a, url: a.URL(), cfg: cfg}
	t.Cleanup(func() {
		h.close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return h, logs
}

// noLoopback drops the test default network.allow_cidrs: the SSRF guard
// then refuses loopback, as in production.
func noLoopback(c *config.Config) { c.Network.AllowCIDRs = nil }

// certPair is a certificate with its key, as PEM and as a tls.Certificate.
type certPair struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
	keyPEM  string
	tls     tls.Certificate
}

var certSerial atomic.Int64

// newTestCA makes a self-signed CA valid for an hour around now.
func newTestCA(t *testing.T, cn string) certPair {
	t.Helper()
	return issueCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, time.Now().Add(time.Hour))
}

// serverCert is a server certificate for 127.0.0.1 and localhost signed by ca.
func (ca certPair) serverCert(t *testing.T) certPair {
	t.Helper()
	return issueCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "receiver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	}, &ca, time.Now().Add(time.Hour))
}

// clientCert is a client certificate named cn signed by ca, valid until notAfter.
func (ca certPair) clientCert(t *testing.T, cn string, notAfter time.Time) certPair {
	t.Helper()
	return issueCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca, notAfter)
}

func issueCert(t *testing.T, tmpl *x509.Certificate, parent *certPair, notAfter time.Time) certPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(certSerial.Add(1))
	tmpl.NotBefore = time.Now().Add(-2 * time.Hour)
	tmpl.NotAfter = notAfter
	parentCert, parentKey := tmpl, key
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := certPair{
		cert: cert, key: key,
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
	if p.tls, err = tls.X509KeyPair([]byte(p.certPEM), []byte(p.keyPEM)); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsReceiver is an HTTPS endpoint on loopback with cfg; it records the
// requests it answers and the client certificate's CN of each.
type tlsReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen []tlsSeen
}

type tlsSeen struct {
	header   http.Header
	clientCN string
}

func newTLSReceiver(t *testing.T, cfg *tls.Config, h http.HandlerFunc) *tlsReceiver {
	t.Helper()
	rc := &tlsReceiver{}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s := tlsSeen{header: r.Header.Clone()}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			s.clientCN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		rc.mu.Lock()
		rc.seen = append(rc.seen, s)
		rc.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	rc.Server.TLS = cfg
	rc.Server.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	rc.StartTLS()
	t.Cleanup(rc.Close)
	return rc
}

func (rc *tlsReceiver) requests() []tlsSeen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]tlsSeen(nil), rc.seen...)
}

// netdataChallenge is seed 003's Python recipe in Go: answer a GET with
// crc_token by {"response_token": "sha256=" + base64(HMAC-SHA256(key, token))}.
func netdataChallenge(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := []byte(r.URL.Query().Get("crc_token"))
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(token)
		response := map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))}
		json.NewEncoder(w).Encode(response)
	}
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func decodeError(t *testing.T, raw []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error body: %s", raw)
	}
	return e
}

// doReqHeaders is doReq that also hands back the response headers.
func doReqHeaders(t *testing.T, base, token, method, path string, body any, out any, hdr *http.Header) (int, []byte) {
	t.Helper()
	code, raw, h := request(t, base, token, method, path, body, out, nil)
	*hdr = h
	return code, raw
}
