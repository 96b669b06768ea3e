package app_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/config"
)

// tcpProxy forwards loopback connections to target and can cut them all, to
// play a database that goes away and comes back.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.DialTimeout("tcp", target, 2*time.Second)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// When the database goes away, ingest answers 503 with Retry-After (nothing
// is acknowledged that is not stored); when it comes back, ingest works again
// and dispatch resumes by itself.
func TestDatabaseDownAndBack(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	h := start(t, func(c *config.Config) {
		c.Storage = config.Storage{Driver: "postgres", DatabaseURL: u.String()}
		c.SecretKey = strings.Repeat("cd", 32)
	})
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL})
	h.sendEvents(map[string]any{"type": "x", "project": "p"})
	eventually(t, 10*time.Second, "first delivery", func() bool { return rc.count() == 1 })

	proxy.cut()
	var code int
	var hdr http.Header
	eventually(t, 20*time.Second, "ingest refused while the database is down", func() bool {
		req, _ := http.NewRequest("POST", h.url+"/api/v1/events", strings.NewReader(`{"type":"x","project":"p"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		code, hdr = resp.StatusCode, resp.Header
		return code == http.StatusServiceUnavailable
	})
	if hdr.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After")
	}
	resp, err := http.Get(h.url + "/readyz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while the database is down: %d", resp.StatusCode)
		}
	}

	proxy.restore()
	eventually(t, 30*time.Second, "ingest accepted again", func() bool {
		c, _ := h.do(adminToken, "POST", "/api/v1/events", map[string]any{"type": "x", "project": "p"}, nil)
		return c == http.StatusAccepted
	})
	eventually(t, 30*time.Second, "dispatch resumed", func() bool { return rc.count() >= 2 })
}
