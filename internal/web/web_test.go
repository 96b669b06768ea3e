package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLoginRedirectsAndFailures(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()

	code, body := c.get("/webhooks")
	if code != http.StatusOK || !strings.Contains(body, `id="login-token"`) {
		t.Fatalf("GET /webhooks without a session should land on the login page; got %d", code)
	}
	mustContain(t, body, `name="next" value="/webhooks"`)

	code, body = c.post("/login", url.Values{"method": {"password"}, "username": {"nobody"}, "password": {"wrong-password"}})
	if code != http.StatusUnauthorized {
		t.Fatalf("bad password: status %d, want 401", code)
	}
	mustContain(t, body, "Invalid username or password.", `value="nobody"`)
	if c.cookie("herald_session") != nil {
		t.Fatal("a failed login set a session cookie")
	}

	code, body = c.post("/login", url.Values{"method": {"token"}, "token": {"hrld_not-a-token"}})
	if code != http.StatusUnauthorized {
		t.Fatalf("bad token: status %d, want 401", code)
	}
	mustContain(t, body, "This token is invalid or was revoked.")

	pub := s.createToken("publisher")
	code, body = c.post("/login", url.Values{"method": {"token"}, "token": {pub}})
	if code != http.StatusForbidden {
		t.Fatalf("publisher token: status %d, want 403", code)
	}
	mustContain(t, body, "cannot use the console")

	// next is followed, but only to a path on this server.
	c.get("/login")
	code, body = c.post("/login", url.Values{"method": {"token"}, "token": {adminToken}, "next": {"//evil.example/x"}})
	if code != http.StatusOK || !strings.Contains(body, `<h1>Webhooks</h1>`) {
		t.Fatalf("login with an off-site next: %d\n%s", code, body)
	}
}

func TestSessionCookieAndLogout(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.get("/login")
	// Look at the raw Set-Cookie of the login answer.
	form := url.Values{"method": {"token"}, "token": {adminToken}, "csrf": {c.csrf}}
	req, _ := http.NewRequest("POST", s.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(s.url)
	for _, ck := range c.hc.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d, want 303", resp.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "herald_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain http", session)
	}
	if session.MaxAge <= 0 || session.MaxAge > 12*3600 {
		t.Fatalf("session cookie Max-Age %d, want up to 12h", session.MaxAge)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}

	// Log out of that session (the jar takes its cookie; the page its CSRF token).
	c.hc.Jar.SetCookies(u, []*http.Cookie{session})
	if code, body := c.get("/webhooks"); code != http.StatusOK || !strings.Contains(body, `action="/logout"`) {
		t.Fatalf("with the session cookie: %d", code)
	}
	if code, _ := c.post("/logout", nil); code != http.StatusOK {
		t.Fatalf("logout: %d", code)
	}
	// The old cookie value no longer opens a session.
	req, _ = http.NewRequest("GET", s.url+"/webhooks", nil)
	req.AddCookie(&http.Cookie{Name: "herald_session", Value: session.Value})
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("after logout: %d %s, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "csrf-target", "url": "http://127.0.0.1:9/x", "event_types": []string{"*"}})

	// Before login: the login form itself needs its token.
	anon := s.client()
	anon.get("/login")
	if code, _ := anon.post("/login", url.Values{"method": {"token"}, "token": {adminToken}, "csrf": {""}}); code != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d, want 403", code)
	}

	c := s.client()
	c.loginToken(adminToken)
	for _, tc := range []struct {
		name, token string
	}{{"missing", ""}, {"wrong", c.csrf + "x"}, {"another session's", anon.csrf}} {
		code, body := c.post("/webhooks/"+id+"/disable", url.Values{"csrf": {tc.token}, "confirm": {"yes"}})
		if code != http.StatusForbidden {
			t.Fatalf("%s CSRF token: status %d, want 403", tc.name, code)
		}
		mustContain(t, body, "security token")
	}
	var wh struct {
		Enabled bool `json:"enabled"`
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &wh)
	if !wh.Enabled {
		t.Fatal("a post without a valid CSRF token changed the webhook")
	}
	// A new-webhook post without a token is refused too.
	if code, _ := c.post("/webhooks/new", url.Values{"csrf": {""}, "name": {"x"}, "url": {"http://127.0.0.1:9/"}}); code != http.StatusForbidden {
		t.Fatalf("create without CSRF token: %d, want 403", code)
	}
	// With the token it works.
	code, body := c.post("/webhooks/"+id+"/disable", url.Values{"confirm": {"yes"}, "next": {"/webhooks/" + id}})
	if code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	mustContain(t, body, "is disabled.")
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &wh)
	if wh.Enabled {
		t.Fatal("disable with a valid token did not disable")
	}
}

func TestViewerSeesButCannotChange(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "viewed", "project": "alpha", "url": "http://127.0.0.1:9/x", "event_types": []string{"*"}})
	c := s.client()
	c.loginToken(s.createToken("viewer"))

	code, body := c.get("/webhooks")
	if code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	mustContain(t, body, "viewed", "http://127.0.0.1:9/x")
	mustNotContain(t, body, "Add webhook", "/edit", `action="/webhooks/`+id+`/disable"`, `/delete"`, `href="/settings"`)

	code, body = c.get("/webhooks/" + id)
	if code != http.StatusOK {
		t.Fatalf("detail: %d", code)
	}
	mustNotContain(t, body, "/edit", "/rotate-secret", "/recover")

	for _, path := range []string{"/webhooks/new", "/webhooks/" + id + "/edit", "/settings"} {
		if code, _ := c.get(path); code != http.StatusForbidden {
			t.Errorf("GET %s as viewer: %d, want 403", path, code)
		}
	}
	for _, path := range []string{"/webhooks/new", "/webhooks/" + id + "/edit", "/webhooks/" + id + "/disable",
		"/webhooks/" + id + "/delete", "/webhooks/" + id + "/test", "/settings", "/settings/tokens"} {
		code, _ := c.post(path, url.Values{"confirm": {"yes"}, "name": {"x"}, "url": {"http://127.0.0.1:9/"}, "event_types": {"*"}})
		if code != http.StatusForbidden {
			t.Errorf("POST %s as viewer: %d, want 403", path, code)
		}
	}
	var wh struct {
		Enabled bool `json:"enabled"`
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, &wh)
	if !wh.Enabled {
		t.Fatal("the viewer changed the webhook")
	}
}

func TestProjectAdminSeesItsProjectsOnly(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	s.createWebhook(map[string]any{"name": "mine", "project": "alpha", "url": "http://127.0.0.1:9/a", "event_types": []string{"*"}})
	s.createWebhook(map[string]any{"name": "theirs", "project": "beta", "url": "http://127.0.0.1:9/b", "event_types": []string{"*"}})
	c := s.client()
	c.loginToken(s.createToken("project-admin", "alpha"))
	_, body := c.get("/webhooks")
	mustContain(t, body, "mine", "Add webhook")
	mustNotContain(t, body, "theirs")
	_, body = c.get("/webhooks/new")
	mustContain(t, body, `<select id="f-project" name="project"`, `<option value="alpha" selected>`)
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	s := startHerald(t)

	// The browser's preference applies until the user chooses.
	zh := s.client()
	zh.lang = "zh-CN,zh;q=0.9,en;q=0.5"
	_, body := zh.get("/login")
	mustContain(t, body, `<html lang="zh-CN">`, "用户名和密码")

	c := s.client()
	c.loginToken(adminToken)
	_, body = c.get("/webhooks")
	mustContain(t, body, `<html lang="en">`, "Add webhook")
	code, body := c.post("/lang", url.Values{"lang": {"zh-CN"}, "next": {"/webhooks"}})
	if code != http.StatusOK {
		t.Fatalf("switch language: %d", code)
	}
	mustContain(t, body, `<html lang="zh-CN">`, "添加 Webhook", "退出登录")
	mustNotContain(t, body, "Add webhook")
	ck := c.cookie("herald_lang")
	if ck == nil || ck.Value != "zh-CN" {
		t.Fatalf("language cookie %+v, want zh-CN", ck)
	}
	// Remembered: a later page, even with an English browser.
	c.lang = "en"
	_, body = c.get("/webhooks/new")
	mustContain(t, body, "添加 Webhook", "通知条件", "验证类型")
	// An unknown language is ignored.
	c.post("/lang", url.Values{"lang": {"xx"}})
	if ck := c.cookie("herald_lang"); ck == nil || ck.Value != "zh-CN" {
		t.Fatalf("unknown language changed the cookie: %+v", ck)
	}
}

func TestValidationErrorNextToFieldKeepsInput(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	c.get("/webhooks/new")
	form := url.Values{
		"action": {"save"}, "name": {"keep-me"}, "url": {"ftp://example.com/hook"}, "category": {"alarms"},
		"event_types": {"alert.firing"}, "event_types_extra": {"image.*"},
		"cond_label": {"severity"}, "cond_op": {"In"}, "cond_values": {"critical\nwarning"},
		"header_name": {"X-Team"}, "header_value": {"ops"},
		"auth_type": {"basic"}, "auth_username": {"alice"}, "auth_password": {"s3cret-pass"},
		"severity": {"alerts"}, "format": {"standard"}, "language": {"zh-CN"}, "enabled": {"1"}, "timeout": {"5s"},
	}
	code, body := c.post("/webhooks/new", form)
	if code != http.StatusBadRequest {
		t.Fatalf("invalid URL: status %d, want 400", code)
	}
	mustContain(t, body,
		`id="f-url-error"`, "url must start with http:// or https://", `aria-invalid="true" aria-describedby="f-url-error"`,
		`id="error-summary"`, `href="#f-url"`,
		`value="keep-me"`, `value="ftp://example.com/hook"`, `value="alerts" selected`, `value="alarms" selected`,
		`value="alert.firing" checked`, ">image.*</textarea>", `value="severity"`, "critical\nwarning</textarea>",
		`value="X-Team"`, `value="ops"`, `value="alice"`, `value="basic" selected`, `value="5s"`, `value="zh-CN" selected`)

	// An error the service names by row: the condition's values.
	form.Set("url", "http://127.0.0.1:9/hook")
	form["cond_op"] = []string{"Exists"}
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusBadRequest {
		t.Fatalf("bad condition: %d", code)
	}
	mustContain(t, body, `id="f-conditions-0-values-error"`, "operator Exists takes no values")

	// The form's own checks: numbers and durations.
	form["cond_op"] = []string{"In"}
	form.Set("max_attempts", "many")
	form.Set("timeout", "soon")
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusBadRequest {
		t.Fatalf("bad numbers: %d", code)
	}
	mustContain(t, body, `id="f-max_attempts-error"`, "Enter a whole number.", `id="f-timeout-error"`, "Enter a duration")
}

func TestRowButtonsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	c.get("/webhooks/new")
	form := url.Values{"action": {"add_condition"}, "name": {"rows"}, "url": {"http://127.0.0.1:9/"}}
	code, body := c.post("/webhooks/new", form)
	if code != http.StatusOK {
		t.Fatalf("add condition: %d", code)
	}
	mustContain(t, body, `id="f-conditions-0-label"`, `value="rows"`)
	mustNotContain(t, body, `id="f-conditions-1-label"`)

	form = url.Values{"action": {"remove_condition:0"}, "name": {"rows"}, "url": {"http://127.0.0.1:9/"},
		"cond_label": {"a", "b"}, "cond_op": {"Exists", "Exists"}, "cond_values": {"", ""}}
	_, body = c.post("/webhooks/new", form)
	mustContain(t, body, `id="f-conditions-0-label" name="cond_label" value="b"`)
	mustNotContain(t, body, `id="f-conditions-1-label"`)

	_, body = c.post("/webhooks/new", url.Values{"action": {"add_header"}, "name": {"rows"}})
	mustContain(t, body, `id="f-headers-0-name"`)
}

func TestCreateShowsSecretOnceAndConfirmPages(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("thanks"))
	}))
	t.Cleanup(recv.Close)

	c := s.client()
	c.loginToken(adminToken)
	c.get("/webhooks/new")
	form := url.Values{"action": {"save"}, "name": {"secret-once"}, "url": {recv.URL + "/hook"}, "event_types": {"image.push"},
		"auth_type": {"bearer"}, "auth_token": {"tok-123"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}}
	code, body := c.post("/webhooks/new", form)
	if code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, body)
	}
	mustContain(t, body, `id="signing-secret"`, `value="whsec_`, "shown only here, for 10 minutes")
	var list struct {
		Data []struct{ ID, Name string }
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("webhooks: %+v", list.Data)
	}
	id := list.Data[0].ID
	_, body = c.get("/webhooks/" + id)
	mustNotContain(t, body, "whsec_", "tok-123")
	_, body = c.get("/webhooks/" + id + "/edit")
	mustNotContain(t, body, "tok-123")
	mustContain(t, body, "(unchanged; type to replace)")

	// Saving the form without retyping the token keeps it.
	_, body = c.post("/webhooks/"+id+"/edit", url.Values{"action": {"save"}, "name": {"secret-once"}, "url": {recv.URL + "/hook2"},
		"event_types": {"image.push"}, "auth_type": {"bearer"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}})
	mustContain(t, body, "was saved", "/hook2")

	// Send test from the detail page without JavaScript: the page shows the result.
	code, body = c.post("/webhooks/"+id+"/test", nil)
	if code != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("test: %d, receiver hits %d", code, hits.Load())
	}
	mustContain(t, body, "Test delivered", `<b class="test-status">200</b>`, "thanks")

	// Without confirm=yes a delete shows the confirmation page and deletes nothing.
	code, body = c.post("/webhooks/"+id+"/delete", nil)
	if code != http.StatusOK {
		t.Fatalf("delete without confirmation: %d", code)
	}
	mustContain(t, body, "Please confirm", `name="confirm" value="yes"`, "secret-once")
	s.mustAPI(http.StatusOK, "GET", "/webhooks/"+id, nil, nil)
	code, body = c.post("/webhooks/"+id+"/delete", url.Values{"confirm": {"yes"}})
	if code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	mustContain(t, body, "was deleted", "No webhooks yet.")
	s.mustAPI(http.StatusNotFound, "GET", "/webhooks/"+id, nil, nil)
}

func TestSettingsUsersAndTokens(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	code, body := c.get("/settings")
	if code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	mustContain(t, body, "Webhooks enabled", "Deliveries held now: 0.", "this session")

	// Validation errors next to the field, input kept.
	code, body = c.post("/settings/users", url.Values{"username": {"ops-lead"}, "password": {"short"}, "role": {"viewer"}})
	if code != http.StatusBadRequest {
		t.Fatalf("short password: %d", code)
	}
	mustContain(t, body, `id="u-password-error"`, "at least 10 characters", `value="ops-lead"`)

	code, _ = c.post("/settings/users", url.Values{"username": {"ops-lead"}, "password": {"correct horse battery"}, "role": {"viewer"}})
	if code != http.StatusOK {
		t.Fatalf("create user: %d", code)
	}
	u := s.client()
	u.get("/login")
	code, body = u.post("/login", url.Values{"method": {"password"}, "username": {"ops-lead"}, "password": {"correct horse battery"}})
	if code != http.StatusOK {
		t.Fatalf("user login: %d\n%s", code, body)
	}
	mustContain(t, body, "ops-lead", "viewer")
	mustNotContain(t, body, "Add webhook")

	// Tokens: the value is shown once.
	code, body = c.post("/settings/tokens", url.Values{"name": {"ci"}, "role": {"publisher"}, "projects": {"alpha, beta"}})
	if code != http.StatusCreated {
		t.Fatalf("create token: %d", code)
	}
	mustContain(t, body, `id="new-token"`, `value="hrld_`, "alpha, beta")
	_, body = c.get("/settings")
	mustNotContain(t, body, `id="new-token"`)

	// Global switch off: the page says so and the API agrees.
	if code, _ := c.post("/settings", url.Values{"https_only": {"1"}}); code != http.StatusOK {
		t.Fatalf("save settings: %d", code)
	}
	var st struct {
		WebhooksEnabled bool `json:"webhooks_enabled"`
		HTTPSOnly       bool `json:"https_only"`
	}
	s.mustAPI(http.StatusOK, "GET", "/settings", nil, &st)
	if st.WebhooksEnabled || !st.HTTPSOnly {
		t.Fatalf("settings after save: %+v", st)
	}

	// Deleting the user ends its session.
	var users struct {
		Data []struct{ ID, Username string }
	}
	s.mustAPI(http.StatusOK, "GET", "/users", nil, &users)
	if len(users.Data) != 1 {
		t.Fatalf("users: %+v", users.Data)
	}
	if code, _ := c.post("/settings/users/"+users.Data[0].ID+"/delete", url.Values{"confirm": {"yes"}}); code != http.StatusOK {
		t.Fatalf("delete user: %d", code)
	}
	_, body = u.get("/webhooks")
	mustContain(t, body, `id="login-token"`)
}

func TestRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	tok := s.createToken("platform-admin")
	c := s.client()
	c.loginToken(tok)
	var list struct {
		Data []struct{ ID, Name string }
	}
	s.mustAPI(http.StatusOK, "GET", "/tokens", nil, &list)
	for _, t := range list.Data {
		if t.Name == "platform-admin-token" {
			s.mustAPI(http.StatusNoContent, "DELETE", "/tokens/"+t.ID, nil, nil)
		}
	}
	// A form of the ended session: refused with the reason, not a CSRF error.
	code, body := c.post("/webhooks/new", url.Values{"name": {"x"}})
	if code != http.StatusUnauthorized {
		t.Fatalf("post after the token was revoked: %d", code)
	}
	mustContain(t, body, "Your session has ended")
	_, body = c.get("/webhooks")
	mustContain(t, body, `id="login-token"`)
}

func TestStaticAndNotFound(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	_, page := c.get("/login")
	i := strings.Index(page, "/static/htmx.min.js?v=")
	if i < 0 {
		t.Fatal("no versioned htmx link")
	}
	link := page[i : i+strings.IndexByte(page[i:], '"')]
	resp, err := http.Get(s.url + link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("htmx: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	code, _ := c.get("/no/such/page")
	if code != http.StatusNotFound {
		t.Fatalf("unknown page: %d", code)
	}
	// The API and the health endpoints are not the console's.
	resp, err = http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

func TestRotateSecretAndVerifyOwnership(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	const challenge = "shared-challenge-secret"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("crc_token"); tok != "" {
			mac := hmac.New(sha256.New, []byte(challenge))
			mac.Write([]byte(tok))
			json.NewEncoder(w).Encode(map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	id := s.createWebhook(map[string]any{"name": "netdata", "url": recv.URL, "event_types": []string{"*"}, "challenge_secret": challenge})

	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/" + id)
	mustContain(t, body, `action="/webhooks/`+id+`/rotate-secret"`, `id="verify"`)

	// Verify: htmx gets the result fragment only.
	req, _ := http.NewRequest("POST", s.url+"/webhooks/"+id+"/verify", strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body := c.do(req)
	if code != http.StatusOK {
		t.Fatalf("verify: %d", code)
	}
	mustContain(t, body, "Ownership verified", `<b class="test-status">200</b>`)
	mustNotContain(t, body, "<html")

	// Rotate: asks first, then shows the new secret once.
	code, body = c.post("/webhooks/"+id+"/rotate-secret", url.Values{"grace": {"1h"}})
	if code != http.StatusOK {
		t.Fatalf("rotate without confirmation: %d", code)
	}
	mustContain(t, body, "Please confirm", `name="grace" value="1h"`)
	code, body = c.post("/webhooks/"+id+"/rotate-secret", url.Values{"grace": {"1h"}, "confirm": {"yes"}})
	if code != http.StatusOK {
		t.Fatalf("rotate: %d", code)
	}
	mustContain(t, body, "Signing secret rotated", `value="whsec_`, "keeps signing (a second signature) until")
}

func TestSendTestFragmentForHTMX(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("short and stout"))
	}))
	t.Cleanup(recv.Close)
	c := s.client()
	c.loginToken(adminToken)
	c.get("/webhooks/new")
	form := url.Values{"csrf": {c.csrf}, "action": {"test"}, "name": {"t"}, "url": {recv.URL}, "event_types": {"*"}}
	req, _ := http.NewRequest("POST", s.url+"/webhooks/new", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body := c.do(req)
	if code != http.StatusOK {
		t.Fatalf("send test: %d", code)
	}
	mustContain(t, body, "Test failed", `<b class="test-status">418</b>`, "short and stout")
	mustNotContain(t, body, "<html")

	// Invalid input: the fragment lists what to fix, linking to the fields.
	form.Set("url", "not a url")
	req, _ = http.NewRequest("POST", s.url+"/webhooks/new", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body = c.do(req)
	if code != http.StatusBadRequest {
		t.Fatalf("send test with a bad URL: %d", code)
	}
	mustContain(t, body, "The test was not sent", `href="#f-url"`)
	var list struct{ Data []any }
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatal("a test before saving saved the webhook")
	}
}
