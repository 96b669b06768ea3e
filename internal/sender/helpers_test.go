package sender

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// loopback is the allow list the SPEC's tests use.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// recorded is what a receiver saw of one request.
type recorded struct {
	header http.Header
	body   []byte
	proto  int
	peerCN string
	method string
	path   string // path and query as sent
	query  url.Values
}

// receiver is an httptest server that records requests and counts the
// connections opened to it.
type receiver struct {
	srv   *httptest.Server
	conns atomic.Int32
	mu    sync.Mutex
	reqs  []recorded
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *receiver) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the receiver got no request")
	}
	return r.reqs[len(r.reqs)-1]
}

// newReceiver starts a recording server running h (200 with an empty body
// when h is nil). tlsCfg nil means plain HTTP; a non-nil config (possibly
// empty: httptest's own certificate) means HTTPS.
func newReceiver(t *testing.T, h http.HandlerFunc, tlsCfg *tls.Config, http2 bool) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := recorded{header: req.Header.Clone(), body: body, proto: req.ProtoMajor,
			method: req.Method, path: req.RequestURI, query: req.URL.Query()}
		if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
			rec.peerCN = req.TLS.PeerCertificates[0].Subject.CommonName
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some tests
	if tlsCfg != nil {
		r.srv.TLS = tlsCfg
		r.srv.EnableHTTP2 = http2
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	return r
}

var webhookSeq atomic.Int64

// newWebhook returns a saved-looking webhook aimed at url.
func newWebhook(url string) *herald.Webhook {
	return &herald.Webhook{
		ID:              "wh_" + strconv.FormatInt(webhookSeq.Add(1), 10),
		URL:             url,
		Enabled:         true,
		StandardHeaders: true,
		UpdatedAt:       time.Unix(1_700_000_000, 0),
	}
}

func newRequest(body string) Request {
	return Request{MsgID: "msg_test", Timestamp: time.Now(), Body: []byte(body)}
}

// pair is a certificate with its key, as PEM and as a tls.Certificate.
type pair struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
	keyPEM  string
	tls     tls.Certificate
}

// newCA makes a self-signed CA.
func newCA(t *testing.T, cn string) pair {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	return issue(t, tmpl, nil)
}

// leaf makes a certificate signed by ca: a server certificate for 127.0.0.1
// or a client certificate.
func (ca pair) leaf(t *testing.T, cn string, client bool) pair {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses = nil
	}
	return issue(t, tmpl, &ca)
}

var serial atomic.Int64

func issue(t *testing.T, tmpl *x509.Certificate, parent *pair) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
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
	p := pair{
		cert:    cert,
		key:     key,
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
	p.tls, err = tls.X509KeyPair([]byte(p.certPEM), []byte(p.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
