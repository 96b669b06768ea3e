package format

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/catalog"
)

func TestLanguages(t *testing.T) {
	t.Parallel()
	if got := Languages(); !slices.Equal(got, []string{"en", "zh-CN"}) {
		t.Fatalf("Languages() = %v", got)
	}
	for lang, want := range map[string]bool{"": true, "en": true, "zh-CN": true, "zh-cn": true, "fr": false, "zh": false} {
		if got := ValidLanguage(lang); got != want {
			t.Errorf("ValidLanguage(%q) = %v, want %v", lang, got, want)
		}
	}
}

// Every catalog holds the same message and severity keys as en.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	t.Parallel()
	en := catalogs["en"]
	for _, lang := range Languages() {
		c := catalogFor(lang)
		if c.Language != lang {
			t.Fatalf("catalogFor(%q) is %q", lang, c.Language)
		}
		for _, pair := range []struct {
			what       string
			have, want map[string]string
		}{
			{"message", c.Messages, en.Messages},
			{"severity", c.Severities, en.Severities},
		} {
			for k := range pair.want {
				if _, ok := pair.have[k]; !ok {
					t.Errorf("%s.json lacks %s %q that en.json has", lang, pair.what, k)
				}
			}
			for k := range pair.have {
				if _, ok := pair.want[k]; !ok {
					t.Errorf("%s.json has %s %q that en.json lacks", lang, pair.what, k)
				}
			}
		}
		for _, s := range []string{herald.SeverityInfo, herald.SeverityWarning, herald.SeverityCritical, herald.SeverityClear} {
			if c.Severities[s] == "" {
				t.Errorf("%s.json: no word for severity %s", lang, s)
			}
		}
	}
}

// Every type of the event-type catalog has its own message, in every
// language, and no message key is a type the catalog does not know.
func TestCatalogsCoverEventTypes(t *testing.T) {
	t.Parallel()
	known := map[string]bool{defaultMessageKey: true}
	for _, et := range catalog.EventTypes() {
		known[et.Name] = true
		for _, lang := range Languages() {
			if _, ok := catalogFor(lang).Messages[et.Name]; !ok {
				t.Errorf("%s.json has no message for %s", lang, et.Name)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(catalogs["en"].Messages)) {
		if !known[k] {
			t.Errorf("en.json has a message for %q, which is not in the event-type catalog", k)
		}
	}
	// The list of the brief, in case the catalog shrinks.
	for _, name := range []string{
		"image.push", "image.pull", "image.delete", "chart.push", "chart.pull", "chart.delete",
		"image.scan.completed", "image.scan.failed", "project.quota.exceeded", "host.lost_connection",
		"host.recovery_timeout", "host.recovered", "alarm.cpu", "alarm.memory", "alarm.disk",
		"alarm.network", "alert.firing", "alert.resolved", "unreachable", "herald.test", "herald.webhook.disabled",
	} {
		if !known[name] {
			t.Errorf("event type %s is missing from the catalog", name)
		}
	}
}

// Every message renders to something without leftover syntax, for an event
// with everything and for an event with nothing.
func TestCatalogMessagesRender(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages() {
		for k := range catalogFor(lang).Messages {
			for _, ev := range []*herald.Event{
				{Type: k},
				{Type: k, Project: "p", Subject: "s", Severity: herald.SeverityWarning,
					Labels: map[string]string{"alertname": "A"},
					Data:   json.RawMessage(`{"operator":"u","error":"e","reason":"r","name":"n","annotations":{"summary":"x"}}`)},
			} {
				m := Message(lang, ev)
				if strings.TrimSpace(m) == "" || strings.ContainsAny(m, "{}[]") || m != strings.TrimSpace(m) {
					t.Errorf("%s %s: message %q", lang, k, m)
				}
			}
		}
	}
}

func TestMessageText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		lang string
		ev   *herald.Event
		want string
	}{
		{"own message wins", "zh-CN", &herald.Event{Type: "image.push", Message: "pushed!"}, "pushed!"},
		{"en", "en", pushEvent(), "Image prj/repo1:latest pushed to project prj by admin"},
		{"zh-CN", "zh-CN", pushEvent(), "项目 prj：镜像 prj/repo1:latest 已推送，操作人：admin"},
		{"language case", "ZH-cn", pushEvent(), "项目 prj：镜像 prj/repo1:latest 已推送，操作人：admin"},
		{"empty language is en", "", pushEvent(), "Image prj/repo1:latest pushed to project prj by admin"},
		{"unknown language is en", "fr", pushEvent(), "Image prj/repo1:latest pushed to project prj by admin"},
		{"optional parts left out", "en", &herald.Event{Type: "image.push"}, "Image pushed"},
		{"optional parts left out zh-CN", "zh-CN", &herald.Event{Type: "chart.delete"}, "Helm Chart 已删除"},
		{"generic entry", "en", &herald.Event{Type: "build.finished", Subject: "main", Project: "ci"}, "Event build.finished on main in project ci"},
		{"generic entry zh-CN", "zh-CN", &herald.Event{Type: "build.finished", Subject: "main", Project: "ci"}, "项目 ci：发生事件 build.finished（main）"},
		{"generic entry, nothing else", "en", &herald.Event{Type: "x"}, "Event x"},
		{"labels and data", "en", firingEvent(), "Alert HighCPU firing on node-1 (critical): CPU above 90%"},
		{"localized severity", "zh-CN", &herald.Event{Type: "alarm.disk", Subject: "h1", Severity: herald.SeverityWarning}, "主机 h1 磁盘使用率告警（警告）"},
		{"severity defaults to info", "en", &herald.Event{Type: "alarm.disk"}, "Disk usage alarm (info)"},
		{"data numbers", "en", &herald.Event{Type: "image.scan.failed", Data: json.RawMessage(`{"error": 42}`)}, "Scan of image failed: 42"},
		{"webhook disabled", "zh-CN", &herald.Event{Type: herald.EventTypeWebhookDisabled, Data: json.RawMessage(`{"name":"ci","reason":"410 Gone"}`)}, "Webhook ci 已被自动停用：410 Gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Message(tt.lang, tt.ev); got != tt.want {
				t.Errorf("Message(%q) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
}

func TestTestMessage(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{
		"en": "This is a test message from Herald.", "zh-CN": "这是一条来自 Herald 的测试消息。", "": "This is a test message from Herald.",
	} {
		if got := TestMessage(lang); got != want {
			t.Errorf("TestMessage(%q) = %q, want %q", lang, got, want)
		}
	}
}

func TestParseMsgText(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"a [b [c]]", "a ]", "a [b", "a {b", "a }", "{nope}", "{labels.}", "{data.}",
	} {
		if _, err := parseMsgText(bad); err == nil {
			t.Errorf("parseMsgText(%q) succeeded", bad)
		}
	}
	for _, good := range []string{"", "plain", "{type}", "[x {data.a.0.b}] {labels.app.kubernetes.io/name}"} {
		if _, err := parseMsgText(good); err != nil {
			t.Errorf("parseMsgText(%q): %v", good, err)
		}
	}
}
