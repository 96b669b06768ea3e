package format

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

func renderMap(t *testing.T, w *herald.Webhook, ev *herald.Event) map[string]any {
	t.Helper()
	r, err := Render(w, ev)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// The attribute rules of CloudEvents 1.0: required attributes present and
// non-empty, specversion 1.0, time in RFC 3339, attribute names lowercase
// letters and digits of at most 20 characters, data JSON.
func TestCloudEventsAttributes(t *testing.T) {
	t.Parallel()
	ev := firingEvent()
	ev.Labels["Upper"] = "x"
	ev.Labels["with_underscore"] = "x"
	ev.Labels["averyveryverylonglabelname"] = "x"
	ev.Labels["source"] = "must-not-override"
	ev.Labels["zone"] = "eu1"
	for _, e := range []*herald.Event{ev, hostEvent(), minimalEvent(), pushEvent()} {
		w := webhook(herald.FormatCloudEvents, "en")
		r, err := Render(w, e)
		if err != nil {
			t.Fatal(err)
		}
		if r.ContentType != "application/cloudevents+json" {
			t.Errorf("content type %q", r.ContentType)
		}
		m := renderMap(t, w, e)
		for k := range m {
			if !ValidCloudEventsExtension(k) {
				t.Errorf("%s: attribute name %q breaks the naming rules", e.ID, k)
			}
		}
		for _, k := range []string{"specversion", "id", "source", "type"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("%s: required attribute %s is %v", e.ID, k, m[k])
			}
		}
		if m["specversion"] != "1.0" || m["datacontenttype"] != "application/json" {
			t.Errorf("%s: specversion %v, datacontenttype %v", e.ID, m["specversion"], m["datacontenttype"])
		}
		if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil {
			t.Errorf("%s: time: %v", e.ID, err)
		}
		if _, ok := m["data"].(map[string]any); !ok {
			t.Errorf("%s: data is %T", e.ID, m["data"])
		}
		for k, v := range m {
			if k != "data" {
				if _, ok := v.(string); !ok {
					t.Errorf("%s: attribute %s is %T, want string", e.ID, k, v)
				}
			}
		}
	}
	m := renderMap(t, webhook(herald.FormatCloudEvents, "en"), ev)
	if m["source"] != "alertmanager" || m["zone"] != "eu1" || m["severity"] != "critical" || m["project"] != "ops" {
		t.Errorf("attributes: %v", m)
	}
	for _, k := range []string{"Upper", "upper", "with_underscore", "averyveryverylonglabelname"} {
		if _, ok := m[k]; ok {
			t.Errorf("label %s became an attribute", k)
		}
	}
}

func TestCloudEventsSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev   herald.Event
		want string
	}{
		{herald.Event{Source: "harbor", Project: "p"}, "harbor"},
		{herald.Event{Project: "p"}, "/herald/projects/p"},
		{herald.Event{Project: "team a/b"}, "/herald/projects/team%20a%2Fb"},
		{herald.Event{}, "/herald"},
	}
	for _, tt := range tests {
		if got := CloudEventsSource(&tt.ev); got != tt.want {
			t.Errorf("CloudEventsSource(%+v) = %q, want %q", tt.ev, got, tt.want)
		}
	}
}

func TestValidCloudEventsExtension(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"severity": true, "a1": true, "abcdefghij0123456789": true,
		"": false, "Severity": false, "a-b": false, "a_b": false, "abcdefghij01234567890": false, "é": false,
	} {
		if got := ValidCloudEventsExtension(name); got != want {
			t.Errorf("ValidCloudEventsExtension(%q) = %v, want %v", name, got, want)
		}
	}
}
