package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald/internal/testenv"
)

// countingReceiver counts receipts per webhook-id (one per delivery).
type countingReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	seen     map[string]int
	lastNew  time.Time // when a delivery last arrived for the first time
	receipts atomic.Int64
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	c := &countingReceiver{seen: map[string]int{}}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		c.mu.Lock()
		if c.seen[id] == 0 {
			c.lastNew = time.Now()
		}
		c.seen[id]++
		c.mu.Unlock()
		c.receipts.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	c.srv.Config.SetKeepAlivesEnabled(true)
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

func (c *countingReceiver) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// multiNodeRun ingests events spread over the nodes, kills one node with
// SIGKILL when a third has arrived (restarting it if restart), runs
// afterKill (if not nil) at once, and checks that every delivery arrives.
// It returns the duplicate count and the time from the kill (or the restart)
// to the last delivery.
func multiNodeRun(t *testing.T, nodes []*proc, start func(i int) *proc, events, webhooks int, restart bool, afterKill func()) (int, time.Duration) {
	t.Helper()
	rc := newCountingReceiver(t)
	for i := 0; i < webhooks; i++ {
		code, raw := doReq(t, nodes[0].url, adminToken, "POST", "/api/v1/webhooks",
			map[string]any{"name": "mn-" + strconv.Itoa(i), "url": rc.srv.URL, "event_types": []string{"*"}}, nil, nil)
		if code != 201 {
			t.Fatalf("create webhook: %d %s", code, raw)
		}
	}
	total := events * webhooks
	var sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	const batch = 500
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for b := c; b*batch < events; b += 4 {
				var sb strings.Builder
				sb.WriteString(`{"events":[`)
				for i := b * batch; i < min((b+1)*batch, events); i++ {
					if i > b*batch {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, `{"id":"mn%d","type":"x","project":"p"}`, i)
				}
				sb.WriteString(`]}`)
				// Ingest goes to any live node; a killed one is skipped.
				for attempt := 0; ; attempt++ {
					n := nodes[(b+attempt)%len(nodes)]
					code, raw := doReqNoFail(n.url, sb.String())
					if code == 202 {
						break
					}
					if attempt > 20 {
						errs <- fmt.Sprintf("ingest batch %d: %d %s", b, code, raw)
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				sent.Add(batch)
			}
		}(c)
	}
	eventually(t, 120*time.Second, "a third of the deliveries", func() bool { return rc.receipts.Load() >= int64(total/3) })
	victim := nodes[len(nodes)-1]
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Wait()
	from := time.Now()
	t.Logf("killed node %d with SIGKILL after %d receipts", len(nodes)-1, rc.receipts.Load())
	if afterKill != nil {
		afterKill()
	}
	if restart {
		from = time.Now()
		nodes[len(nodes)-1] = start(len(nodes) - 1)
	}
	wg.Wait()
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	eventually(t, 180*time.Second, fmt.Sprintf("all %d deliveries", total), func() bool { return rc.distinct() >= total })
	if d := rc.distinct(); d != total {
		t.Fatalf("%d distinct deliveries arrived, want %d", d, total)
	}
	rc.mu.Lock()
	last := rc.lastNew.Sub(from)
	rc.mu.Unlock()
	return int(rc.receipts.Load()) - total, last
}

func doReqNoFail(base, body string) (int, string) {
	req, _ := http.NewRequest("POST", base+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, b.String()
}

func multiNodeScale() (events, webhooks int) {
	events, webhooks = 20000, 5
	if testing.Short() {
		events = 2000
	}
	if v, err := strconv.Atoi(os.Getenv("HERALD_TEST_MULTINODE_EVENTS")); err == nil && v > 0 {
		events = v
	}
	return events, webhooks
}

// SQLite: one node, killed mid-run with SIGKILL and restarted, finishes
// every delivery.
func TestMultiNodeSQLiteKillRestart(t *testing.T) {
	t.Parallel()
	bin := heraldBinary(t)
	dir := t.TempDir()
	addr := freePort(t)
	start := func(int) *proc { return startProc(t, bin, addr, dir) }
	nodes := []*proc{start(0)}
	events, webhooks := multiNodeScale()
	dups, last := multiNodeRun(t, nodes, start, events, webhooks, true, nil)
	t.Logf("SQLite, 1 node killed and restarted: %d events × %d webhooks delivered; %d duplicate receipts (requests in flight or leased by the killed node); restart → last delivery %v (the backlog included)",
		events, webhooks, dups, last.Round(time.Millisecond))
}

// testDatabaseURL is the local PostgreSQL (trust auth) for tests.
func testDatabaseURL() string {
	if v := os.Getenv("HERALD_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// freshSchema creates a schema for this run and returns a DSN that uses it.
func freshSchema(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDatabaseURL())
	if err != nil {
		testenv.Require(t, "PostgreSQL", fmt.Errorf("not reachable at %s: %w; `make test` starts it", testDatabaseURL(), err))
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("herald_e2e_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, testDatabaseURL()); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(testDatabaseURL(), "?") {
		sep = "&"
	}
	return testDatabaseURL() + sep + "search_path=" + schema
}

// PostgreSQL: three nodes on one database, default lease; one is killed
// with SIGKILL mid-run, the other two take over its leased deliveries
// within 15 s (its heartbeat stops; they release its leases) and finish its
// work.
func TestMultiNodePostgresFailover(t *testing.T) {
	t.Parallel()
	bin := heraldBinary(t)
	dsn := freshSchema(t)
	var addrs []string
	for i := 0; i < 3; i++ {
		addrs = append(addrs, freePort(t))
	}
	start := func(i int) *proc {
		return startProcEnv(t, bin, addrs[i], t.TempDir(), "HERALD_DATABASE_URL="+dsn, "HERALD_SECRET_KEY="+strings.Repeat("ab", 32),
			"HERALD_NODE_ID=node-"+strconv.Itoa(i))
	}
	var nodes []*proc
	for i := range addrs {
		nodes = append(nodes, start(i))
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	// Open deliveries still reserved for the killed node (node-2): once its
	// lease is released (its heartbeat stopped) or has run out, a row is any
	// live node's to claim, in due order with the rest of the backlog, and
	// stops counting.
	held := func() int {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM deliveries
			WHERE state IN ('pending', 'retrying') AND left(lease_token, 7) = 'node-2-' AND lease_until > now()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const takeover = 15 * time.Second
	var took time.Duration
	var atKill int
	afterKill := func() {
		killed := time.Now()
		atKill = held()
		eventually(t, takeover+10*time.Second, "the other nodes take over the killed node's deliveries", func() bool { return held() == 0 })
		took = time.Since(killed)
	}
	events, webhooks := multiNodeScale()
	dups, last := multiNodeRun(t, nodes[:], start, events, webhooks, false, afterKill)
	t.Logf("PostgreSQL, 3 nodes, 1 killed: %d events × %d webhooks delivered; %d duplicate receipts (requests in flight or leased by the killed node); "+
		"its %d leased deliveries taken over %v after the kill; kill → last delivery %v (the backlog included)",
		events, webhooks, dups, atKill, took.Round(time.Millisecond), last.Round(time.Millisecond))
	if atKill == 0 {
		t.Fatal("the killed node held no deliveries: the takeover was not exercised")
	}
	if took > takeover+3*time.Second {
		t.Fatalf("takeover took %v, want within %v (plus a margin)", took, takeover)
	}
}
