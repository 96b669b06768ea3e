package format

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

func TestValidateTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		tmpl        string
		contentType string
		field       string
		// want are substrings of the message.
		want []string
	}{
		{name: "empty", tmpl: "  ", field: "template", want: []string{"required"}},
		{name: "parse error with line", tmpl: "{\n  \"a\": {{if}}\n}", field: "template", want: []string{"line 2:", "missing value for if"}},
		{name: "unclosed action", tmpl: "{\n\n\"a\": {{.Type}\n}", field: "template", want: []string{"line 3:", "bad character"}},
		{name: "unknown function", tmpl: `{"home": {{env "HOME"}}}`, field: "template", want: []string{"line 1:", `function "env" not defined`}},
		{name: "no file access", tmpl: `{{readFile "/etc/passwd"}}`, field: "template", want: []string{`function "readFile" not defined`}},
		{name: "unknown field", tmpl: "{\n\"a\": {{json .Nope}}}", field: "template", want: []string{"line 2, column", "<.Nope>", "can't evaluate field Nope in type the template data"}},
		{name: "runtime error in function", tmpl: `{"a": {{formatTime "RFC3339" .Subject}}}`, field: "template", want: []string{"line 1, column", "formatTime", "not an RFC 3339 time"}},
		{name: "field of missing object", tmpl: `{"a": {{json .Data.nope.deeper}}}`, field: "template", want: []string{"line 1, column", "nil pointer"}},
		{name: "join of a map", tmpl: `{"a": {{json (join "," .Labels)}}}`, field: "template", want: []string{"join", "not a list"}},
		{name: "not JSON", tmpl: `{"type": {{.Type}}}`, field: "template", want: []string{"output is not valid JSON", "content_type"}},
		{name: "not JSON on line 3", tmpl: "{\n\"a\": 1,\n\"b\": x\n}", field: "template", want: []string{"output line 3"}},
		{name: "not JSON for a +json type", tmpl: "text", contentType: "application/vnd.api+json", field: "template", want: []string{"not valid JSON"}},
		{name: "oversize", tmpl: `[{{range 100000}}"xxxxxxxxxx",{{end}}0]`, field: "template", want: []string{"larger than 64 KiB"}},
		{name: "oversize in one write", tmpl: `{{printf "%900000d" 1}}`, field: "template", want: []string{"larger than 64 KiB"}},
		{name: "long loop is bounded", tmpl: `{{range 1000000000}}{{end}}{}`, field: "template", want: []string{"longer than 1s"}},
		{name: "nested loops are bounded", tmpl: `{{range 100000}}{{range 100000}}{{end}}{{end}}{}`, field: "template", want: []string{"longer than 1s"}},
		{name: "exponential calls are bounded", tmpl: `{{define "a"}}{{template "b"}}{{template "b"}}{{end}}{{define "b"}}{{template "c"}}{{template "c"}}{{end}}{{define "c"}}{{range 1000000}}{{end}}{{end}}{{template "a"}}{}`,
			field: "template", want: []string{"longer than 1s"}},
		{name: "recursion", tmpl: "{{define \"a\"}}\n{{template \"b\"}}{{end}}{{define \"b\"}}{{template \"a\"}}{{end}}{{template \"a\"}}", field: "template", want: []string{"calls itself"}},
		{name: "self recursion", tmpl: `{{define "a"}}{{template "a"}}{{end}}{}`, field: "template", want: []string{`template "a" calls itself`}},
		{name: "undefined template", tmpl: "{}\n{{template \"nope\"}}", field: "template", want: []string{"line 2:", `template "nope" is not defined`}},
		{name: "too long", tmpl: "{}" + strings.Repeat(" ", MaxTemplateSize), field: "template", want: []string{"longer than 32 KiB"}},
		{name: "bad content type", tmpl: `{}`, contentType: "json", field: "content_type", want: []string{"not a media type"}},
		{name: "content type with a line break", tmpl: `{}`, contentType: "text/plain\r\nX-Evil: 1", field: "content_type", want: []string{"one line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := ValidateTemplate(tt.tmpl, tt.contentType)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("validation took %v", d)
			}
			var he *herald.Error
			if !errors.As(err, &he) || he.Code != herald.EInvalid || he.Field != tt.field {
				t.Fatalf("err = %#v, want invalid %s", err, tt.field)
			}
			for _, w := range tt.want {
				if !strings.Contains(he.Message, w) {
					t.Errorf("message %q does not contain %q", he.Message, w)
				}
			}
		})
	}
}

func TestValidateTemplateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl, contentType string
	}{
		{"json", chatTemplate, ""},
		{"explicit json", `{"a": {{json .Data}}}`, "application/json; charset=utf-8"},
		{"text", "{{.Type}}: {{.Message}}", "text/plain"},
		{"form", `text={{urlquery .Message}}`, "application/x-www-form-urlencoded"},
		{"xml", `<event type="{{html .Type}}"/>`, "application/xml"},
		{"sample data paths", `{"r": {{json .Data.repository.name}}, "s": {{json .Data.annotations.summary}}, "v": {{.Data.value}}}`, ""},
		{"missing data with get and default", `{"a": {{json (get .Data "x.y")}}, "b": {{json (default "none" .Data.x)}}}`, ""},
		{"non-recursive helpers", `{{define "kv"}}{{json .}}{{end}}{"a": {{template "kv" .Type}}}`, ""},
		{"break and continue", `[{{range $i, $r := .Data.resources}}{{if $i}},{{end}}{{json $r.tag}}{{break}}{{end}}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateTemplate(tt.tmpl, tt.contentType); err != nil {
				t.Fatalf("ValidateTemplate: %v", err)
			}
		})
	}
}

func TestTemplateFuncs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl string
		want string
	}{
		{`{{json .Subject}}`, `"node-1"`},
		{`{{json .Labels}}`, `{"alertname":"HighCPU","app.kubernetes.io/name":"node-exporter","instance":"node-1:9100","job":"node","severity":"critical"}`},
		{`{{json .Data.annotations}}`, `{"description":"node-1 CPU at 97%","summary":"CPU above 90%"}`},
		{`{{quote "a \"b\"\n<c>"}}`, `"a \"b\"\n\u003cc\u003e"`},
		{`{{quote 3}}`, `"3"`},
		{`{{upper .Severity}} {{lower "ABC"}}`, `CRITICAL abc`},
		{`{{default "x" .Labels.nope}} {{default "x" .Labels.job}} {{default 7 0}}`, `x node 7`},
		{`{{join "+" .Data.receivers}}|{{join "," .Data.nope}}`, `pager+chat|`},
		{`{{truncate 3 "héllo"}}|{{truncate 10 "hi"}}|{{truncate 0 "x"}}`, `hél|hi|`},
		{`{{formatTime "2006-01-02T15:04" .Timestamp}} {{formatTime "unixMilli" .Timestamp}} {{formatTime "RFC3339" .Data.startsAt}}`, `2026-03-01T12:00 1772366400000 2026-03-01T11:55:00Z`},
		{`{{get .Labels "job"}} {{get .Data "annotations.summary"}} {{json (get .Data "nope.x")}}`, `node CPU above 90% null`},
		{`{{.Labels.nope}}|{{.Webhook.Name}}|{{.Webhook.Project}}|{{.Event.ID}}`, `|ops-hook|prj|evt_02firing`},
	}
	ev := firingEvent()
	ev.Data = json.RawMessage(`{"receivers":["pager","chat"],"annotations":{"summary":"CPU above 90%","description":"node-1 CPU at 97%"},` +
		`"startsAt":"2026-03-01T11:55:00Z"}`)
	for _, tt := range tests {
		w := webhook(herald.FormatTemplate, "en")
		w.Template, w.ContentType = tt.tmpl, "text/plain"
		r, err := Render(w, ev)
		if err != nil {
			t.Errorf("%s: %v", tt.tmpl, err)
			continue
		}
		if string(r.Body) != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.tmpl, r.Body, tt.want)
		}
	}
}

// A template stored before validation existed, or broken by an event the
// sample did not foresee, fails the render with a reason.
func TestRenderTemplateErrors(t *testing.T) {
	t.Parallel()
	w := webhook(herald.FormatTemplate, "en")
	w.Template = `{"s": {{json .Data.annotations.summary}}}`
	if _, err := Render(w, firingEvent()); err != nil {
		t.Fatal(err)
	}
	// A missing key is nil; a field of a missing object is an error.
	w.Template = `{"s": {{json .Data.annotations}}}`
	if r, err := Render(w, pushEvent()); err != nil || string(r.Body) != `{"s": null}` {
		t.Fatalf("missing key: %s, %v", r.Body, err)
	}
	w.Template = `{"s": {{json .Data.annotations.summary}}}`
	_, err := Render(w, pushEvent())
	if herald.ErrorField(err) != "template" || !strings.Contains(herald.ErrorMessage(err), "nil pointer") {
		t.Fatalf("field of a missing object: %v", err)
	}
	w.Template = `{"s": {{.Data.operator}}}`
	_, err = Render(w, pushEvent())
	if herald.ErrorCode(err) != herald.EInvalid || !strings.Contains(herald.ErrorMessage(err), "not valid JSON") {
		t.Fatalf("err = %v", err)
	}
	w.Template = `{{`
	if _, err = Render(w, pushEvent()); herald.ErrorField(err) != "template" {
		t.Fatalf("err = %v", err)
	}
}

func TestTemplateCache(t *testing.T) {
	t.Parallel()
	text := `{"cache": {{json .ID}}}`
	a, err := compiled(text)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compiled(text)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("the same text was parsed twice")
	}
	for i := range templateCacheSize + 10 {
		if _, err := compiled(`{"n": ` + strings.Repeat(" ", i) + `1}`); err != nil {
			t.Fatal(err)
		}
	}
	templateCache.Lock()
	n := len(templateCache.m)
	templateCache.Unlock()
	if n > templateCacheSize {
		t.Errorf("cache holds %d templates, more than %d", n, templateCacheSize)
	}
}

func TestTemplateDataModel(t *testing.T) {
	t.Parallel()
	w := webhook(herald.FormatTemplate, "zh-CN")
	w.Template = `{{json .}}`
	r, err := Render(w, pushEvent())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ID", "Type", "Timestamp", "Project", "Source", "Subject", "Severity", "Labels", "Data", "Message", "Event", "Webhook"} {
		if _, ok := m[k]; !ok {
			t.Errorf("data model lacks %s", k)
		}
	}
	if m["Message"] != "项目 prj：镜像 prj/repo1:latest 已推送，操作人：admin" {
		t.Errorf("message %v", m["Message"])
	}
	hook := m["Webhook"].(map[string]any)
	if len(hook) != 4 || hook["Name"] != "ops-hook" {
		t.Errorf("webhook %v", hook)
	}
	if strings.Contains(string(r.Body), "URL") || strings.Contains(string(r.Body), "Secret") {
		t.Errorf("data model leaks webhook settings: %s", r.Body)
	}
}
