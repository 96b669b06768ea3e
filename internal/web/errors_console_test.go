package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// In Chinese, the service's validation errors are shown next to their
// fields in Chinese, never in English; the API's error bodies stay as they
// were: code, English message and field, no key.
func TestServiceErrorsInChinese(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	if code, _ := c.post("/lang", url.Values{"lang": {"zh-CN"}, "next": {"/webhooks/new"}}); code != http.StatusOK {
		t.Fatalf("switch language: %d", code)
	}
	form := url.Values{
		"action": {"save"}, "name": {"zh-errors"}, "url": {"ftp://example.com/hook"}, "category": {"events"},
		"event_types": {"image.push"}, "cond_label": {"severity"}, "cond_op": {"In"}, "cond_values": {""},
		"auth_type": {"basic"}, "auth_username": {"alice"}, "auth_password": {""},
		"severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"},
	}
	// The service names the first bad field; each fix shows the next one.
	for _, tc := range []struct {
		fix       func()
		id        string
		zh, en    string
		apiField  string
		apiStatus int
	}{
		{nil, "f-url-error", "URL 必须以 http:// 或 https:// 开头。", "url must start with http:// or https://", "url", 400},
		{func() { form.Set("url", "http://127.0.0.1:9/hook") }, "f-conditions-0-values-error",
			"运算符 In 至少需要一个值。", "operator In needs at least one value", "conditions[0].values", 400},
		{func() { form.Set("cond_values", "critical") }, "f-auth-password-error",
			"Basic 认证需要密码。", "basic auth needs a password", "auth.password", 400},
	} {
		if tc.fix != nil {
			tc.fix()
		}
		code, body := c.post("/webhooks/new", form)
		if code != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400:\n%s", tc.id, code, body)
		}
		mustContain(t, body, `<html lang="zh-CN">`, `<p class="field-error" id="`+tc.id+`">`+tc.zh+`</p>`, `id="error-summary"`)
		mustNotContain(t, body, tc.en)

		// The same input through the API: the English message, no key.
		in := map[string]any{
			"name": "zh-errors", "url": form.Get("url"), "event_types": []string{"image.push"},
			"conditions": []map[string]any{{"label": "severity", "operator": "In", "values": nonEmpty(form.Get("cond_values"))}},
			"auth":       map[string]any{"type": "basic", "username": "alice"},
		}
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", s.url+"/api/v1/webhooks", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out map[string]map[string]any
		if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != tc.apiStatus {
			t.Fatalf("API: status %d, %v: %s", resp.StatusCode, err, raw)
		}
		e := out["error"]
		if keys := slices.Sorted(maps.Keys(e)); !slices.Equal(keys, []string{"code", "field", "message"}) {
			t.Errorf("API error body has %v, want [code field message]: %s", keys, raw)
		}
		if e["code"] != "invalid" || e["message"] != tc.en || e["field"] != tc.apiField {
			t.Errorf("API error body %s, want code invalid, message %q, field %q", raw, tc.en, tc.apiField)
		}
	}

	// In English, the console shows the same words as the API.
	if code, _ := c.post("/lang", url.Values{"lang": {"en"}, "next": {"/webhooks/new"}}); code != http.StatusOK {
		t.Fatalf("switch language: %d", code)
	}
	_, body := c.post("/webhooks/new", form)
	mustContain(t, body, `<p class="field-error" id="f-auth-password-error">basic auth needs a password</p>`)

	// A throttled login is explained in Chinese on the login page.
	zh := s.client()
	zh.lang = "zh-CN"
	zh.get("/login")
	for range 5 {
		if code, _ := zh.post("/login", url.Values{"method": {"password"}, "username": {"nobody"}, "password": {"wrong-password"}}); code != http.StatusUnauthorized {
			t.Fatalf("failed login: %d, want 401", code)
		}
	}
	code, body := zh.post("/login", url.Values{"method": {"password"}, "username": {"nobody"}, "password": {"wrong-password"}})
	if code != http.StatusTooManyRequests {
		t.Fatalf("throttled login: %d, want 429", code)
	}
	mustContain(t, body, `id="login-error"`, "该用户登录失败次数过多，请 15 分钟后再试。", `name="username"`)
	mustNotContain(t, body, "too many failed logins")
}

func nonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return []string{s}
}
