package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeDingTalk answers like a DingTalk robot with signing on: the URL's
// timestamp and sign must verify with secret, else errcode 310000 in a 200.
func fakeDingTalk(secret string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ts := q.Get("timestamp")
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "\n" + secret))
		ms, err := strconv.ParseInt(ts, 10, 64)
		w.Header().Set("Content-Type", "application/json")
		if err != nil || q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || time.Since(time.UnixMilli(ms)).Abs() > time.Hour {
			_, _ = w.Write([]byte(`{"errcode":310000,"errmsg":"sign not match"}`))
			return
		}
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}
}

// fakeFeishu answers like a Feishu bot with signing on.
func fakeFeishu(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Timestamp string `json:"timestamp"`
			Sign      string `json:"sign"`
			MsgType   string `json:"msg_type"`
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.MsgType != "interactive" {
			_, _ = w.Write([]byte(`{"code":9499,"msg":"Bad Request"}`))
			return
		}
		mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+secret))
		if m.Sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			_, _ = w.Write([]byte(`{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`))
			return
		}
		_, _ = w.Write([]byte(`{"code":0,"data":{},"msg":"success"}`))
	}
}

// A signed DingTalk robot gets a readable markdown card, signed at send time;
// the secret is write-only; the platform's rate limit is the default.
func TestChatDingTalkSignedEndToEnd(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, fakeDingTalk("SECdingtalk"))
	wh := h.createWebhook(map[string]any{
		"url": rc.URL + "/robot/send?access_token=tok", "format": "dingtalk", "language": "zh-CN",
		"auth": map[string]any{"type": "sign", "secret": "SECdingtalk"},
	})
	var got map[string]any
	raw := h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, &got)
	if strings.Contains(string(raw), "SECdingtalk") {
		t.Fatalf("the signing secret is shown: %s", raw)
	}
	if a, _ := got["auth"].(map[string]any); a["type"] != "sign" || a["secret"] != "********" {
		t.Errorf("auth %v", got["auth"])
	}
	if got["rate_limit"] != float64(1) {
		t.Errorf("rate_limit %v, want the platform default 1", got["rate_limit"])
	}
	h.sendEvents(map[string]any{
		"id": "chat-1", "type": "alert.firing", "project": "ops", "subject": "node-1", "severity": "critical",
		"labels": map[string]string{"alertname": "HighCPU"},
		"data":   map[string]any{"annotations": map[string]any{"summary": "CPU above 90%"}, "generatorURL": "https://prom.example/g"},
	})
	eventually(t, 10*time.Second, "the dingtalk delivery", func() bool {
		ds := h.deliveries("webhook=" + wh.ID)
		return len(ds) == 1 && ds[0].State == "succeeded"
	})
	var m map[string]any
	if err := json.Unmarshal(rc.all()[0].body, &m); err != nil {
		t.Fatal(err)
	}
	ac, _ := m["actionCard"].(map[string]any)
	text, _ := ac["text"].(string)
	if m["msgtype"] != "actionCard" || !strings.Contains(text, "告警 HighCPU") || ac["singleURL"] != "https://prom.example/g" {
		t.Errorf("body %s", rc.all()[0].body)
	}
	if rc.all()[0].header.Get("Webhook-Id") == "" {
		t.Error("the Standard Webhooks headers were not sent")
	}
}

// "Send test" shows the platform's own answer: a Feishu bot refusing a bad
// signature with code 19021 in an HTTP 200 is a failed test naming the code.
func TestChatSendTestShowsPlatformAnswer(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := httptest.NewServer(fakeFeishu("right"))
	t.Cleanup(rc.Close)
	wh := h.createWebhook(map[string]any{
		"url": rc.URL + "/open-apis/bot/v2/hook/x", "format": "feishu",
		"auth": map[string]any{"type": "sign", "secret": "wrong"},
	})
	var res struct {
		OK              bool   `json:"ok"`
		StatusCode      int    `json:"status_code"`
		ResponseExcerpt string `json:"response_excerpt"`
		Error           string `json:"error"`
	}
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if res.OK || res.StatusCode != 200 || !strings.Contains(res.ResponseExcerpt, "19021") || !strings.Contains(res.Error, "auth.secret") {
		t.Fatalf("test with a wrong secret: %+v", res)
	}
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"auth": map[string]any{"secret": "right"}}, nil)
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if !res.OK || !strings.Contains(res.ResponseExcerpt, `"code":0`) {
		t.Fatalf("test with the right secret: %+v", res)
	}
}

// auth type sign is only for the platforms that sign; others get 400 naming
// auth.type, and a sign without a secret names auth.secret.
func TestChatSignRefused(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	for _, tc := range []struct {
		format, secret, field string
	}{
		{"slack", "s", "auth.type"}, {"standard", "s", "auth.type"}, {"wecom", "s", "auth.type"}, {"dingtalk", "", "auth.secret"},
	} {
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks", map[string]any{
			"name": "c-" + tc.format, "url": "https://hooks.example/x", "event_types": []string{"*"},
			"format": tc.format, "auth": map[string]any{"type": "sign", "secret": tc.secret},
		}, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", tc.format, code, raw)
		}
	}
}

// A Discord webhook answers 204; a Slack one "ok": both count as delivered.
func TestChatDiscordAndSlackDelivered(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	discord := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	slack := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	d := h.createWebhook(map[string]any{"url": discord.URL + "/api/webhooks/1/t", "format": "discord"})
	s := h.createWebhook(map[string]any{"url": slack.URL, "format": "slack", "rate_limit": 7})
	var got map[string]any
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+s.ID, nil, &got)
	if got["rate_limit"] != float64(7) {
		t.Errorf("the user's rate_limit lost: %v", got["rate_limit"])
	}
	h.sendEvents(map[string]any{"id": "chat-2", "type": "image.push", "project": "prj", "subject": "prj/app:1"})
	for _, id := range []string{d.ID, s.ID} {
		eventually(t, 10*time.Second, "delivery to "+id, func() bool {
			ds := h.deliveries("webhook=" + id)
			return len(ds) == 1 && ds[0].State == "succeeded"
		})
	}
	var m map[string]any
	if err := json.Unmarshal(discord.all()[0].body, &m); err != nil || m["embeds"] == nil || !strings.Contains(m["content"].(string), "prj/app:1") {
		t.Errorf("discord body %s", discord.all()[0].body)
	}
	if err := json.Unmarshal(slack.all()[0].body, &m); err != nil || m["blocks"] == nil || m["text"] == nil {
		t.Errorf("slack body %s", slack.all()[0].body)
	}
}
