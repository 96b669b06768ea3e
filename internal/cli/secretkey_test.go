package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/seal"
)

// keyNode is a Herald started for a key-rotation test.
type keyNode struct {
	t *testing.T
	a *app.App
}

func startKeyNode(t *testing.T, cfg config.Config) *keyNode {
	t.Helper()
	a, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := &keyNode{t: t, a: a}
	t.Cleanup(n.stop)
	return n
}

func (n *keyNode) stop() {
	if n.a != nil {
		n.a.Close(context.Background())
		n.a = nil
	}
}

func (n *keyNode) call(method, path string, body any, out any) int {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.a.URL()+path, rd)
	req.Header.Set("Authorization", "Bearer key-admin-token-0123456789abcdefghij")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}

// runCLI runs herald with args and env, returning its output (stdout and
// stderr) and exit code.
func runCLI(env map[string]string, args ...string) (string, int) {
	var out bytes.Buffer
	root := newRootWithEnv(func(k string) string { return env[k] })
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.ExecuteContext(context.Background()); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			out.WriteString("error: " + ee.msg + "\n")
			return out.String(), ee.code
		}
		printError(&out, err)
		return out.String(), 1
	}
	return out.String(), 0
}

// `herald secret-key rotate` re-encrypts the stored secrets: a server started
// afterwards with the new key still authenticates to the endpoint with them,
// and the old key no longer opens them. Both key sources: the generated key
// file (replaced, 0600) and HERALD_SECRET_KEY (new key printed once).
func TestSecretKeyRotate(t *testing.T) {
	t.Parallel()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "u" || p != "rotate-pw-93f1" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(rc.Close)

	for _, mode := range []string{"key file", "HERALD_SECRET_KEY"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Listen = "127.0.0.1:0"
			cfg.DataDir = t.TempDir()
			cfg.AdminToken = "key-admin-token-0123456789abcdefghij"
			cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
			keyFile := filepath.Join(cfg.DataDir, seal.KeyFile)
			if mode == "HERALD_SECRET_KEY" {
				cfg.SecretKey = seal.GenerateKey()
			}

			n := startKeyNode(t, cfg)
			var wh struct{ ID string }
			if code := n.call("POST", "/api/v1/webhooks", map[string]any{"name": "kept", "url": rc.URL, "event_types": []string{"*"},
				"auth": map[string]any{"type": "basic", "username": "u", "password": "rotate-pw-93f1"}}, &wh); code != 201 {
				t.Fatalf("create: %d", code)
			}
			// Rotating while the server runs is refused.
			running := map[string]string{"HERALD_DATA_DIR": cfg.DataDir, "HERALD_LISTEN": n.a.Addr(), "HERALD_SECRET_KEY": cfg.SecretKey}
			if out, code := runCLI(running, "secret-key", "rotate"); code == 0 || !strings.Contains(out, "stop every Herald node first") {
				t.Fatalf("rotation with the server running: exit %d\n%s", code, out)
			}
			n.stop()

			oldKey := cfg.SecretKey
			if mode == "key file" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					t.Fatal(err)
				}
				oldKey = strings.TrimSpace(string(b))
			}
			env := map[string]string{"HERALD_DATA_DIR": cfg.DataDir, "HERALD_LISTEN": "127.0.0.1:0", "HERALD_SECRET_KEY": cfg.SecretKey}
			if out, code := runCLI(env, "secret-key", "rotate", "--new-key", "too-short"); code != 2 || !strings.Contains(out, "--new-key") {
				t.Fatalf("bad --new-key: exit %d\n%s", code, out)
			}
			out, code := runCLI(env, "secret-key", "rotate")
			if code != 0 {
				t.Fatalf("rotate: exit %d\n%s", code, out)
			}
			for _, want := range []string{"Opening the sqlite store", "Re-encrypting every stored secret", "Re-encrypted the secrets of 1 webhook(s).", "Next:"} {
				if !strings.Contains(out, want) {
					t.Fatalf("output lacks %q:\n%s", want, out)
				}
			}
			newCfg := cfg
			if mode == "key file" {
				st, err := os.Stat(keyFile)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
				}
				b, _ := os.ReadFile(keyFile)
				if strings.TrimSpace(string(b)) == oldKey {
					t.Fatal("the key file still holds the old key")
				}
				if _, err := os.Stat(keyFile + ".new"); !os.IsNotExist(err) {
					t.Fatalf("secret.key.new left behind: %v", err)
				}
				if !strings.Contains(out, "Wrote the new key to "+keyFile) || strings.Contains(out, strings.TrimSpace(string(b))) {
					t.Fatalf("output for the key file:\n%s", out)
				}
			} else {
				m := regexp.MustCompile(`HERALD_SECRET_KEY=(\S+)`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("the generated key is not printed:\n%s", out)
				}
				newCfg.SecretKey = m[1]
				if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
					t.Fatalf("a key file was written although the key comes from HERALD_SECRET_KEY: %v", err)
				}
			}

			// The new key reads the secrets: the test send authenticates.
			n = startKeyNode(t, newCfg)
			var res struct {
				OK         bool
				StatusCode int `json:"status_code"`
			}
			if code := n.call("POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res); code != 200 || !res.OK {
				t.Fatalf("test send with the new key: %d %+v", code, res)
			}
			n.stop()

			// The old key no longer opens them.
			oldCfg := cfg
			oldCfg.SecretKey = oldKey
			n = startKeyNode(t, oldCfg)
			if _, err := n.a.Store.GetWebhook(context.Background(), wh.ID); err == nil || !strings.Contains(err.Error(), "cannot decrypt") {
				t.Fatalf("the old key still opens the secrets: %v", err)
			}
		})
	}
}
