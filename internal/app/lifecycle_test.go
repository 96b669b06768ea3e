package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// syncBuf collects a process's output.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProc is a `herald serve` process whose output is kept.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuf
	url  string
	done chan struct{}
	err  error // exit status, once done is closed
}

// runServe starts `herald serve args...` listening on addr with dataDir and
// env, and no other HERALD_* setting from this process's environment (no
// admin token unless env has one). It does not wait for the server.
func runServe(t *testing.T, addr, dataDir string, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(heraldBinary(t), append([]string{"serve"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HERALD_LISTEN="+addr, "HERALD_DATA_DIR="+dataDir,
		"HERALD_ALLOW_CIDRS=127.0.0.0/8", "HERALD_INGEST_RATE_LIMIT=0")
	cmd.Env = append(cmd.Env, env...)
	p := &serveProc{t: t, cmd: cmd, out: &syncBuf{}, url: "http://" + addr, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of herald serve on %s:\n%s", addr, p.out.String())
		}
	})
	return p
}

// exited waits up to d for the process to end and reports whether it did.
func (p *serveProc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *serveProc) healthy(timeout time.Duration) {
	p.t.Helper()
	eventually(p.t, timeout, "herald serve answers /healthz", func() bool {
		select {
		case <-p.done:
			p.t.Fatalf("herald serve exited: %v\n%s", p.err, p.out.String())
		default:
		}
		resp, err := http.Get(p.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// stop sends SIGTERM and requires a clean exit within d; it returns how
// long the exit took.
func (p *serveProc) stop(d time.Duration) time.Duration {
	p.t.Helper()
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.exited(d) {
		p.t.Fatalf("still running %v after SIGTERM", d)
	}
	took := time.Since(start)
	if p.err != nil {
		p.t.Fatalf("exit after SIGTERM: %v", p.err)
	}
	return took
}

var tokenLine = regexp.MustCompile(`(?m)^\s+(hrld_\S+)\s*$`)

// The first start that fails (port in use) creates no token; the next start
// creates and prints one that works; later starts say where it came from and
// how to get access back.
func TestFirstAdminTokenNotLostWhenPortBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	p := runServe(t, busy.Addr().String(), dir, nil)
	if !p.exited(30 * time.Second) {
		t.Fatal("serve on a busy port did not exit")
	}
	if p.err == nil || !strings.Contains(p.out.String(), "listen on") {
		t.Fatalf("serve on a busy port: %v\n%s", p.err, p.out.String())
	}
	if tokenLine.MatchString(p.out.String()) {
		t.Fatalf("a failed start printed a token:\n%s", p.out.String())
	}

	addr := freePort(t)
	p = runServe(t, addr, dir, nil)
	p.healthy(30 * time.Second)
	eventually(t, 10*time.Second, "the token is printed", func() bool { return tokenLine.MatchString(p.out.String()) })
	tok := tokenLine.FindStringSubmatch(p.out.String())[1]
	if code, raw := doReq(t, p.url, tok, "GET", "/api/v1/tokens", nil, nil, nil); code != 200 {
		t.Fatalf("the printed token: %d %s", code, raw)
	}
	p.stop(30 * time.Second)

	p = runServe(t, addr, dir, nil)
	p.healthy(30 * time.Second)
	eventually(t, 10*time.Second, "the later start explains the token", func() bool {
		return strings.Contains(p.out.String(), "Lost it?")
	})
	out := p.out.String()
	if tokenLine.MatchString(out) || !strings.Contains(out, "HERALD_ADMIN_TOKEN") || !strings.Contains(out, "generated at the first start") {
		t.Fatalf("later start output:\n%s", out)
	}
	if code, _ := doReq(t, p.url, tok, "GET", "/api/v1/tokens", nil, nil, nil); code != 200 {
		t.Fatalf("the first token after a restart: %d", code)
	}
	p.stop(30 * time.Second)
}

// A second process on the same SQLite data directory exits at once, saying
// which directory and what to do; the first keeps running.
func TestSecondProcessOnDataDirRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HERALD_ADMIN_TOKEN=" + adminToken}
	first := runServe(t, freePort(t), dir, env)
	first.healthy(30 * time.Second)

	start := time.Now()
	second := runServe(t, freePort(t), dir, env)
	if !second.exited(10 * time.Second) {
		t.Fatal("a second process on the same data directory kept running")
	}
	took := time.Since(start)
	out := second.out.String()
	var ee *exec.ExitError
	if !errors.As(second.err, &ee) || !strings.Contains(out, dir) || !strings.Contains(out, "in use by another Herald process") ||
		!strings.Contains(out, fmt.Sprintf("pid %d", first.cmd.Process.Pid)) || !strings.Contains(out, "HERALD_DATA_DIR") {
		t.Fatalf("second process: %v\n%s", second.err, out)
	}
	t.Logf("second process refused in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
	if code, _ := doReq(t, first.url, adminToken, "GET", "/api/v1/tokens", nil, nil, nil); code != 200 {
		t.Fatalf("the first process after the refusal: %d", code)
	}
	first.stop(30 * time.Second)
}

// SIGTERM ends `herald serve --drain-timeout 3s` cleanly (exit 0) within the
// drain timeout plus a second, while a webhook answers 410 during the drain
// (Herald then emits herald.webhook.disabled), a rate-limited webhook has a
// backlog, and another's endpoint never answers. Twenty runs in a row.
func TestSIGTERMEndsWithinDrainTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary 20 times")
	}
	t.Parallel()
	const drain = 3 * time.Second
	var goneHits, slowHits, hanging atomic.Int64
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		goneHits.Add(1)
		// Answer after the SIGTERM below, so the 410 is handled while
		// draining.
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(gone.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(slow.Close)
	unblock := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hanging.Add(1)
		defer hanging.Add(-1)
		select {
		case <-r.Context().Done():
		case <-unblock:
		}
	}))
	t.Cleanup(func() { close(unblock); hang.Close() })

	var worst time.Duration
	for run := range 20 {
		goneHits.Store(0)
		slowHits.Store(0)
		p := runServe(t, freePort(t), t.TempDir(), []string{"HERALD_ADMIN_TOKEN=" + adminToken}, "--drain-timeout", drain.String())
		p.healthy(30 * time.Second)
		for _, wh := range []map[string]any{
			{"name": "gone", "url": gone.URL, "event_types": []string{"*"}},
			{"name": "slow", "url": slow.URL, "event_types": []string{"*"}, "rate_limit": 1},
			{"name": "hang", "url": hang.URL, "event_types": []string{"*"}, "timeout": "60s"},
		} {
			if code, raw := doReq(t, p.url, adminToken, "POST", "/api/v1/webhooks", wh, nil, nil); code != 201 {
				t.Fatalf("run %d: create webhook %s: %d %s", run, wh["name"], code, raw)
			}
		}
		var evs []map[string]any
		for i := range 30 {
			evs = append(evs, map[string]any{"id": fmt.Sprintf("r%d-%d", run, i), "type": "x"})
		}
		if code, raw := doReq(t, p.url, adminToken, "POST", "/api/v1/events", map[string]any{"events": evs}, nil, nil); code != 202 {
			t.Fatalf("run %d: ingest: %d %s", run, code, raw)
		}
		eventually(t, 20*time.Second, "requests to all three webhooks", func() bool {
			return goneHits.Load() > 0 && slowHits.Load() > 0 && hanging.Load() > 0
		})
		took := p.stop(drain + time.Second)
		worst = max(worst, took)
	}
	t.Logf("20 runs: SIGTERM to exit 0 took at most %v (drain timeout %v)", worst.Round(time.Millisecond), drain)
}
