package format

import (
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		w     herald.Webhook
		field string // "" = valid
		want  string
	}{
		{name: "defaults", w: herald.Webhook{}},
		{name: "every fixed format", w: herald.Webhook{Format: herald.FormatNetdata, Language: "zh-CN"}},
		{name: "template", w: herald.Webhook{Format: herald.FormatTemplate, Template: `{"t": {{json .Type}}}`}},
		{name: "text template", w: herald.Webhook{Format: herald.FormatTemplate, Template: `{{.Type}}`, ContentType: "text/plain"}},
		{name: "template kept for another format", w: herald.Webhook{Format: herald.FormatStandard, Template: `{{`}},
		{name: "unknown format", w: herald.Webhook{Format: "xml"}, field: "format",
			want: "standard, cloudevents, harbor, harbor-legacy, netdata, alertmanager, template"},
		{name: "unknown language", w: herald.Webhook{Language: "fr"}, field: "language", want: "en or zh-CN"},
		{name: "template missing", w: herald.Webhook{Format: herald.FormatTemplate}, field: "template", want: "required"},
		{name: "template invalid", w: herald.Webhook{Format: herald.FormatTemplate, Template: "{\n{{end}}"}, field: "template", want: "line 2"},
		{name: "template not JSON", w: herald.Webhook{Format: herald.FormatTemplate, Template: `{{.Type}}`}, field: "template", want: "not valid JSON"},
		{name: "bad content type", w: herald.Webhook{Format: herald.FormatStandard, ContentType: "a b"}, field: "content_type", want: "not a media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(&tt.w)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != tt.field ||
				!strings.Contains(herald.ErrorMessage(err), tt.want) {
				t.Fatalf("err = %v, want invalid %s with %q", err, tt.field, tt.want)
			}
		})
	}
}
