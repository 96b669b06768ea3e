package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// waitPage polls path until its body contains every want.
func waitPage(t *testing.T, c *client, path string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := c.get(path)
		ok := code == http.StatusOK
		for _, w := range want {
			ok = ok && strings.Contains(body, w)
		}
		if ok {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s (%d) never contained %q:\n%s", path, code, want, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// before reports whether a comes before b in body (both present).
func before(t *testing.T, body, a, b string) bool {
	t.Helper()
	i, j := strings.Index(body, a), strings.Index(body, b)
	if i < 0 || j < 0 {
		t.Fatalf("page lacks %q or %q:\n%s", a, b, body)
	}
	return i < j
}

// The webhook list shows each webhook's last 24 hours (success rate,
// volume, p95, failing since), sorts failing webhooks first on request and
// filters by project, state and text; the overview charts the same.
func TestWebhookHealthListAndOverview(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer bad.Close()
	good := s.createWebhook(map[string]any{"name": "alpha-ok", "project": "p1", "url": ok.URL, "event_types": []string{"*"}})
	failing := s.createWebhook(map[string]any{"name": "zulu-failing", "project": "p2", "url": bad.URL, "event_types": []string{"*"}})
	for _, p := range []string{"p1", "p1", "p2", "p2"} {
		s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "image.push", "project": p}, nil)
	}
	c := s.client()
	c.loginToken(adminToken)
	body := waitPage(t, c, "/webhooks", `<span class="badge ok" title="2 succeeded, 0 failed">100%</span>`,
		`title="0 succeeded, 2 failed">0%</span>`)
	mustContain(t, body, "2 deliveries · p95 ", "failing since ")
	if !before(t, body, "wh-"+good, "wh-"+failing) {
		t.Fatal("by default the list is by name")
	}
	_, body = c.get("/webhooks?sort=failing")
	if !before(t, body, "wh-"+failing, "wh-"+good) {
		t.Fatal("sort=failing does not put the failing webhook first")
	}
	for q, want := range map[string]string{
		"state=failing": failing, "project=p1": good, "q=ALPHA": good, "q=" + strings.TrimPrefix(bad.URL, "http://"): failing,
		"state=disabled": "",
	} {
		_, body := c.get("/webhooks?" + q)
		for _, id := range []string{good, failing} {
			if strings.Contains(body, `id="wh-`+id+`"`) != (id == want) {
				t.Errorf("?%s: webhook %s shown %v", q, id, !(id == want))
			}
		}
		if want == "" {
			mustContain(t, body, "No webhook matches these filters.", `href="/webhooks"`)
		}
	}

	for _, win := range []string{"", "?window=1h", "?window=7d"} {
		code, body := c.get("/overview" + win)
		if code != http.StatusOK {
			t.Fatalf("overview%s: %d", win, code)
		}
		mustContain(t, body, `<svg viewBox=`, `class="bar-ok"`, `class="bar-bad"`, `<polyline points=`,
			`id="ov-total">4<`, `id="ov-failed">2<`, `id="ov-rate">50%<`, `id="ov-pending">0<`, `id="ov-held">0<`)
		_, tbl, _ := strings.Cut(body, `id="ov-failing"`)
		mustContain(t, tbl, "zulu-failing")
		mustNotContain(t, tbl, "alpha-ok")
	}
	if code, body := c.get("/overview?window=2d"); code != http.StatusBadRequest {
		t.Fatalf("window=2d: %d %s", code, body)
	}

	// A project viewer sees its project only, and no server-wide backlog.
	v := s.client()
	v.loginToken(s.createToken("viewer", "p1"))
	_, body = v.get("/overview")
	mustContain(t, body, `id="ov-total">2<`, `id="ov-failed">0<`, "No webhook failed in this period.")
	mustNotContain(t, body, `id="ov-pending"`, "zulu-failing")
	_, body = v.get("/webhooks")
	mustNotContain(t, body, "zulu-failing")
}

// While the global switch is off every signed-in page says so, with the
// held count and, for a platform admin, the way to Settings.
func TestPausedBanner(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	id := s.createWebhook(map[string]any{"name": "hook", "project": "p1", "url": rc.URL, "event_types": []string{"*"}})
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks")
	mustNotContain(t, body, "paused-banner")

	s.mustAPI(http.StatusOK, "PATCH", "/settings", map[string]any{"webhooks_enabled": false}, nil)
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "image.push", "project": "p1"}, nil)
	for _, path := range []string{"/webhooks", "/overview", "/webhooks/" + id, "/settings"} {
		_, body := c.get(path)
		mustContain(t, body, `id="paused-banner"`, "Deliveries are paused: 1 held", `<a href="/settings">Turn them back on in Settings</a>`)
	}
	zh := s.client()
	zh.lang = "zh-CN"
	zh.loginToken(adminToken)
	_, body = zh.get("/webhooks")
	mustContain(t, body, "投递已暂停：1 条被搁置")

	v := s.client()
	v.loginToken(s.createToken("viewer", "p1"))
	_, body = v.get("/webhooks")
	mustContain(t, body, "Deliveries are paused: 1 held")
	mustNotContain(t, body, "Turn them back on in Settings")

	s.mustAPI(http.StatusOK, "PATCH", "/settings", map[string]any{"webhooks_enabled": true}, nil)
	_, body = c.get("/webhooks")
	mustNotContain(t, body, "paused-banner")
}

// A viewer never sees a webhook URL's query string (tokens live there);
// times are <time> elements the script moves into the browser's zone.
func TestViewerSeesNoURLQuery(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "ding", "project": "p1", "url": "https://oapi.dingtalk.com/robot/send?access_token=SECRET42",
		"event_types": []string{"*"}})
	v := s.client()
	v.loginToken(s.createToken("viewer", "p1"))
	for _, path := range []string{"/webhooks", "/webhooks/" + id} {
		_, body := v.get(path)
		mustContain(t, body, "https://oapi.dingtalk.com/robot/send?…")
		mustNotContain(t, body, "SECRET42")
	}
	a := s.client()
	a.loginToken(adminToken)
	_, body := a.get("/webhooks/" + id)
	mustContain(t, body, "access_token=SECRET42", `<time datetime="`)
}

// Each page has its own browser title, naming what it shows.
func TestPageTitles(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "ops-alerts", "url": "https://example.com/h", "event_types": []string{"*"}})
	c := s.client()
	c.loginToken(adminToken)
	for path, want := range map[string]string{
		"/webhooks":                 "<title>Webhooks · Herald</title>",
		"/overview":                 "<title>Overview · Herald</title>",
		"/settings":                 "<title>Settings · Herald</title>",
		"/webhooks/new":             "<title>Add webhook · Herald</title>",
		"/webhooks/" + id:           "<title>ops-alerts · Webhook · Herald</title>",
		"/webhooks/" + id + "/edit": "<title>ops-alerts · ",
	} {
		_, body := c.get(path)
		mustContain(t, body, want)
	}
}
