package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// t0 is the fixed time of the test events, so that output is deterministic.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Test events, one per source Herald speaks for. Each call returns a fresh
// event, so tests may change it.

func pushEvent() *herald.Event {
	return &herald.Event{
		ID: "evt_01push", Type: "image.push", Project: "prj", Source: "harbor",
		Subject: "prj/repo1:latest",
		Labels:  map[string]string{"repository": "prj/repo1"},
		Data: json.RawMessage(`{"repository":{"name":"repo1","namespace":"prj","repo_full_name":"prj/repo1","repo_type":"private"},` +
			`"resources":[{"digest":"sha256:9e2c9d5f44efbb6ee83aecd17a120c513047d289d142ec5738c9f02f9b24ad07","tag":"latest",` +
			`"resource_url":"harbor.example.com/prj/repo1:latest"}],"operator":"admin"}`),
		OccurredAt: t0, ReceivedAt: t0.Add(time.Second),
	}
}

func alertLabels() map[string]string {
	return map[string]string{
		"alertname": "HighCPU", "instance": "node-1:9100", "job": "node", "severity": "critical",
		"app.kubernetes.io/name": "node-exporter",
	}
}

func firingEvent() *herald.Event {
	return &herald.Event{
		ID: "evt_02firing", Type: "alert.firing", Project: "ops", Source: "alertmanager",
		Subject: "node-1", Severity: herald.SeverityCritical, Labels: alertLabels(),
		Data: json.RawMessage(`{"annotations":{"summary":"CPU above 90%","description":"node-1 CPU at 97%"},` +
			`"startsAt":"2026-03-01T11:55:00Z","generatorURL":"http://prometheus.example.com/graph?g0.expr=cpu"}`),
		OccurredAt: t0, ReceivedAt: t0,
	}
}

// resolvedEvent is what the Alertmanager receiver makes of a resolved alert:
// type alert.resolved, the alert's own severity label kept.
func resolvedEvent() *herald.Event {
	return &herald.Event{
		ID: "evt_03resolved", Type: "alert.resolved", Project: "ops", Source: "alertmanager",
		Subject: "node-1", Severity: herald.SeverityCritical, Labels: alertLabels(),
		Data: json.RawMessage(`{"annotations":{"summary":"CPU above 90%","description":"node-1 CPU at 97%"},` +
			`"startsAt":"2026-03-01T11:55:00Z","endsAt":"2026-03-01T12:00:00Z","generatorURL":"http://prometheus.example.com/graph?g0.expr=cpu"}`),
		OccurredAt: t0.Add(5 * time.Minute), ReceivedAt: t0.Add(5 * time.Minute),
	}
}

// netdataEvent carries every field of Netdata's table in its data, some with
// types to coerce (a number for duration, a string for a count).
func netdataEvent() *herald.Event {
	return &herald.Event{
		ID: "evt_04cpu", Type: "alarm.cpu", Project: "space1", Source: "netdata",
		Subject: "node-7", Severity: herald.SeverityWarning,
		Data: json.RawMessage(`{"alarm":"10min_cpu_usage","info":"average CPU utilization over the last 10 minutes",` +
			`"chart":"system.cpu","context":"system.cpu","family":"cpu","class":"Utilization",` +
			`"rooms":{"All nodes":"https://app.netdata.cloud/spaces/space1/rooms/all-nodes"},` +
			`"duration":3723,"additional_active_critical_alerts":2,"additional_active_warning_alerts":"1",` +
			`"alarm_url":"https://app.netdata.cloud/spaces/space1/alarms/10min_cpu_usage"}`),
		OccurredAt: t0, ReceivedAt: t0,
	}
}

// templateEvent is a firing alert whose data has a list, for join.
func templateEvent() *herald.Event {
	ev := firingEvent()
	ev.Data = json.RawMessage(`{"receivers":["pager","chat"],"annotations":{"summary":"CPU above 90%"}}`)
	return ev
}

func hostEvent() *herald.Event {
	return &herald.Event{
		ID: "evt_05host", Type: "host.lost_connection", Subject: "node-7",
		Severity: herald.SeverityCritical, OccurredAt: t0, ReceivedAt: t0,
	}
}

func minimalEvent() *herald.Event {
	return &herald.Event{ID: "evt_06min", Type: "build.finished", Project: "ci", OccurredAt: t0}
}

func webhook(format, lang string) *herald.Webhook {
	return &herald.Webhook{ID: "wh_1", Name: "ops-hook", Project: "prj", Format: format, Language: lang}
}

// chatTemplate is a Slack-style template using most of the function set.
const chatTemplate = `{
  "text": {{quote (printf "[%s] %s" (upper .Severity) .Message)}},
  "attachments": [{
    "title": {{json .Type}},
    "project": {{json (default "platform" .Project)}},
    "repository": {{json (get .Data "repository.repo_full_name")}},
    "receivers": {{json (join ", " .Data.receivers)}},
    "short": {{json (truncate 5 .Subject)}},
    "ts": {{formatTime "unix" .Timestamp}},
    "when": {{quote (formatTime "2006-01-02 15:04 MST" .Timestamp)}},
    "hook": {{json .Webhook.Name}}{{range $k, $v := .Labels}},
    {{json (lower $k)}}: {{json $v}}{{end}}
  }]
}`

const textTemplate = `{{.Type}} in {{.Project}}: {{.Message}}
{{range .Data.resources}}- {{.tag}} {{.digest}}
{{end}}`

func TestGolden(t *testing.T) {
	t.Parallel()
	tmpl := func(text, ct string) *herald.Webhook {
		w := webhook(herald.FormatTemplate, "en")
		w.Template, w.ContentType = text, ct
		return w
	}
	tests := []struct {
		file        string
		w           *herald.Webhook
		ev          *herald.Event
		contentType string
	}{
		{"standard.json", webhook(herald.FormatStandard, "en"), pushEvent(), ContentTypeJSON},
		{"standard_zh-CN.json", webhook("", "zh-CN"), pushEvent(), ContentTypeJSON},
		{"standard_minimal.json", webhook("", ""), minimalEvent(), ContentTypeJSON},
		{"cloudevents.json", webhook(herald.FormatCloudEvents, "en"), firingEvent(), ContentTypeCloudEvents},
		{"cloudevents_platform.json", webhook(herald.FormatCloudEvents, "zh-CN"), hostEvent(), ContentTypeCloudEvents},
		{"harbor.json", webhook(herald.FormatHarbor, "en"), pushEvent(), ContentTypeJSON},
		{"harbor_subject.json", webhook(herald.FormatHarbor, "en"), &herald.Event{
			ID: "evt_07scan", Type: "image.scan.failed", Project: "prj",
			Subject:    "harbor.example.com/prj/team/app:v2@sha256:4f1a",
			OccurredAt: t0, ReceivedAt: t0,
		}, ContentTypeJSON},
		{"harbor_legacy.json", webhook(herald.FormatHarborLegacy, "en"), pushEvent(), ContentTypeJSON},
		{"harbor_legacy_subject.json", webhook(herald.FormatHarborLegacy, "en"), &herald.Event{
			ID: "evt_07scan", Type: "image.scan.failed", Project: "prj",
			Subject:    "harbor.example.com/prj/team/app:v2@sha256:4f1a",
			OccurredAt: t0, ReceivedAt: t0,
		}, ContentTypeJSON},
		{"netdata.json", webhook(herald.FormatNetdata, "en"), netdataEvent(), ContentTypeJSON},
		{"netdata_derived.json", webhook(herald.FormatNetdata, "zh-CN"), firingEvent(), ContentTypeJSON},
		{"netdata_reachability.json", webhook(herald.FormatNetdata, "en"), hostEvent(), ContentTypeJSON},
		{"netdata_reachable.json", webhook(herald.FormatNetdata, "zh-CN"), &herald.Event{
			ID: "evt_08up", Type: "host.recovered", Subject: "node-7", Severity: herald.SeverityClear,
			Data:       json.RawMessage(`{"url":"https://app.netdata.cloud/spaces/space1/nodes/node-7"}`),
			OccurredAt: t0, ReceivedAt: t0,
		}, ContentTypeJSON},
		{"alertmanager_firing.json", webhook(herald.FormatAlertmanager, "en"), firingEvent(), ContentTypeJSON},
		{"alertmanager_resolved.json", webhook(herald.FormatAlertmanager, "en"), resolvedEvent(), ContentTypeJSON},
		{"template.json", tmpl(chatTemplate, ""), templateEvent(), ContentTypeJSON},
		{"template_text.txt", tmpl(textTemplate, "text/plain; charset=utf-8"), pushEvent(), "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r, err := Render(tt.w, tt.ev)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if r.ContentType != tt.contentType {
				t.Errorf("content type %q, want %q", r.ContentType, tt.contentType)
			}
			got := r.Body
			if filepath.Ext(tt.file) == ".json" {
				var buf bytes.Buffer
				if err := json.Indent(&buf, r.Body, "", "  "); err != nil {
					t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
				}
				buf.WriteByte('\n')
				got = buf.Bytes()
			}
			golden(t, tt.file, got)
		})
	}
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	t.Parallel()
	_, err := Render(webhook("xml", "en"), pushEvent())
	if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != "format" {
		t.Fatalf("err = %v, want invalid format", err)
	}
}

// Every format renders an event without data, labels, subject or severity,
// and the fixed formats are JSON.
func TestRenderMinimalEvent(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			w := webhook(f, "en")
			w.Template = `{"type": {{json .Type}}}`
			r, err := Render(w, &herald.Event{Type: "x.y"})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !json.Valid(r.Body) {
				t.Fatalf("not JSON: %s", r.Body)
			}
		})
	}
}

func TestStandardTimestampFallsBackToReceivedAt(t *testing.T) {
	t.Parallel()
	ev := minimalEvent()
	ev.OccurredAt, ev.ReceivedAt = time.Time{}, t0.In(time.FixedZone("CST", 8*3600))
	env := NewEnvelope("en", ev)
	if !env.Timestamp.Equal(t0) || env.Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp %v, want %v in UTC", env.Timestamp, t0)
	}
}

func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	w := webhook(herald.FormatTemplate, "en")
	w.Template = chatTemplate
	want, err := Render(w, templateEvent())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for range 8 {
		go func() {
			var last []byte
			for range 20 {
				r, err := Render(w, templateEvent())
				if err != nil {
					t.Error(err)
				}
				last = r.Body
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; !bytes.Equal(got, want.Body) {
			t.Errorf("concurrent render differs:\n%s\n%s", got, want.Body)
		}
	}
}
