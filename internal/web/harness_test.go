package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

const adminToken = "test-admin-token-0123456789abcdefghij"

// server is a real Herald (SQLite in a temp dir, loopback receivers allowed).
type server struct {
	t   *testing.T
	app *app.App
	url string
}

func startHerald(t *testing.T) *server {
	t.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	cfg.Delivery.RetrySchedule = []string{"200ms", "200ms"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, app.Options{Logger: log})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &server{t: t, app: a, url: a.URL()}
}

// api calls the JSON API with a bearer token; out (if not nil) receives the
// answer of a 2xx.
func (s *server) api(token, method, path string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+"/api/v1"+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// mustAPI is api that fails the test unless the status is want.
func (s *server) mustAPI(want int, method, path string, body, out any) {
	s.t.Helper()
	if code := s.api(adminToken, method, path, body, out); code != want {
		s.t.Fatalf("%s %s: status %d, want %d", method, path, code, want)
	}
}

// createToken makes an API token with role (and projects) and returns its value.
func (s *server) createToken(role string, projects ...string) string {
	s.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if projects == nil {
		projects = []string{}
	}
	s.mustAPI(http.StatusCreated, "POST", "/tokens", map[string]any{"name": role + "-token", "role": role, "projects": projects}, &out)
	return out.Token
}

func (s *server) createWebhook(body map[string]any) string {
	s.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	s.mustAPI(http.StatusCreated, "POST", "/webhooks", body, &out)
	return out.ID
}

// client is a browser without JavaScript: a cookie jar, redirects followed,
// and the CSRF token of the last page seen.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
	lang string
}

func (s *server) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.t, base: s.url, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return resp.StatusCode, body
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form with the current CSRF token (unless v sets "csrf").
func (c *client) post(path string, v url.Values) (int, string) {
	c.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// loginToken logs in with an API token and fails the test unless it works.
func (c *client) loginToken(token string) {
	c.t.Helper()
	if code, _ := c.get("/login"); code != http.StatusOK {
		c.t.Fatalf("GET /login: %d", code)
	}
	code, body := c.post("/login", url.Values{"method": {"token"}, "token": {token}})
	if code != http.StatusOK || !strings.Contains(body, `action="/logout"`) {
		c.t.Fatalf("login: status %d:\n%s", code, body)
	}
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("page does not contain %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("page contains %q:\n%s", w, body)
		}
	}
}
