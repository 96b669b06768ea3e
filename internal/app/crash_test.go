package app_test

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// heraldBinary builds cmd/herald once per test run.
func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/herald").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build herald: %v", buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a `herald serve` process.
type proc struct {
	cmd *exec.Cmd
	url string
}

func startProc(t *testing.T, bin, addr, dataDir string) *proc {
	return startProcEnv(t, bin, addr, dataDir)
}

// startProcEnv starts `herald serve` with extra environment settings.
func startProcEnv(t *testing.T, bin, addr, dataDir string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"HERALD_LISTEN="+addr, "HERALD_DATA_DIR="+dataDir, "HERALD_ADMIN_TOKEN="+adminToken,
		"HERALD_ALLOW_CIDRS=127.0.0.0/8", "HERALD_RETRY_SCHEDULE=200ms,200ms,200ms,200ms,200ms",
		// The default lease: recovery after a kill must not wait for it.
		// These tests push tens of thousands of events as fast as they can.
		"HERALD_INGEST_RATE_LIMIT=0",
	)
	cmd.Env = append(cmd.Env, env...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if !testing.Verbose() {
		cmd.Stderr = nil
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, url: "http://" + addr}
	t.Cleanup(func() { p.kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
		}
	}()
	eventually(t, 30*time.Second, "herald serve answers /healthz", func() bool {
		resp, err := http.Get(p.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// A server killed (SIGKILL) with deliveries pending and in flight finishes
// them all after a restart: nothing acknowledged is lost, and with the
// default lease the restarted server sends them at once (it holds the data
// directory lock, so it releases every lease the dead one left) instead of
// waiting for the leases to expire.
func TestKilledServerFinishesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	killAndRestart(t, t.TempDir())
}

// PostgreSQL: a node killed and restarted with the same identity
// (HERALD_NODE_ID) releases its predecessor's leases at start, long before
// they expire and before its predecessor would count as dead.
func TestKilledPostgresNodeFinishesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	dsn := freshSchema(t)
	killAndRestart(t, t.TempDir(), "HERALD_DATABASE_URL="+dsn, "HERALD_SECRET_KEY="+strings.Repeat("cd", 32), "HERALD_NODE_ID=restarted-node")
}

// killAndRestart runs a server with env, holds 300 deliveries in flight,
// kills it with SIGKILL and restarts it on the same data: everything is
// delivered, soon.
func killAndRestart(t *testing.T, dataDir string, env ...string) {
	bin := heraldBinary(t)
	addr := freePort(t)

	release := make(chan struct{})
	var mu sync.Mutex
	got := map[string]int{}
	var arrived atomic.Int64
	var lastNew time.Time // when the last event arrived for the first time
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct{ ID string }
		json.NewDecoder(r.Body).Decode(&env)
		arrived.Add(1)
		select {
		case <-release: // hold every request until the first server is dead
		case <-r.Context().Done():
			return
		}
		mu.Lock()
		if got[env.ID] == 0 {
			lastNew = time.Now()
		}
		got[env.ID]++
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	p1 := startProcEnv(t, bin, addr, dataDir, env...)
	var wh createdWebhook
	code, raw := doReq(t, p1.url, adminToken, "POST", "/api/v1/webhooks", map[string]any{"name": "crash", "url": rc.URL, "event_types": []string{"*"}}, &wh, nil)
	if code != 201 {
		t.Fatalf("create webhook: %d %s", code, raw)
	}
	const n = 300
	for i := 0; i < n; i += 100 {
		var evs []map[string]any
		for j := i; j < i+100; j++ {
			evs = append(evs, map[string]any{"id": "ev" + strconv.Itoa(j), "type": "x", "project": "p"})
		}
		if code, raw := doReq(t, p1.url, adminToken, "POST", "/api/v1/events", map[string]any{"events": evs}, nil, nil); code != 202 {
			t.Fatalf("ingest: %d %s", code, raw)
		}
	}
	// Kill it with requests in flight and rows leased in memory.
	eventually(t, 30*time.Second, "requests in flight", func() bool { return arrived.Load() >= 50 }) // 64 at most: per_webhook_concurrency
	p1.cmd.Process.Signal(syscall.SIGKILL)
	p1.cmd.Wait()
	close(release)

	restart := time.Now()
	p2 := startProcEnv(t, bin, addr, dataDir, env...)
	ready := time.Now()
	// Below the default lease (10 s, renewed every 2.5 s) and the 10 s after
	// which PostgreSQL nodes count a silent node as dead: only releasing the
	// dead process's leases at start delivers everything this soon.
	const bound = 8 * time.Second
	eventually(t, 60*time.Second, "every event delivered after restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	mu.Lock()
	last := lastNew.Sub(restart)
	mu.Unlock()
	t.Logf("restart → serving %v, → last delivery %v (%d events)",
		ready.Sub(restart).Round(time.Millisecond), last.Round(time.Millisecond), n)
	if lastNew.Sub(ready) > bound {
		t.Fatalf("the last delivery arrived %v after the restarted server was serving, want under %v: leases were not released at start", lastNew.Sub(ready), bound)
	}
	// The log agrees: every delivery succeeded.
	eventually(t, 30*time.Second, "all deliveries succeeded in the log", func() bool {
		var page struct {
			Data []struct{ State string }
		}
		doReq(t, p2.url, adminToken, "GET", "/api/v1/deliveries?limit=500&state=succeeded", nil, &page, nil)
		return len(page.Data) == n
	})
	mu.Lock()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	mu.Unlock()
	t.Logf("%d events delivered after SIGKILL and restart; %d duplicate receipts (requests in flight at the kill, at-least-once)", n, dups)

	// A clean stop (SIGTERM) exits 0.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("SIGTERM exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
}
