package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/herald-hq/herald/internal/testenv"
)

// The browser tests drive a real headless Chromium through the console,
// against a real Herald and a real receiver. They skip (with a message) when
// no Chromium is installed, or fail with CI=true; scripts/test-deps.sh
// installs it.

func chromiumPath() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// receiver records what it gets. /ok answers 200; /flaky answers 500 until
// flakyOK is set.
type receiver struct {
	srv     *httptest.Server
	flakyOK atomic.Bool
	mu      sync.Mutex
	got     []*http.Request
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.mu.Unlock()
		if r.URL.Path == "/flaky" && !rc.flakyOK.Load() {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "received by %s", r.URL.Path)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// requests returns what path got so far.
func (rc *receiver) requests(path string) []*http.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []*http.Request
	for _, r := range rc.got {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// artifactsDir is test-artifacts/ at the repository root (gitignored).
func artifactsDir(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// tab is one browser tab with the helpers the flow needs; every step is
// bounded by stepTimeout and the whole test by the context's deadline.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

const stepTimeout = 15 * time.Second

func newTab(t *testing.T, base string) *tab {
	exe := chromiumPath()
	if exe == "" {
		testenv.Require(t, "Chromium", errors.New("chromium not found; install it with `apt-get install -y chromium` or scripts/test-deps.sh, or set HERALD_CHROMIUM (the console's browser tests drive it)"))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// The first Do starts the browser and the tab; it must get the tab's own
	// context (not a shorter-lived child), which owns them until cleanup.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	b := &tab{t: t, ctx: tabCtx, base: base, shots: artifactsDir(t)}
	b.do("set the viewport", chromedp.EmulateViewport(1280, 900))
	return b
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail ends the test, leaving a screenshot of the page as it was.
func (b *tab) fail(what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		name := filepath.Join(b.shots, "failure-"+b.t.Name()+".png")
		if os.WriteFile(name, png, 0o644) == nil {
			b.t.Logf("the page at the failure: %s", name)
		}
	}
	b.t.Fatalf("%s: %v", what, err)
}

func (b *tab) navigate(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// clickAndLoad clicks sel and waits for the page that it loads.
func (b *tab) clickAndLoad(sel string) {
	b.t.Helper()
	run(b, "click "+sel+" and wait for the next page",
		chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (b *tab) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// set sets the value of an input, select or textarea as a user would: with
// the input and change events.
func (b *tab) set(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, jsString(sel), jsString(value))
	if !run(b, "set "+sel, chromedp.Evaluate[bool](js)) {
		b.t.Fatalf("set %s: no such element", sel)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return run(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	return run(b, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel))))
}

func (b *tab) visible(sel string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *tab) hidden(sel string) {
	b.t.Helper()
	b.do("wait until "+sel+" is hidden", chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// confirm accepts the open confirmation dialog and waits for the page the
// confirmed form loads.
func (b *tab) confirm(wantText string) {
	b.t.Helper()
	b.visible("#confirm-dialog[open]")
	if got := b.text("#confirm-dialog-text"); !strings.Contains(got, wantText) {
		b.t.Fatalf("confirmation %q, want it to mention %q", got, wantText)
	}
	b.clickAndLoad("#confirm-dialog-ok")
}

func (b *tab) shot(name string) {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	rc := newReceiver(t)
	b := newTab(t, s.url)

	// Log in with the admin token.
	b.navigate("/login")
	b.visible("#login-token")
	b.shot("login")
	b.typeInto("#login-token", adminToken)
	b.clickAndLoad("#login-token-submit")
	b.visible("#add-webhook")

	// Add a webhook with basic auth, conditions and a header (seeds 000-003).
	b.clickAndLoad("#add-webhook")
	b.visible("#webhook-form")
	b.typeInto("#f-name", "ops-alerts")
	b.typeInto("#f-url", rc.srv.URL+"/ok")
	b.set("#f-category", "alarms")
	b.hidden("#f-auth-username") // shown per verification type
	b.set("#f-auth-type", "basic")
	b.visible("#f-auth-username")
	b.hidden("#f-auth-token")
	b.typeInto("#f-auth-username", "herald")
	b.typeInto("#f-auth-password", "s3cret-pass")
	b.hidden("#tls-warning")
	b.click("#f-tls-skip_verify")
	b.visible("#tls-warning")
	b.click("#f-tls-skip_verify")
	b.hidden("#tls-warning")
	b.click(`[id="et-alert.firing"]`)
	b.click(`[data-add-row="conditions"]`)
	b.click(`[data-add-row="conditions"]`)
	if n := b.count("#conditions [data-row]"); n != 2 {
		t.Fatalf("%d condition rows after two adds", n)
	}
	b.click("#conditions [data-row]:nth-child(2) [data-remove-row]")
	if n := b.count("#conditions [data-row]"); n != 1 {
		t.Fatalf("%d condition rows after a delete, want 1", n)
	}
	b.typeInto("#conditions [data-row] input[name=cond_label]", "severity")
	b.set("#conditions [data-row] textarea[name=cond_values]", "critical\nwarning")
	b.click(`[data-add-row="headers"]`)
	b.typeInto("#headers [data-row] input[name=header_name]", "X-Team")
	b.typeInto("#headers [data-row] input[name=header_value]", "ops")
	b.shot("form")

	// Send test before saving: the receiver's status shows in the page.
	b.click("#send-test")
	b.visible("#test-result .test-status")
	if got := b.text("#test-result .test-status"); got != "200" {
		t.Fatalf("test status %q, want 200", got)
	}
	if got := b.text("#test-result .excerpt"); got != "received by /ok" {
		t.Fatalf("test excerpt %q", got)
	}
	tests := rc.requests("/ok")
	if len(tests) != 1 {
		t.Fatalf("receiver got %d requests for the test", len(tests))
	}
	if u, p, ok := tests[0].BasicAuth(); !ok || u != "herald" || p != "s3cret-pass" || tests[0].Header.Get("X-Team") != "ops" {
		t.Fatalf("test request: basic auth %q/%q (%v), X-Team %q", u, p, ok, tests[0].Header.Get("X-Team"))
	}

	// Cancel warns that the input would be lost; staying keeps it.
	b.click("#cancel")
	b.visible("#confirm-dialog[open]")
	if got := b.text("#confirm-dialog-text"); !strings.Contains(got, "will be lost") {
		t.Fatalf("cancel warning %q", got)
	}
	b.click("#confirm-dialog-cancel")
	b.hidden("#confirm-dialog")
	if v := run(b, "read name", chromedp.Value(chromedp.CSS("#f-name"))); v != "ops-alerts" {
		t.Fatalf("name after staying: %q", v)
	}

	// Submit: the signing secret is shown once.
	b.clickAndLoad("#submit")
	b.visible("#signing-secret")
	if v := run(b, "read secret", chromedp.Value(chromedp.CSS("#signing-secret"))); !strings.HasPrefix(v, "whsec_") {
		t.Fatalf("signing secret %q", v)
	}
	b.clickAndLoad("#to-webhook")
	b.visible("#h-status")
	id := strings.TrimPrefix(run(b, "location", chromedp.Location()), s.url+"/webhooks/")

	// An event that meets the conditions is delivered; one that does not is not.
	publish := func(typ, severity string) {
		t.Helper()
		s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": typ, "severity": severity, "subject": "node-1"}, nil)
	}
	// inState counts the deliveries of a webhook in a state, as the store has them.
	inState := func(webhook, state string) int {
		var out struct {
			Data []struct{ ID string } `json:"data"`
		}
		s.mustAPI(http.StatusOK, "GET", "/deliveries?state="+state+"&webhook="+webhook, nil, &out)
		return len(out.Data)
	}
	publish("alert.firing", "info")
	publish("alert.firing", "critical")
	waitFor(t, 10*time.Second, "the delivery of the critical alert", func() bool { return inState(id, "succeeded") == 1 })
	if n := len(rc.requests("/ok")); n != 2 {
		t.Fatalf("receiver got %d requests, want 2 (the test and the critical alert)", n)
	}
	b.navigate("/webhooks/" + id)
	b.visible("#log tr[data-state=succeeded]")
	if got := b.text("#h-status + table tbody"); !strings.Contains(got, "alert.firing") || !strings.Contains(got, "succeeded") {
		t.Fatalf("status by event type: %q", got)
	}
	b.shot("detail")

	// The list shows the last delivery; Disable asks, then no more deliveries.
	b.navigate("/webhooks")
	row := "#wh-" + id
	if got := b.text(row + " .wh-last"); !strings.Contains(got, "succeeded") {
		t.Fatalf("last delivery on the list: %q", got)
	}
	b.shot("list")
	b.click(row + ` [data-action=disable]`)
	b.confirm("ops-alerts")
	b.visible(".flash.ok")
	if got := b.text(row + " .wh-state"); !strings.Contains(got, "Disabled") {
		t.Fatalf("state after disable: %q", got)
	}
	deliveries := func(webhook string) int {
		var out struct {
			Data []struct{ ID string } `json:"data"`
		}
		s.mustAPI(http.StatusOK, "GET", "/deliveries?webhook="+webhook, nil, &out)
		return len(out.Data)
	}
	// One delivery so far: the test before saving was not recorded, the
	// info alert did not meet the conditions.
	if n := deliveries(id); n != 1 {
		t.Fatalf("%d deliveries before disabling, want 1", n)
	}
	publish("alert.firing", "critical") // stored when answered 202
	// Deliveries are created with the event: none for the disabled webhook
	// means nothing can be sent to it later.
	if n := deliveries(id); n != 1 {
		t.Fatalf("a disabled webhook got a delivery: %d deliveries", n)
	}
	if n := len(rc.requests("/ok")); n != 2 {
		t.Fatalf("a disabled webhook got a delivery: %d requests", n)
	}

	// "Send" from the list: a test goes out even while disabled, and its
	// result shows in the row (htmx), recorded in the delivery log.
	b.click(row + " [data-action=test]")
	b.visible("#test-" + id + " .test-status")
	if got := b.text("#test-" + id + " .test-status"); got != "200" {
		t.Fatalf("list test status %q", got)
	}
	if n := len(rc.requests("/ok")); n != 3 {
		t.Fatalf("receiver got %d requests after the list test, want 3", n)
	}
	if n := deliveries(id); n != 2 {
		t.Fatalf("%d deliveries after the list test, want 2 (the test is logged)", n)
	}

	// A failed delivery, retried by hand; then "Recover failed since…".
	flaky := s.createWebhook(map[string]any{"name": "flaky", "url": rc.srv.URL + "/flaky", "event_types": []string{"image.push"}, "max_attempts": 1})
	failed := func() int { return inState(flaky, "failed") }
	publish("image.push", "info")
	waitFor(t, 10*time.Second, "a failed delivery", func() bool { return failed() == 1 })
	b.navigate("/webhooks/" + flaky + "?state=failed#log")
	b.visible("#log tr[data-state=failed] [data-action=retry]")
	b.shot("detail-failed")
	rc.flakyOK.Store(true)
	b.clickAndLoad("#log tr[data-state=failed] [data-action=retry]")
	b.visible(".flash.ok")
	waitFor(t, 10*time.Second, "the retried delivery to succeed", func() bool { return inState(flaky, "succeeded") == 1 })
	b.navigate("/webhooks/" + flaky + "#log")
	b.visible("#log tr[data-state=succeeded]")
	b.clickAndLoad("#log tr[data-state=succeeded] a.button")
	b.visible("#h-attempts")
	if n := b.count(".attempt"); n != 2 {
		t.Fatalf("%d attempts shown, want 2 (500 then 200)", n)
	}
	if got := b.text(".attempt:first-of-type h3"); !strings.Contains(got, "200") {
		t.Fatalf("newest attempt: %q", got)
	}
	if got := b.text(".attempt:last-of-type"); !strings.Contains(got, "500") || !strings.Contains(got, "not yet") {
		t.Fatalf("first attempt: %q", got)
	}
	b.shot("delivery")

	rc.flakyOK.Store(false)
	publish("image.push", "info")
	waitFor(t, 10*time.Second, "a second failed delivery", func() bool { return failed() == 1 })
	rc.flakyOK.Store(true)
	b.navigate("/webhooks/" + flaky)
	b.click("#recover")
	b.confirm("flaky")
	b.visible(".flash.ok")
	if got := b.text(".flash.ok"); !strings.Contains(got, "1 failed deliveries were queued again") {
		t.Fatalf("recover: %q", got)
	}
	waitFor(t, 10*time.Second, "the recovered delivery to succeed", func() bool { return inState(flaky, "succeeded") == 2 })

	// Settings (platform-admin): the global switch shows the held count.
	b.navigate("/settings")
	b.visible("#held-count")
	b.shot("settings")

	// A form post without the CSRF token is refused, even with the session.
	cookies := run(b, "read cookies", func(ctx context.Context, _ *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.url}})
		return res.Cookies, err
	})
	req, _ := http.NewRequest("POST", s.url+"/webhooks/"+id+"/enable", strings.NewReader(url.Values{"confirm": {"yes"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF token: %d, want 403", resp.StatusCode)
	}

	// Switch to Chinese: labels come from the zh-CN catalog, and stay.
	b.clickAndLoad(`button[name=lang][value="zh-CN"]`)
	b.visible(`html[lang="zh-CN"]`)
	b.navigate("/webhooks")
	if got := b.text("#add-webhook"); got != "添加 Webhook" {
		t.Fatalf("add button in zh-CN: %q", got)
	}
	if got := b.text(row + " .wh-state"); !strings.Contains(got, "已停用") {
		t.Fatalf("state in zh-CN: %q", got)
	}
	b.shot("list-zh-CN")
	b.navigate("/webhooks/new")
	b.visible("#webhook-form")
	b.shot("form-zh-CN")
	b.clickAndLoad(`button[name=lang][value="en"]`)

	// Narrow screen (390 px): the list and the form stay usable.
	b.do("narrow viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.navigate("/webhooks")
	b.visible(row)
	width := run(b, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if width > 390 {
		t.Errorf("the list is %dpx wide at a 390px viewport (horizontal scrolling)", width)
	}
	b.shot("list-390")
	b.navigate("/webhooks/" + id + "/edit")
	b.visible("#webhook-form")
	if width := run(b, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Errorf("the form is %dpx wide at a 390px viewport", width)
	}
	b.shot("form-390")
}

// TestBrowserPasswordLoginAndViewer: a user created on the Settings page logs
// in with a password; a viewer sees no buttons that change anything.
func TestBrowserPasswordLoginAndViewer(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	s.createWebhook(map[string]any{"name": "watched", "url": "http://127.0.0.1:9/x", "event_types": []string{"*"}})
	b := newTab(t, s.url)
	b.navigate("/login")
	b.typeInto("#login-token", adminToken)
	b.clickAndLoad("#login-token-submit")
	b.navigate("/settings")
	b.typeInto("#u-username", "watcher")
	b.typeInto("#u-password", "short")
	b.clickAndLoad("#create-user")
	b.visible("#u-password-error")
	b.set("#u-password", "a long enough password")
	b.set("#u-role", "viewer")
	b.clickAndLoad("#create-user")
	b.visible(".flash.ok")
	b.clickAndLoad(`form[action="/logout"] button`)

	b.visible("#login-username")
	b.typeInto("#login-username", "watcher")
	b.typeInto("#login-password", "wrong password!")
	b.clickAndLoad("#login-password-submit")
	b.visible("#login-error")
	b.typeInto("#login-password", "a long enough password")
	b.clickAndLoad("#login-password-submit")
	b.visible("table.webhooks")
	if n := b.count("#add-webhook, a[href$='/edit'], [data-action]"); n != 0 {
		t.Fatalf("a viewer sees %d controls that change things", n)
	}
	if got := b.text(".who"); !strings.Contains(got, "watcher") {
		t.Fatalf("who: %q", got)
	}
}
