package sender

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// chatFake is a loopback stand-in for a chat platform that enforces the
// platform's documented contract: the body schema, the signature when the
// robot has a secret, a keyword when it has one, and its answers (error codes
// in HTTP 200 bodies, 429 with retry hints).
type chatFake struct {
	format  string
	secret  string // robot's signing secret; "" = unsigned robot
	keyword string // robot's custom keyword; "" = none
	limited bool   // answer with the platform's rate-limit signal

	mu     sync.Mutex
	bodies [][]byte
	header http.Header
	srv    *httptest.Server
}

func newChatFake(t *testing.T, f *chatFake) *chatFake {
	t.Helper()
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *chatFake) url() string {
	switch f.format {
	case herald.FormatDingTalk:
		return f.srv.URL + "/robot/send?access_token=tok123"
	case herald.FormatWeCom:
		return f.srv.URL + "/cgi-bin/webhook/send?key=key123"
	case herald.FormatFeishu, herald.FormatLark:
		return f.srv.URL + "/open-apis/bot/v2/hook/hook123"
	case herald.FormatDiscord:
		return f.srv.URL + "/api/webhooks/1/tok"
	}
	return f.srv.URL + "/hook"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *chatFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.header = r.Header.Clone()
	f.mu.Unlock()
	var m map[string]any
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &m) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	str := func(x any) string { s, _ := x.(string); return s }
	sub := func(k string) map[string]any { x, _ := m[k].(map[string]any); return x }
	now := time.Now()
	switch f.format {
	case herald.FormatSlack:
		if str(m["text"]) == "" && m["blocks"] == nil {
			http.Error(w, "no_text", http.StatusBadRequest)
			return
		}
		if f.limited {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "rate_limited", http.StatusTooManyRequests)
			return
		}
		if f.secret == "bad-token" {
			http.Error(w, "invalid_token", http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "ok")
	case herald.FormatDiscord:
		embeds, _ := m["embeds"].([]any)
		if len([]rune(str(m["content"]))) > 2000 || (str(m["content"]) == "" && len(embeds) == 0) || len(embeds) > 10 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50006, "message": "Cannot send an empty message"})
			return
		}
		if f.secret == "deleted" {
			writeJSON(w, http.StatusNotFound, map[string]any{"code": 10015, "message": "Unknown Webhook"})
			return
		}
		if f.limited {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": 2.5, "global": false})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case herald.FormatTeams:
		att, _ := m["attachments"].([]any)
		if m["type"] != "message" || len(att) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		a, _ := att[0].(map[string]any)
		c, _ := a["content"].(map[string]any)
		if a["contentType"] != "application/vnd.microsoft.card.adaptive" || c["type"] != "AdaptiveCard" {
			http.Error(w, "bad card", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case herald.FormatFeishu, herald.FormatLark:
		if f.secret != "" {
			ts, sign := str(m["timestamp"]), str(m["sign"])
			sec, err := strconv.ParseInt(ts, 10, 64)
			mac := hmac.New(sha256.New, []byte(ts+"\n"+f.secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if err != nil || sign != want || now.Sub(time.Unix(sec, 0)).Abs() > time.Hour {
				writeJSON(w, 200, map[string]any{"code": 19021, "data": map[string]any{}, "msg": "sign match fail or timestamp is not within one hour from current time"})
				return
			}
		}
		switch m["msg_type"] {
		case "interactive":
			if sub("card") == nil {
				writeJSON(w, 200, map[string]any{"code": 9499, "msg": "Bad Request"})
				return
			}
		case "post", "text":
		default:
			writeJSON(w, 200, map[string]any{"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
			return
		}
		if f.keyword != "" && !strings.Contains(string(body), f.keyword) {
			writeJSON(w, 200, map[string]any{"code": 19024, "msg": "Key Words Not Found"})
			return
		}
		if f.limited {
			writeJSON(w, 200, map[string]any{"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"})
			return
		}
		writeJSON(w, 200, map[string]any{"code": 0, "data": map[string]any{}, "msg": "success"})
	case herald.FormatDingTalk:
		q := r.URL.Query()
		if q.Get("access_token") != "tok123" {
			writeJSON(w, 200, map[string]any{"errcode": 300001, "errmsg": "token is not exist"})
			return
		}
		if f.secret != "" {
			ts := q.Get("timestamp")
			ms, err := strconv.ParseInt(ts, 10, 64)
			mac := hmac.New(sha256.New, []byte(f.secret))
			mac.Write([]byte(ts + "\n" + f.secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if err != nil || q.Get("sign") != want || now.Sub(time.UnixMilli(ms)).Abs() > time.Hour {
				writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"})
				return
			}
		}
		ok := false
		switch m["msgtype"] {
		case "markdown":
			md := sub("markdown")
			ok = str(md["title"]) != "" && str(md["text"]) != ""
		case "actionCard":
			ac := sub("actionCard")
			ok = str(ac["title"]) != "" && str(ac["text"]) != "" && str(ac["singleTitle"]) != "" && str(ac["singleURL"]) != ""
		}
		if !ok || len(body) > 20000 {
			writeJSON(w, 200, map[string]any{"errcode": 40035, "errmsg": "缺少参数 json"})
			return
		}
		if f.keyword != "" && !strings.Contains(string(body), f.keyword) {
			writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"})
			return
		}
		if f.limited {
			writeJSON(w, 200, map[string]any{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
			return
		}
		writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"})
	case herald.FormatWeCom:
		if r.URL.Query().Get("key") != "key123" {
			writeJSON(w, 200, map[string]any{"errcode": 93000, "errmsg": "invalid webhook url, hint: [1]"})
			return
		}
		md := sub("markdown")
		if m["msgtype"] != "markdown" || str(md["content"]) == "" {
			writeJSON(w, 200, map[string]any{"errcode": 40008, "errmsg": "invalid message type"})
			return
		}
		if len(str(md["content"])) > 4096 {
			writeJSON(w, 200, map[string]any{"errcode": 45002, "errmsg": "content size out of limit"})
			return
		}
		if f.limited {
			writeJSON(w, 200, map[string]any{"errcode": 45009, "errmsg": "api freq out of limit"})
			return
		}
		writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"})
	}
}

func chatSend(t *testing.T, s *Sender, f *chatFake, auth herald.Auth, ev *herald.Event) Result {
	t.Helper()
	w := &herald.Webhook{ID: "wh_chat_" + f.format, URL: f.url(), Format: f.format, Language: "zh-CN", Auth: auth, StandardHeaders: true, UpdatedAt: time.Unix(1, 0)}
	r, err := format.Render(w, ev)
	if err != nil {
		t.Fatal(err)
	}
	return s.Send(context.Background(), w, Request{MsgID: "msg_1", Timestamp: time.Now(), Body: r.Body, ContentType: r.ContentType, Signature: "v1,abc"})
}

func chatTestEvent() *herald.Event {
	now := time.Now().UTC()
	return &herald.Event{
		ID: "evt_1", Type: "alert.firing", Project: "ops", Subject: "node-1", Severity: herald.SeverityCritical,
		Labels:     map[string]string{"alertname": "HighCPU", "instance": "node-1:9100"},
		Data:       json.RawMessage(`{"annotations":{"summary":"CPU above 90%"},"generatorURL":"https://prom.example/g"}`),
		OccurredAt: now, ReceivedAt: now,
	}
}

func TestChatPlatformsAccept(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback})
	for _, fm := range format.ChatFormats() {
		t.Run(fm, func(t *testing.T) {
			t.Parallel()
			f := newChatFake(t, &chatFake{format: fm})
			res := chatSend(t, s, f, herald.Auth{}, chatTestEvent())
			if res.Outcome != Success || res.Err != "" {
				t.Fatalf("outcome %v, status %d, err %q, body %q", res.Outcome, res.StatusCode, res.Err, res.ResponseBody)
			}
			// The Standard Webhooks headers are still sent.
			if f.header.Get("Webhook-Id") != "msg_1" || f.header.Get("Webhook-Signature") != "v1,abc" {
				t.Errorf("standard headers missing: %v", f.header)
			}
		})
	}
}

func TestChatSigned(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback})
	for _, fm := range []string{herald.FormatFeishu, herald.FormatLark, herald.FormatDingTalk} {
		t.Run(fm, func(t *testing.T) {
			t.Parallel()
			f := newChatFake(t, &chatFake{format: fm, secret: "SEC-robot-secret"})
			// Unsigned: the platform refuses, and that is a permanent failure
			// that says what to fix.
			res := chatSend(t, s, f, herald.Auth{}, chatTestEvent())
			if res.Outcome != Fail || res.StatusCode != 200 || !strings.Contains(res.Err, "auth.secret") {
				t.Fatalf("unsigned: outcome %v, err %q", res.Outcome, res.Err)
			}
			if !strings.Contains(res.Err, "19021") && !strings.Contains(res.Err, "310000") {
				t.Errorf("unsigned: the platform's code is not in %q", res.Err)
			}
			// Wrong secret: the same.
			res = chatSend(t, s, f, herald.Auth{Type: herald.AuthSign, Secret: "wrong"}, chatTestEvent())
			if res.Outcome != Fail {
				t.Fatalf("wrong secret: outcome %v, err %q", res.Outcome, res.Err)
			}
			res = chatSend(t, s, f, herald.Auth{Type: herald.AuthSign, Secret: "SEC-robot-secret"}, chatTestEvent())
			if res.Outcome != Success {
				t.Fatalf("signed: outcome %v, err %q, body %q", res.Outcome, res.Err, res.ResponseBody)
			}
			for k, v := range res.RequestHeaders {
				if strings.Contains(strings.Join(v, ""), "SEC-robot-secret") {
					t.Errorf("secret in request header %s", k)
				}
			}
		})
	}
}

func TestChatSignVectors(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1700000000123)
	ts, sign := FeishuSign("demo", at)
	mac := hmac.New(sha256.New, []byte("1700000000\ndemo"))
	if ts != "1700000000" || sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("feishu %s %s", ts, sign)
	}
	ts, sign = DingTalkSign("demo", at)
	mac = hmac.New(sha256.New, []byte("demo"))
	mac.Write([]byte("1700000000123\ndemo"))
	if ts != "1700000000123" || sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("dingtalk %s %s", ts, sign)
	}
	// The DingTalk URL keeps its access_token and carries the URL-encoded sign.
	u, _, err := signChat(herald.FormatDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=t", nil, "demo", at)
	if err != nil || !strings.Contains(u, "access_token=t") || !strings.Contains(u, "sign="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(sign)) {
		t.Errorf("dingtalk url %s (%v)", u, err)
	}
	// A Feishu body stays one JSON object with the other fields kept.
	_, b, err := signChat(herald.FormatFeishu, "u", []byte(`{"msg_type":"text"}`), "demo", at)
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil || m["msg_type"] != "text" || m["timestamp"] != "1700000000" || m["sign"] == "" {
		t.Errorf("feishu body %s (%v)", b, err)
	}
	_, b, err = signChat(herald.FormatFeishu, "u", []byte(` {} `), "demo", at)
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Errorf("feishu empty body %s (%v)", b, err)
	}
	if _, _, err := signChat(herald.FormatFeishu, "u", []byte(`[]`), "demo", at); err == nil {
		t.Error("a non-object body was signed")
	}
}

// Rate-limit answers are retried after the platform's hint; the others are
// permanent failures naming the platform's code and what to fix.
func TestChatAnswers(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback})
	tests := []struct {
		name       string
		fake       *chatFake
		urlSuffix  string
		outcome    Outcome
		retryAfter time.Duration
		errHas     []string
	}{
		{"discord 429", &chatFake{format: herald.FormatDiscord, limited: true}, "", Retry, 2500 * time.Millisecond, []string{"429", "rate limited"}},
		{"discord deleted", &chatFake{format: herald.FormatDiscord, secret: "deleted"}, "", Fail, 0, []string{"404", "Unknown Webhook", "deleted"}},
		{"slack 429", &chatFake{format: herald.FormatSlack, limited: true}, "", Retry, 30 * time.Second, []string{"rate_limited"}},
		{"slack token", &chatFake{format: herald.FormatSlack, secret: "bad-token"}, "", Fail, 0, []string{"403", "invalid_token", "revoked"}},
		{"dingtalk limited", &chatFake{format: herald.FormatDingTalk, limited: true}, "", Retry, 10 * time.Minute, []string{"130101", "send too fast"}},
		{"dingtalk keyword", &chatFake{format: herald.FormatDingTalk, keyword: "NOPE"}, "", Fail, 0, []string{"310000", "keyword"}},
		{"dingtalk token", &chatFake{format: herald.FormatDingTalk}, "x", Fail, 0, []string{"300001", "access_token"}},
		{"wecom limited", &chatFake{format: herald.FormatWeCom, limited: true}, "", Retry, time.Minute, []string{"45009"}},
		{"wecom key", &chatFake{format: herald.FormatWeCom}, "x", Fail, 0, []string{"93000", "key in the URL"}},
		{"feishu limited", &chatFake{format: herald.FormatFeishu, limited: true}, "", Retry, 10 * time.Second, []string{"11232", "frequency limited"}},
		{"feishu keyword", &chatFake{format: herald.FormatFeishu, keyword: "NOPE"}, "", Fail, 0, []string{"19024", "keyword"}},
		{"feishu keyword ok", &chatFake{format: herald.FormatFeishu, keyword: "Herald"}, "", Success, 0, nil},
		{"dingtalk keyword ok", &chatFake{format: herald.FormatDingTalk, keyword: "Herald"}, "", Success, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newChatFake(t, tt.fake)
			w := &herald.Webhook{ID: "wh_" + tt.name, URL: f.url() + tt.urlSuffix, Format: f.format, Language: "en", StandardHeaders: true, UpdatedAt: time.Unix(1, 0)}
			r, err := format.Render(w, chatTestEvent())
			if err != nil {
				t.Fatal(err)
			}
			res := s.Send(context.Background(), w, Request{MsgID: "m", Timestamp: time.Now(), Body: r.Body})
			if res.Outcome != tt.outcome || res.RetryAfter != tt.retryAfter {
				t.Fatalf("outcome %v retry after %v, want %v %v (err %q, body %q)", res.Outcome, res.RetryAfter, tt.outcome, tt.retryAfter, res.Err, res.ResponseBody)
			}
			for _, want := range tt.errHas {
				if !strings.Contains(res.Err, want) {
					t.Errorf("err %q lacks %q", res.Err, want)
				}
			}
			if tt.outcome == Success && res.Err != "" {
				t.Errorf("success with err %q", res.Err)
			}
		})
	}
}

func TestOutcomeFailString(t *testing.T) {
	t.Parallel()
	if got := fmt.Sprint(Fail); got != "fail" {
		t.Errorf("Fail prints %q", got)
	}
}

// The sender's list of chat formats is the format package's.
func TestChatFormatsAgree(t *testing.T) {
	t.Parallel()
	for _, f := range format.Formats() {
		if isChat(f) != format.IsChat(f) {
			t.Errorf("%s: sender %v, format %v", f, isChat(f), format.IsChat(f))
		}
	}
}
