package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

// The CLI against a real Herald: the host-console flow of seed 002 (category,
// several event types, language, Send from the list) and the rest of the
// client commands, through HERALD_URL and HERALD_TOKEN.
func TestCLIAgainstRealServer(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = "cli-admin-token-0123456789abcdefghij"
	cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })

	var mu sync.Mutex
	var bodies []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Write([]byte("received"))
	}))
	t.Cleanup(rc.Close)

	env := map[string]string{"HERALD_URL": a.URL(), "HERALD_TOKEN": "cli-admin-token-0123456789abcdefghij"}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		root := newRootWithEnv(func(k string) string { return env[k] })
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errb)
		code := 0
		if err := root.ExecuteContext(context.Background()); err != nil {
			printError(&errb, err)
			code = 1
		}
		return out.String(), errb.String(), code
	}
	must := func(args ...string) string {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 {
			t.Fatalf("herald %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}

	out := must("webhook", "create", "--json", "--name", "hosts", "--project", "ops", "--url", rc.URL,
		"--category", "alarms", "--event-type", "host.lost_connection", "--event-type", "host.recovery_timeout",
		"--language", "zh-CN", "--auth-type", "basic", "--username", "u", "--password", "p4ss")
	var created struct {
		SigningSecret string `json:"signing_secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create --json: %v\n%s", err, out)
	}
	var wh map[string]any
	json.Unmarshal([]byte(out), &wh)
	id := wh["id"].(string)
	if wh["category"] != "alarms" || wh["language"] != "zh-CN" || len(wh["event_types"].([]any)) != 2 || !strings.HasPrefix(created.SigningSecret, "whsec_") {
		t.Fatalf("created webhook: %s", out)
	}
	if strings.Contains(must("webhook", "get", id, "--json"), "p4ss") {
		t.Fatal("password shown by webhook get")
	}
	list := must("webhook", "list")
	if !strings.Contains(list, id) || !strings.Contains(list, "hosts") {
		t.Fatalf("webhook list:\n%s", list)
	}
	// "Send" from the list.
	test := must("webhook", "test", id)
	if !strings.Contains(test, "200") {
		t.Fatalf("webhook test:\n%s", test)
	}
	mu.Lock()
	if len(bodies) != 1 || !strings.Contains(bodies[0], "测试") {
		t.Fatalf("test message not in Chinese: %v", bodies)
	}
	mu.Unlock()

	// --event-type sends the sample event of that type (recorded as a
	// test), in the webhook's language and format.
	test = must("webhook", "test", id, "--event-type", "host.recovery_timeout", "--json")
	var tr struct {
		OK         bool   `json:"ok"`
		StatusCode int    `json:"status_code"`
		DeliveryID string `json:"delivery_id"`
	}
	if err := json.Unmarshal([]byte(test), &tr); err != nil || !tr.OK || tr.StatusCode != 200 || tr.DeliveryID == "" {
		t.Fatalf("webhook test --event-type: %v\n%s", err, test)
	}
	mu.Lock()
	if len(bodies) != 2 || !strings.Contains(bodies[1], `"host.recovery_timeout"`) || strings.Contains(bodies[1], `"herald.test"`) {
		t.Fatalf("test --event-type host.recovery_timeout sent: %v", bodies[1:])
	}
	bodies = bodies[:1]
	mu.Unlock()
	var sent struct {
		EventType string `json:"event_type"`
		Test      bool   `json:"test"`
	}
	if err := json.Unmarshal([]byte(must("delivery", "get", tr.DeliveryID, "--json")), &sent); err != nil || sent.EventType != "host.recovery_timeout" || !sent.Test {
		t.Fatalf("the logged test delivery: %+v (%v)", sent, err)
	}
	// A type that is not one event type name is refused, naming the flag's field.
	if out, errs, code := run("webhook", "test", id, "--event-type", "host.*"); code == 0 || !strings.Contains(errs, "event_type") {
		t.Fatalf("webhook test --event-type 'host.*': exit %d\n%s%s", code, out, errs)
	}

	must("event", "send", "--type", "host.lost_connection", "--project", "ops", "--subject", "db1", "--severity", "critical")
	must("event", "send", "--type", "image.push", "--project", "ops") // not subscribed
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event not delivered: %d bodies", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dl := must("delivery", "list", "--webhook", id, "--json")
	var page struct {
		Data []struct{ ID, State string }
	}
	json.Unmarshal([]byte(dl), &page)
	if len(page.Data) != 3 { // the two tests and the event
		t.Fatalf("delivery list: %s", dl)
	}
	must("delivery", "get", page.Data[0].ID)
	must("webhook", "disable", id)
	if got := must("webhook", "get", id, "--json"); !strings.Contains(got, `"enabled": false`) {
		t.Fatalf("disable: %s", got)
	}
	must("webhook", "enable", id)
	must("webhook", "status", id)
	must("settings", "get")
	must("event-types")
	tok := must("token", "create", "--name", "viewer", "--role", "viewer", "--json")
	if !strings.Contains(tok, "hrld_") {
		t.Fatalf("token create: %s", tok)
	}
	// Errors name the field and exit non-zero.
	_, errs, code := run("webhook", "create", "--name", "bad", "--url", "ftp://x", "--event-type", "*")
	if code == 0 || !strings.Contains(errs, "url") {
		t.Fatalf("bad url: exit %d, %s", code, errs)
	}
	rot := must("webhook", "rotate-secret", id, "--grace", "1h")
	if !strings.Contains(rot, "whsec_") || !strings.Contains(rot, "keeps signing until") {
		t.Fatalf("rotate-secret: %s", rot)
	}
	if sec := strings.TrimSpace(must("webhook", "secret", id)); !strings.HasPrefix(sec, "whsec_") || !strings.Contains(rot, sec) {
		t.Fatalf("webhook secret printed %q, not the rotated secret", sec)
	}
	if _, errs, code := run("webhook", "verify", id); code == 0 || !strings.Contains(errs, "challenge_secret") {
		t.Fatalf("verify without a challenge secret: exit %d %s", code, errs)
	}
	must("webhook", "delete", id, "--yes")
	if _, _, code := run("webhook", "get", id); code == 0 {
		t.Fatal("deleted webhook still readable")
	}
}
