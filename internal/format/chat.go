package format

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-hq/herald"
)

// Chat formats render an event as a chat platform's incoming-webhook
// message, in the webhook's language, with the same content everywhere: a
// title (the event's message), its severity (a colour and an emoji where the
// platform has them), the event type, project, subject, occurred time, at
// most MaxChatLabels labels (the ones that matter first, the rest counted as
// "+N more") and a link when the event carries one (see ChatLink).
//
// Body shapes, from each platform's documentation:
//
//   - slack: incoming webhook, {"text", "blocks"} with Block Kit header,
//     section (fields), actions (a button to the link) and context blocks.
//   - discord: execute webhook, {"content", "embeds": [one embed coloured by
//     severity], "allowed_mentions": {"parse": []}} so no message pings.
//   - teams: Workflows (Power Automate) webhook, {"type": "message",
//     "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
//     "content": an AdaptiveCard 1.4}]}.
//   - feishu, lark: custom bot, {"msg_type": "interactive", "card": ...} with a
//     header coloured by severity; the sender adds timestamp and sign when
//     the webhook has a signing secret.
//   - dingtalk: custom robot, {"msgtype": "markdown"} or, with a link,
//     {"msgtype": "actionCard"} with one button; the sender adds timestamp
//     and sign to the URL when the webhook has a signing secret.
//   - wecom: group robot, {"msgtype": "markdown", "markdown": {"content"}}.
//
// Every text is cut to the platform's limits on a UTF-8 boundary, ending
// with "…" (ChatEllipsis).

// MaxChatLabels is how many labels a chat message shows.
const MaxChatLabels = 5

// ChatEllipsis ends a text cut to fit a platform's limit.
const ChatEllipsis = "…"

// Per-field caps, in characters, so that the whole message stays within the
// smallest platform limit (WeCom's 4096 bytes of markdown) in most cases;
// the platform limits are enforced on the final texts anyway.
const (
	chatTitleMax   = 256
	chatValueMax   = 256
	chatLabelKey   = 64
	chatLabelValue = 128
	chatLinkMax    = 2000
)

// Platform limits.
const (
	slackTextMax         = 40000 // text
	slackHeaderMax       = 150   // header block plain_text
	slackSectionMax      = 3000  // section text
	slackFieldMax        = 2000  // section field text
	discordContentMax    = 2000
	discordTitleMax      = 256
	discordDescMax       = 4096
	discordFieldValueMax = 1024
	dingtalkTextMax      = 20000    // bytes of the whole message
	wecomMarkdownMax     = 4096     // bytes of markdown.content
	feishuBodyMax        = 20 << 10 // bytes of the request body
	teamsBodyMax         = 28 << 10 // bytes of the request body
)

// IsChat reports whether format is one of the chat formats.
func IsChat(format string) bool {
	switch format {
	case herald.FormatSlack, herald.FormatDiscord, herald.FormatTeams, herald.FormatFeishu,
		herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom:
		return true
	}
	return false
}

// ChatFormats are the chat formats, in the order the console lists them.
func ChatFormats() []string {
	return []string{herald.FormatSlack, herald.FormatDiscord, herald.FormatTeams, herald.FormatFeishu,
		herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom}
}

// Signable reports whether format accepts auth type sign: the platforms that
// sign robot messages (Feishu/Lark and DingTalk).
func Signable(format string) bool {
	switch format {
	case herald.FormatFeishu, herald.FormatLark, herald.FormatDingTalk:
		return true
	}
	return false
}

// validateChatAuth refuses auth type sign on formats that cannot use it.
func validateChatAuth(w *herald.Webhook) error {
	if w.Auth.Type == herald.AuthSign && !Signable(w.Format) {
		return herald.InvalidKey("auth.type", "auth.sign.format", herald.Args{"format": formatName(w.Format)},
			"auth type sign needs format feishu, lark or dingtalk, not %s", formatName(w.Format))
	}
	return nil
}

// chatField is one name/value line of a chat message.
type chatField struct{ Name, Value string }

// chatMsg is what every chat format shows.
type chatMsg struct {
	words    map[string]string
	Title    string
	Severity string // the event's severity key (info, warning, critical, clear)
	SevWord  string // the catalog's word for it
	Emoji    string
	Fields   []chatField // severity, type, project, subject, time
	Labels   []chatField
	More     int // labels not shown
	Link     string
	Time     time.Time
}

func (m *chatMsg) word(k string) string {
	if s := m.words[k]; s != "" {
		return s
	}
	return catalogFor(DefaultLanguage).Chat[k]
}

// moreText is "+N more" in the message's language, "" when nothing is left out.
func (m *chatMsg) moreText() string {
	if m.More == 0 {
		return ""
	}
	return strings.ReplaceAll(m.word("more"), "{n}", strconv.Itoa(m.More))
}

// chatSeverity is the severity a chat message shows: clear for an event that
// ends an alert, else the event's own.
func chatSeverity(v *view) string {
	if v.resolved() {
		return herald.SeverityClear
	}
	return v.severity()
}

func newChatMsg(lang string, v *view) *chatMsg {
	c := catalogFor(lang)
	ev := v.ev
	sev := chatSeverity(v)
	m := &chatMsg{words: c.Chat, Severity: sev, SevWord: sev, Emoji: chatEmoji(sev), Link: chatLink(v), Time: v.time()}
	if w := c.Severities[sev]; w != "" {
		m.SevWord = w
	}
	m.Title = truncRunes(strings.TrimSpace(message(lang, v)), chatTitleMax)
	if m.Title == "" {
		m.Title = ev.Type
	}
	add := func(k, val string) {
		if val != "" {
			m.Fields = append(m.Fields, chatField{m.word(k), truncRunes(val, chatValueMax)})
		}
	}
	add("severity", m.SevWord)
	add("type", ev.Type)
	add("project", ev.Project)
	add("subject", ev.Subject)
	add("time", v.time().Format("2006-01-02 15:04:05 UTC"))
	keys := chatLabelKeys(ev.Labels)
	if len(keys) > MaxChatLabels {
		m.More = len(keys) - MaxChatLabels
		keys = keys[:MaxChatLabels]
	}
	for _, k := range keys {
		m.Labels = append(m.Labels, chatField{truncRunes(k, chatLabelKey), truncRunes(ev.Labels[k], chatLabelValue)})
	}
	return m
}

// importantLabels come first in a chat message, in this order; the others
// follow sorted by name. The severity label is not repeated.
var importantLabels = []string{
	"alertname", "instance", "host", "hostname", "node", "namespace", "pod", "service", "job",
	"cluster", "env", "environment", "region", "repository", "chart",
}

func chatLabelKeys(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		if v != "" && k != "severity" {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(importantLabels, k); i >= 0 {
			return i
		}
		return len(importantLabels)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// ChatLink is the link a chat message carries: the first http(s) URL of the
// event's data.url, data.link, data.generatorURL, data.alarm_url,
// data.externalURL; "" when none (or it is longer than 2000 bytes, which no
// platform would show).
func ChatLink(ev *herald.Event) string { return chatLink(newView(ev)) }

func chatLink(v *view) string {
	for _, p := range []string{"url", "link", "generatorURL", "alarm_url", "externalURL"} {
		s, ok := v.str(p)
		if !ok || len(s) > chatLinkMax {
			continue
		}
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return s
		}
	}
	return ""
}

func chatEmoji(sev string) string {
	switch sev {
	case herald.SeverityCritical:
		return "🔴"
	case herald.SeverityWarning:
		return "🟠"
	case herald.SeverityClear:
		return "✅"
	}
	return "🔵"
}

// chatColor is the severity's colour as 0xRRGGBB.
func chatColor(sev string) int {
	switch sev {
	case herald.SeverityCritical:
		return 0xE01E5A
	case herald.SeverityWarning:
		return 0xECB22E
	case herald.SeverityClear:
		return 0x2EB67D
	}
	return 0x36C5F0
}

func hexColor(sev string) string {
	const digits = "0123456789ABCDEF"
	c := chatColor(sev)
	b := []byte("#000000")
	for i := 6; i >= 1; i-- {
		b[i] = digits[c&0xF]
		c >>= 4
	}
	return string(b)
}

// truncRunes cuts s to at most n characters, the last being "…" when cut.
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + ChatEllipsis
}

// truncBytes cuts s to at most n bytes on a UTF-8 boundary, ending with "…"
// when cut.
func truncBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(ChatEllipsis)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ChatEllipsis
}

func renderChat(w *herald.Webhook, v *view) (Rendered, error) {
	m := newChatMsg(w.Language, v)
	var body any
	switch w.Format {
	case herald.FormatSlack:
		body = slackBody(m)
	case herald.FormatDiscord:
		body = discordBody(m)
	case herald.FormatTeams:
		body = teamsBody(m)
	case herald.FormatFeishu, herald.FormatLark:
		body = feishuBody(m)
	case herald.FormatDingTalk:
		body = dingtalkBody(m)
	case herald.FormatWeCom:
		body = wecomBody(m)
	}
	b, err := marshalNoEscape(body)
	if err != nil {
		return Rendered{}, herald.Errorf(herald.EInvalid, "render %s payload: %v", w.Format, err)
	}
	return Rendered{Body: b, ContentType: ContentTypeJSON}, nil
}

// marshalNoEscape is json.Marshal without HTML escaping, so "<", ">" and "&"
// in markdown reach the platform as written.
func marshalNoEscape(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

type obj = map[string]any

// --- Slack ---

// slackEscape escapes the three characters mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackBody(m *chatMsg) obj {
	fields := []any{}
	for _, f := range m.Fields {
		fields = append(fields, obj{"type": "mrkdwn", "text": truncRunes("*"+slackEscape(f.Name)+"*\n"+slackEscape(f.Value), slackFieldMax)})
	}
	blocks := []any{
		obj{"type": "header", "text": obj{"type": "plain_text", "text": truncRunes(m.Emoji+" "+m.Title, slackHeaderMax), "emoji": true}},
		obj{"type": "section", "fields": fields},
	}
	if len(m.Labels) > 0 {
		var sb strings.Builder
		sb.WriteString("*" + slackEscape(m.word("labels")) + "*")
		for _, l := range m.Labels {
			sb.WriteString("\n`" + slackEscape(l.Name) + "`: " + slackEscape(l.Value))
		}
		if more := m.moreText(); more != "" {
			sb.WriteString("\n" + slackEscape(more))
		}
		blocks = append(blocks, obj{"type": "section", "text": obj{"type": "mrkdwn", "text": truncRunes(sb.String(), slackSectionMax)}})
	}
	if m.Link != "" {
		blocks = append(blocks, obj{"type": "actions", "elements": []any{
			obj{"type": "button", "text": obj{"type": "plain_text", "text": m.word("open")}, "url": m.Link},
		}})
	}
	blocks = append(blocks, obj{"type": "context", "elements": []any{obj{"type": "mrkdwn", "text": slackEscape(m.word("footer"))}}})
	return obj{
		"text":   truncRunes(m.Emoji+" ["+m.SevWord+"] "+m.Title, slackTextMax),
		"blocks": blocks,
	}
}

// --- Discord ---

func discordBody(m *chatMsg) obj {
	fields := []any{}
	for _, f := range m.Fields {
		fields = append(fields, obj{"name": f.Name, "value": truncRunes(f.Value, discordFieldValueMax), "inline": true})
	}
	embed := obj{
		"title":     truncRunes(m.Title, discordTitleMax),
		"color":     chatColor(m.Severity),
		"fields":    fields,
		"footer":    obj{"text": m.word("footer")},
		"timestamp": m.Time.Format(time.RFC3339),
	}
	if len(m.Labels) > 0 {
		var sb strings.Builder
		sb.WriteString("**" + m.word("labels") + "**")
		for _, l := range m.Labels {
			sb.WriteString("\n`" + strings.ReplaceAll(l.Name, "`", "'") + "`: " + l.Value)
		}
		if more := m.moreText(); more != "" {
			sb.WriteString("\n" + more)
		}
		embed["description"] = truncRunes(sb.String(), discordDescMax)
	}
	if m.Link != "" {
		embed["url"] = m.Link
	}
	return obj{
		"content":          truncRunes(m.Emoji+" "+m.Title, discordContentMax),
		"embeds":           []any{embed},
		"allowed_mentions": obj{"parse": []any{}},
	}
}

// --- Microsoft Teams ---

func teamsColor(sev string) string {
	switch sev {
	case herald.SeverityCritical:
		return "Attention"
	case herald.SeverityWarning:
		return "Warning"
	case herald.SeverityClear:
		return "Good"
	}
	return "Accent"
}

func teamsBody(m *chatMsg) obj {
	facts := []any{}
	for _, f := range m.Fields {
		facts = append(facts, obj{"title": f.Name, "value": f.Value})
	}
	body := []any{
		obj{"type": "TextBlock", "text": m.Emoji + " " + m.Title, "weight": "Bolder", "size": "Medium", "wrap": true, "color": teamsColor(m.Severity)},
		obj{"type": "FactSet", "facts": facts},
	}
	if len(m.Labels) > 0 {
		lf := []any{}
		for _, l := range m.Labels {
			lf = append(lf, obj{"title": l.Name, "value": l.Value})
		}
		body = append(body, obj{"type": "TextBlock", "text": m.word("labels"), "weight": "Bolder", "wrap": true, "spacing": "Medium"},
			obj{"type": "FactSet", "facts": lf})
		if more := m.moreText(); more != "" {
			body = append(body, obj{"type": "TextBlock", "text": more, "isSubtle": true, "wrap": true, "spacing": "None"})
		}
	}
	body = append(body, obj{"type": "TextBlock", "text": m.word("footer"), "isSubtle": true, "size": "Small", "wrap": true})
	card := obj{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
		"msteams": obj{"width": "Full"},
	}
	if m.Link != "" {
		card["actions"] = []any{obj{"type": "Action.OpenUrl", "title": m.word("open"), "url": m.Link}}
	}
	return obj{
		"type": "message",
		"attachments": []any{obj{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

// --- Feishu / Lark ---

func feishuTemplate(sev string) string {
	switch sev {
	case herald.SeverityCritical:
		return "red"
	case herald.SeverityWarning:
		return "orange"
	case herald.SeverityClear:
		return "green"
	}
	return "blue"
}

// larkMDEscape keeps event text from being read as lark_md markup.
func larkMDEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", "\\*", "~", "\\~", "[", "\\[", "]", "\\]").Replace(s)
}

func feishuBody(m *chatMsg) obj {
	fields := []any{}
	for _, f := range m.Fields {
		fields = append(fields, obj{"is_short": true, "text": obj{"tag": "lark_md", "content": "**" + larkMDEscape(f.Name) + "**\n" + larkMDEscape(f.Value)}})
	}
	elements := []any{obj{"tag": "div", "fields": fields}}
	if len(m.Labels) > 0 {
		var sb strings.Builder
		sb.WriteString("**" + larkMDEscape(m.word("labels")) + "**")
		for _, l := range m.Labels {
			sb.WriteString("\n" + larkMDEscape(l.Name) + ": " + larkMDEscape(l.Value))
		}
		if more := m.moreText(); more != "" {
			sb.WriteString("\n" + larkMDEscape(more))
		}
		elements = append(elements, obj{"tag": "div", "text": obj{"tag": "lark_md", "content": sb.String()}})
	}
	if m.Link != "" {
		elements = append(elements, obj{"tag": "action", "actions": []any{
			obj{"tag": "button", "type": "primary", "text": obj{"tag": "plain_text", "content": m.word("open")}, "url": m.Link},
		}})
	}
	elements = append(elements, obj{"tag": "note", "elements": []any{obj{"tag": "plain_text", "content": m.word("footer")}}})
	return obj{
		"msg_type": "interactive",
		"card": obj{
			"config":   obj{"wide_screen_mode": true},
			"header":   obj{"template": feishuTemplate(m.Severity), "title": obj{"tag": "plain_text", "content": m.Emoji + " " + m.Title}},
			"elements": elements,
		},
	}
}

// --- DingTalk ---

// mdEscape keeps event text from being read as markdown emphasis or links.
func mdEscape(s string) string {
	return strings.NewReplacer("*", "\\*", "[", "\\[", "]", "\\]").Replace(s)
}

func dingtalkBody(m *chatMsg) obj {
	var sb strings.Builder
	sb.WriteString("### " + m.Emoji + " " + mdEscape(m.Title) + "\n\n")
	for _, f := range m.Fields {
		v := mdEscape(f.Value)
		if f.Value == m.SevWord && f.Name == m.word("severity") {
			v = "<font color=" + hexColor(m.Severity) + ">" + v + "</font>"
		}
		sb.WriteString("**" + mdEscape(f.Name) + "**: " + v + "\n\n")
	}
	if len(m.Labels) > 0 {
		sb.WriteString("**" + mdEscape(m.word("labels")) + "**\n\n")
		for _, l := range m.Labels {
			sb.WriteString("- " + mdEscape(l.Name) + ": " + mdEscape(l.Value) + "\n")
		}
		if more := m.moreText(); more != "" {
			sb.WriteString("- " + mdEscape(more) + "\n")
		}
		sb.WriteString("\n")
	}
	sb.WriteString("> " + mdEscape(m.word("footer")))
	title := truncRunes(m.Emoji+" "+m.Title, 100)
	// The whole message must stay within 20000 bytes: leave room for the
	// envelope and the title.
	text := truncBytes(sb.String(), dingtalkTextMax-len(title)-len(m.Link)-256)
	if m.Link != "" {
		return obj{"msgtype": "actionCard", "actionCard": obj{
			"title": title, "text": text, "btnOrientation": "0",
			"singleTitle": m.word("open"), "singleURL": m.Link,
		}}
	}
	return obj{"msgtype": "markdown", "markdown": obj{"title": title, "text": text}}
}

// --- WeCom ---

func wecomColor(sev string) string {
	switch sev {
	case herald.SeverityCritical, herald.SeverityWarning:
		return "warning"
	case herald.SeverityClear:
		return "info"
	}
	return "comment"
}

func wecomBody(m *chatMsg) obj {
	var sb strings.Builder
	sb.WriteString("**" + m.Emoji + " " + mdEscape(m.Title) + "**\n")
	for _, f := range m.Fields {
		v := mdEscape(f.Value)
		if f.Value == m.SevWord && f.Name == m.word("severity") {
			v = `<font color="` + wecomColor(m.Severity) + `">` + v + "</font>"
		}
		sb.WriteString("> " + mdEscape(f.Name) + ": " + v + "\n")
	}
	if len(m.Labels) > 0 {
		sb.WriteString("\n**" + mdEscape(m.word("labels")) + "**\n")
		for _, l := range m.Labels {
			sb.WriteString("> " + mdEscape(l.Name) + ": " + mdEscape(l.Value) + "\n")
		}
		if more := m.moreText(); more != "" {
			sb.WriteString("> " + mdEscape(more) + "\n")
		}
	}
	tail := ""
	if m.Link != "" {
		tail = "\n[" + mdEscape(m.word("open")) + "](" + m.Link + ")"
	}
	tail += "\n" + `<font color="comment">` + mdEscape(m.word("footer")) + "</font>"
	content := truncBytes(sb.String(), wecomMarkdownMax-len(tail)) + tail
	return obj{"msgtype": "markdown", "markdown": obj{"content": content}}
}

// ChatRateLimit is the default rate_limit (requests per second) of a chat
// webhook: Slack 1 a second per incoming webhook; Discord 5 per 2 seconds
// per webhook (2); Teams Workflows 4 a second; Feishu/Lark 5 a second but
// 100 a minute, DingTalk and WeCom 20 a minute (1, the lowest non-zero
// rate). 0 for other formats.
func ChatRateLimit(format string) int {
	switch format {
	case herald.FormatSlack, herald.FormatFeishu, herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom:
		return 1
	case herald.FormatDiscord:
		return 2
	case herald.FormatTeams:
		return 4
	}
	return 0
}

// SuggestFormat is the chat format a webhook URL's host belongs to, "" when
// it is none of them: hooks.slack.com; discord.com and discordapp.com
// /api/webhooks/; *.webhook.office.com and the Power Automate hosts of Teams
// Workflows (*.logic.azure.com, *.powerplatform.com, *.powerautomate.com);
// open.feishu.cn; open.larksuite.com; oapi.dingtalk.com; qyapi.weixin.qq.com.
func SuggestFormat(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	under := func(domain string) bool { return host == domain || strings.HasSuffix(host, "."+domain) }
	switch {
	case host == "hooks.slack.com":
		return herald.FormatSlack
	case (under("discord.com") || under("discordapp.com")) && strings.HasPrefix(u.Path, "/api/webhooks/"):
		return herald.FormatDiscord
	case under("webhook.office.com") || under("logic.azure.com") || under("powerplatform.com") || under("powerautomate.com"):
		return herald.FormatTeams
	case host == "open.feishu.cn":
		return herald.FormatFeishu
	case host == "open.larksuite.com":
		return herald.FormatLark
	case host == "oapi.dingtalk.com":
		return herald.FormatDingTalk
	case host == "qyapi.weixin.qq.com":
		return herald.FormatWeCom
	}
	return ""
}

// ChatPerMinute is a chat platform's documented per-robot limit per minute,
// which rate_limit (whole requests per second) cannot express: DingTalk and
// WeCom 20, Feishu/Lark 100; 0 for the other formats. A delivery engine that
// spaces requests by a minute window as well as by rate_limit keeps these
// robots clear of their throttles (DingTalk blocks a robot for 10 minutes).
func ChatPerMinute(format string) int {
	switch format {
	case herald.FormatDingTalk, herald.FormatWeCom:
		return 20
	case herald.FormatFeishu, herald.FormatLark:
		return 100
	}
	return 0
}
