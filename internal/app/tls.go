package app

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certFiles serves the certificate of server.tls_cert_file and
// server.tls_key_file, and re-reads them when either file changes (checked
// at each TLS handshake, a stat of each file), so that a renewed certificate
// is used without a restart. A pair that fails to load keeps the previous
// one in use, with a warning in the log.
type certFiles struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	version []byte // the files' sizes and modification times when loaded
	failed  []byte // the version that last failed to load (warned once)
}

// loadCertFiles loads the pair once, so that a bad pair stops the start
// with a clear error.
func loadCertFiles(certFile, keyFile string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{certFile: certFile, keyFile: keyFile, log: log}
	v, err := c.stat()
	if err == nil {
		err = c.load(v)
	}
	if err != nil {
		return nil, fmt.Errorf("server.tls_cert_file %s / server.tls_key_file %s (HERALD_TLS_CERT_FILE, HERALD_TLS_KEY_FILE): %w", certFile, keyFile, err)
	}
	return c, nil
}

func (c *certFiles) stat() ([]byte, error) {
	var b bytes.Buffer
	for _, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%d:%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return b.Bytes(), nil
}

func (c *certFiles) load(version []byte) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.version = &cert, version
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, err := c.stat(); err == nil && !bytes.Equal(v, c.version) && !bytes.Equal(v, c.failed) {
		if err := c.load(v); err != nil {
			c.failed = v
			// Often a renewal half written (certificate before key): keep the
			// old pair and try again when the files change again.
			c.log.Warn("TLS certificate files changed but do not load; still serving the previous certificate",
				"cert_file", c.certFile, "key_file", c.keyFile, "error", err)
		} else {
			c.log.Info("TLS certificate reloaded", "cert_file", c.certFile, "not_after", c.cert.Leaf.NotAfter.Format(time.RFC3339))
		}
	}
	return c.cert, nil
}

// serverTLS is the HTTPS configuration of the server, nil when Herald
// serves plain HTTP.
func (a *App) serverTLS() (*tls.Config, error) {
	if !a.cfg.Server.TLS() {
		return nil, nil
	}
	cf, err := loadCertFiles(a.cfg.Server.TLSCertFile, a.cfg.Server.TLSKeyFile, a.log)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cf.getCertificate}, nil
}
