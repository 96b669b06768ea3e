package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/signing"
)

// syncBuffer is a bytes.Buffer safe for the listener's goroutines and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until out contains every want, failing after a generous
// deadline.
func waitFor(t *testing.T, out *syncBuffer, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := out.String()
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("output never contained %q:\n%s", want, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServer starts a real Herald (loopback allowed, as with
// HERALD_ALLOW_CIDRS=127.0.0.0/8) and returns how to run CLI commands
// against it: must fails the test on an error and returns stdout; run
// returns stdout, stderr and the error.
func startServer(t *testing.T) (must func(args ...string) string, run func(args ...string) (string, string, error)) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = "firstrun-admin-token-0123456789abcdefghij"
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	env := map[string]string{"HERALD_URL": a.URL(), "HERALD_TOKEN": cfg.AdminToken}
	run = func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		root := newRootWithEnv(func(k string) string { return env[k] })
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errb)
		err := root.ExecuteContext(context.Background())
		if err != nil {
			printError(&errb, err)
		}
		return out.String(), errb.String(), err
	}
	must = func(args ...string) string {
		t.Helper()
		out, errs, err := run(args...)
		if err != nil {
			t.Fatalf("herald %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
		}
		return out
	}
	return must, run
}

// The quick start on one machine: a real Herald (HERALD_ALLOW_CIDRS
// 127.0.0.0/8), `herald listen` in-process, a webhook to it created with the
// CLI (its ownership challenge answered by listen), an event sent: listen
// prints the event and that its signature verified.
func TestListenEndToEnd(t *testing.T) {
	t.Parallel()
	must, _ := startServer(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()

	// The signing secret is known once the webhook exists; listen starts
	// after, as in the README. The webhook is created with a challenge
	// secret, so saving it needs listen to answer the challenge: start a
	// first listen for the challenge, without --secret.
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runListen(ctx, ln, listenOptions{challengeSecret: "chall-secret", status: 200}, out, false, time.Now)
	}()
	waitFor(t, out, "Listening on "+url)
	created := must("webhook", "create", "--json", "--name", "local", "--url", url, "--event-type", "image.push", "--challenge-secret", "chall-secret")
	waitFor(t, out, "ownership challenge answered")
	var wh struct {
		ID            string `json:"id"`
		SigningSecret string `json:"signing_secret"`
	}
	if err := json.Unmarshal([]byte(created), &wh); err != nil || !strings.HasPrefix(wh.SigningSecret, "whsec_") {
		t.Fatalf("webhook create: %v\n%s", err, created)
	}
	must("event", "send", "--type", "image.push", "--project", "library", "--subject", "nginx:1.27")
	got := waitFor(t, out, "event image.push", "not checked (no --secret)")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("listen returned %v", err)
	}
	if !strings.Contains(got, "webhook-signature:") || !strings.Contains(got, "herald-hops:") || !strings.Contains(got, `"subject": "nginx:1.27"`) {
		t.Errorf("delivery printed without its headers or pretty body:\n%s", got)
	}
	if !strings.Contains(out.String(), "Stopped after 1 delivery.") {
		t.Errorf("no clean stop:\n%s", out.String())
	}

	// Now with the signing secret read back: verified.
	ln2, err := net.Listen("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("listen again on %s: %v", ln.Addr(), err)
	}
	secret := strings.TrimSpace(must("webhook", "secret", wh.ID))
	if !strings.Contains(secret, wh.SigningSecret) {
		t.Fatalf("webhook secret printed %q, want %q", secret, wh.SigningSecret)
	}
	out2 := &syncBuffer{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() {
		done2 <- runListen(ctx2, ln2, listenOptions{secret: wh.SigningSecret, status: 200}, out2, false, time.Now)
	}()
	waitFor(t, out2, "Listening on")
	must("event", "send", "--type", "image.push", "--project", "library", "--subject", "redis:7")
	got = waitFor(t, out2, "event image.push", "signature:         verified", `"subject": "redis:7"`)
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("listen returned %v", err)
	}
	if m := regexp.MustCompile(`event image\.push (evt_\S+|\S+)`).FindStringSubmatch(got); m == nil || m[1] == "-" {
		t.Errorf("no event id printed:\n%s", got)
	}
}

// The command itself: flags, a signed request verified or not, --status,
// the challenge refused without --challenge-secret, colour off when the
// output is not a terminal, and a clean stop when its context ends.
func TestListenCommand(t *testing.T) {
	t.Parallel()
	secret := signing.NewSecret()
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		root := newRootWithEnv(func(string) string { return "" })
		root.SetArgs([]string{"listen", "--addr", "127.0.0.1:0", "--secret", secret, "--status", "503"})
		root.SetOut(&out)
		root.SetErr(&out)
		done <- root.ExecuteContext(ctx)
	}()
	banner := waitFor(t, &out, "Listening on http://")
	m := regexp.MustCompile(`Listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner: %q", banner)
	}
	base := m[1]
	post := func(body string, sign func(id string, ts time.Time, body []byte) string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/hook", strings.NewReader(body))
		ts := time.Now()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Webhook-Id", "msg_1")
		req.Header.Set("Webhook-Timestamp", strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set("Webhook-Signature", sign("msg_1", ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := func(id string, ts time.Time, body []byte) string {
		s, err := signing.Sign([]string{secret}, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other := signing.NewSecret()
	bad := func(id string, ts time.Time, body []byte) string {
		s, _ := signing.Sign([]string{other}, id, ts, body)
		return s
	}
	if code := post(`{"type":"image.push","id":"evt_1","data":{"a":1}}`, good); code != 503 {
		t.Errorf("status %d, want 503 (--status)", code)
	}
	waitFor(t, &out, "event image.push evt_1", "signature:         verified", "answered 503")
	post(`{"type":"image.delete","id":"evt_2"}`, bad)
	waitFor(t, &out, "event image.delete evt_2", "NOT VERIFIED: ")
	post("plain \x1b[31mtext\nline two", good)
	got := waitFor(t, &out, "plain [31mtext\n  line two")
	if strings.Contains(got, "\x1b") {
		t.Errorf("escape sequences printed (not a terminal, and a body's must be dropped):\n%q", got)
	}
	resp, err := http.Get(base + "/hook?crc_token=abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("challenge without --challenge-secret: %d, want 400", resp.StatusCode)
	}
	waitFor(t, &out, "pass --challenge-secret to answer it")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("listen: %v", err)
	}
	if !strings.Contains(out.String(), "Stopped after 3 deliveries.") {
		t.Errorf("no clean stop:\n%s", out.String())
	}
}

func TestListenBadFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"listen", "--status", "99"}, "--status 99: use an HTTP status from 200 to 599"},
		{[]string{"listen", "--secret", "whsec_!!"}, "--secret: "},
		{[]string{"listen", "--color", "pink"}, `--color "pink"`},
	} {
		var out bytes.Buffer
		root := newRootWithEnv(func(string) string { return "" })
		root.SetArgs(tc.args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		if err == nil {
			t.Errorf("%v: succeeded", tc.args)
			continue
		}
		printError(&out, err)
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: %q, want %q", tc.args, out.String(), tc.want)
		}
	}
}
