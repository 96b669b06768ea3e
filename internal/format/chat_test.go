package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/herald-hq/herald"
)

// chatEvent is a firing alert with more labels than a chat message shows.
func chatEvent() *herald.Event {
	ev := firingEvent()
	ev.Labels["cluster"] = "prod-eu"
	ev.Labels["namespace"] = "monitoring"
	ev.Labels["team"] = "sre"
	ev.Labels["zone"] = "eu-west-1a"
	return ev
}

func TestChatGolden(t *testing.T) {
	t.Parallel()
	for _, f := range ChatFormats() {
		if f == herald.FormatLark {
			continue // the same body as feishu, tested below
		}
		for _, lang := range []string{"en", "zh-CN"} {
			name := "chat_" + f + "_" + lang + ".json"
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r, err := Render(webhook(f, lang), chatEvent())
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if r.ContentType != ContentTypeJSON {
					t.Errorf("content type %q", r.ContentType)
				}
				var buf bytes.Buffer
				if err := json.Indent(&buf, r.Body, "", "  "); err != nil {
					t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
				}
				buf.WriteByte('\n')
				golden(t, name, buf.Bytes())
			})
		}
	}
	// A resolved alert without a link, in a plain markdown message.
	r, err := Render(webhook(herald.FormatDingTalk, "en"), &herald.Event{
		ID: "evt_x", Type: "host.recovered", Subject: "node-2", OccurredAt: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, r.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	golden(t, "chat_dingtalk_nolink.json", buf.Bytes())
}

func TestChatLarkIsFeishu(t *testing.T) {
	t.Parallel()
	a, err1 := Render(webhook(herald.FormatFeishu, "en"), chatEvent())
	b, err2 := Render(webhook(herald.FormatLark, "en"), chatEvent())
	if err1 != nil || err2 != nil || !bytes.Equal(a.Body, b.Body) {
		t.Fatalf("lark differs from feishu: %v %v\n%s\n%s", err1, err2, a.Body, b.Body)
	}
}

// Every chat body has the fields its platform requires, shows at most
// MaxChatLabels labels and says how many more there are, and carries the
// link and the severity colour.
func TestChatSchema(t *testing.T) {
	t.Parallel()
	ev := chatEvent()
	for _, lang := range []string{"en", "zh-CN"} {
		more := "+3 more"
		if lang == "zh-CN" {
			more = "另有 3 个"
		}
		for _, f := range ChatFormats() {
			m := renderMap(t, webhook(f, lang), ev)
			raw, _ := json.Marshal(m)
			s := string(raw)
			if !strings.Contains(s, more) {
				t.Errorf("%s/%s: no %q in %s", f, lang, more, s)
			}
			if !strings.Contains(s, "http://prometheus.example.com/graph?g0.expr=cpu") {
				t.Errorf("%s/%s: link missing", f, lang)
			}
			if strings.Contains(s, "app.kubernetes.io/name") || strings.Contains(s, "zone") {
				t.Errorf("%s/%s: a label beyond the first %d is shown: %s", f, lang, MaxChatLabels, s)
			}
			for _, want := range []string{"HighCPU", "node-1:9100", "prod-eu", "monitoring", "node", "alert.firing", "ops", "2026-03-01"} {
				if !strings.Contains(s, want) {
					t.Errorf("%s/%s: %q missing", f, lang, want)
				}
			}
			checkChatSchema(t, f, m)
		}
	}
}

func checkChatSchema(t *testing.T, f string, m map[string]any) {
	t.Helper()
	str := func(x any) string { s, _ := x.(string); return s }
	switch f {
	case herald.FormatSlack:
		blocks, _ := m["blocks"].([]any)
		if str(m["text"]) == "" || len(blocks) < 2 {
			t.Errorf("slack: text/blocks missing: %v", m)
		}
		for _, b := range blocks {
			if str(b.(map[string]any)["type"]) == "" {
				t.Errorf("slack: block without type")
			}
		}
	case herald.FormatDiscord:
		embeds, _ := m["embeds"].([]any)
		if len(embeds) != 1 || str(m["content"]) == "" {
			t.Fatalf("discord: %v", m)
		}
		e := embeds[0].(map[string]any)
		if e["color"] != float64(0xE01E5A) {
			t.Errorf("discord: colour %v, want critical red", e["color"])
		}
	case herald.FormatTeams:
		att, _ := m["attachments"].([]any)
		if m["type"] != "message" || len(att) != 1 {
			t.Fatalf("teams: %v", m)
		}
		a := att[0].(map[string]any)
		c, _ := a["content"].(map[string]any)
		if a["contentType"] != "application/vnd.microsoft.card.adaptive" || c["type"] != "AdaptiveCard" || c["version"] == nil {
			t.Errorf("teams: attachment %v", a)
		}
	case herald.FormatFeishu, herald.FormatLark:
		card, _ := m["card"].(map[string]any)
		h, _ := card["header"].(map[string]any)
		if m["msg_type"] != "interactive" || h["template"] != "red" {
			t.Errorf("feishu: %v", m)
		}
	case herald.FormatDingTalk:
		ac, _ := m["actionCard"].(map[string]any)
		if m["msgtype"] != "actionCard" || str(ac["title"]) == "" || str(ac["text"]) == "" || str(ac["singleURL"]) == "" {
			t.Errorf("dingtalk: %v", m)
		}
	case herald.FormatWeCom:
		md, _ := m["markdown"].(map[string]any)
		if m["msgtype"] != "markdown" || str(md["content"]) == "" {
			t.Errorf("wecom: %v", m)
		}
	}
}

// An event whose message and labels are far beyond every platform's limits
// still renders within them, cut on UTF-8 boundaries with the marker.
func TestChatLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("告警内容很长", 20000)
	ev := chatEvent()
	ev.Message = long
	ev.Subject = long
	for k := range ev.Labels {
		ev.Labels[k] = long
	}
	ev.Labels[strings.Repeat("k", 5000)] = long
	for _, f := range ChatFormats() {
		r, err := Render(webhook(f, "zh-CN"), ev)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !utf8.Valid(r.Body) {
			t.Errorf("%s: body is not UTF-8", f)
		}
		if !bytes.Contains(r.Body, []byte(ChatEllipsis)) {
			t.Errorf("%s: no truncation marker", f)
		}
		m := renderMap(t, webhook(f, "zh-CN"), ev)
		n := func(x any) int { s, _ := x.(string); return utf8.RuneCountInString(s) }
		switch f {
		case herald.FormatSlack:
			if n(m["text"]) > slackTextMax {
				t.Errorf("slack text %d", n(m["text"]))
			}
			for _, b := range m["blocks"].([]any) {
				b := b.(map[string]any)
				if tx, ok := b["text"].(map[string]any); ok {
					max := slackSectionMax
					if b["type"] == "header" {
						max = slackHeaderMax
					}
					if n(tx["text"]) > max {
						t.Errorf("slack %s block text %d > %d", b["type"], n(tx["text"]), max)
					}
				}
				if fs, ok := b["fields"].([]any); ok {
					for _, fl := range fs {
						if n(fl.(map[string]any)["text"]) > slackFieldMax {
							t.Errorf("slack field too long")
						}
					}
				}
			}
		case herald.FormatDiscord:
			e := m["embeds"].([]any)[0].(map[string]any)
			total := n(e["title"]) + n(e["description"]) + n(e["footer"].(map[string]any)["text"])
			for _, fl := range e["fields"].([]any) {
				fl := fl.(map[string]any)
				total += n(fl["name"]) + n(fl["value"])
			}
			if n(m["content"]) > discordContentMax || n(e["title"]) > discordTitleMax || n(e["description"]) > discordDescMax || total > 6000 {
				t.Errorf("discord: content %d title %d description %d total %d", n(m["content"]), n(e["title"]), n(e["description"]), total)
			}
		case herald.FormatTeams:
			if len(r.Body) > teamsBodyMax {
				t.Errorf("teams body %d bytes", len(r.Body))
			}
		case herald.FormatFeishu, herald.FormatLark:
			if len(r.Body) > feishuBodyMax {
				t.Errorf("feishu body %d bytes", len(r.Body))
			}
		case herald.FormatDingTalk:
			if len(r.Body) > dingtalkTextMax {
				t.Errorf("dingtalk body %d bytes", len(r.Body))
			}
		case herald.FormatWeCom:
			c := m["markdown"].(map[string]any)["content"].(string)
			if len(c) > wecomMarkdownMax {
				t.Errorf("wecom content %d bytes", len(c))
			}
		}
	}
}

func TestTruncUTF8(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"告警内容", 3, "告警…"},
	} {
		if got := truncRunes(tt.s, tt.n); got != tt.want {
			t.Errorf("truncRunes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	// "告" is 3 bytes, "…" too: 7 bytes hold one character and the marker.
	for n := 3; n < 12; n++ {
		got := truncBytes("告警内容", n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Errorf("truncBytes(%d) = %q (%d bytes)", n, got, len(got))
		}
	}
	if got := truncBytes("告警内容", 7); got != "告…" {
		t.Errorf("truncBytes 7 = %q", got)
	}
}

// Only data URLs with an http(s) scheme become links.
func TestChatLink(t *testing.T) {
	t.Parallel()
	for data, want := range map[string]string{
		`{"url":"javascript:alert(1)","link":"https://ok.example/x"}`: "https://ok.example/x",
		`{"generatorURL":"http://p/g"}`:                               "http://p/g",
		`{"url":"ftp://x/y"}`:                                         "",
		`{}`:                                                          "",
	} {
		if got := ChatLink(&herald.Event{Data: json.RawMessage(data)}); got != want {
			t.Errorf("%s: %q, want %q", data, got, want)
		}
	}
}

// auth type sign is refused on formats that cannot sign.
func TestChatSignAuthFormats(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		w := webhook(f, "en")
		w.Auth = herald.Auth{Type: herald.AuthSign, Secret: "s"}
		err := Validate(w)
		if Signable(f) {
			if err != nil {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		if f == herald.FormatTemplate {
			w.Template = `{}`
			err = Validate(w)
		}
		var he *herald.Error
		if !errors.As(err, &he) || he.Field != "auth.type" {
			t.Errorf("%s: %v, want an error naming auth.type", f, err)
		}
	}
}

func TestSuggestFormat(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/x":                                            herald.FormatSlack,
		"https://discord.com/api/webhooks/1/tok":                                              herald.FormatDiscord,
		"https://discordapp.com/api/webhooks/1/tok":                                           herald.FormatDiscord,
		"https://discord.com/channels/1":                                                      "",
		"https://contoso.webhook.office.com/webhookb2/x":                                      herald.FormatTeams,
		"https://prod-12.westus.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke": herald.FormatTeams,
		"https://default123.environment.api.powerplatform.com/powerautomate/x":                herald.FormatTeams,
		"https://open.feishu.cn/open-apis/bot/v2/hook/x":                                      herald.FormatFeishu,
		"https://open.larksuite.com/open-apis/bot/v2/hook/x":                                  herald.FormatLark,
		"https://oapi.dingtalk.com/robot/send?access_token=x":                                 herald.FormatDingTalk,
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x":                              herald.FormatWeCom,
		"https://example.com/hook":                                                            "",
		"https://hooks.slack.com.evil.example/x":                                              "",
		"::":                                                                                  "",
	} {
		if got := SuggestFormat(u); got != want {
			t.Errorf("SuggestFormat(%q) = %q, want %q", u, got, want)
		}
	}
}

// Every chat format has a default rate_limit; the per-minute platforms say so.
func TestChatRateLimits(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		if IsChat(f) != (ChatRateLimit(f) > 0) {
			t.Errorf("%s: IsChat %v, ChatRateLimit %d", f, IsChat(f), ChatRateLimit(f))
		}
	}
	for f, want := range map[string]int{herald.FormatDingTalk: 20, herald.FormatWeCom: 20, herald.FormatFeishu: 100, herald.FormatLark: 100, herald.FormatSlack: 0} {
		if got := ChatPerMinute(f); got != want {
			t.Errorf("ChatPerMinute(%s) = %d, want %d", f, got, want)
		}
	}
}
