package format

import (
	"encoding/json"
	"reflect"
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
	for _, k := range []string{"Upper", "with_underscore", "averyveryverylonglabelname", "averyveryverylonglabe"} {
		if _, ok := m[k]; ok {
			t.Errorf("label %s became an attribute", k)
		}
	}
	if m["upper"] != "x" || m["withunderscore"] != "x" {
		t.Errorf("mapped labels: %v", m)
	}
}

// Every label survives: all of them, names and values exact, in the labels
// attribute (a JSON object in a string); each under its mapped name where
// there is one; none overrides a context attribute or Herald's extensions.
func TestCloudEventsLabels(t *testing.T) {
	t.Parallel()
	labels := map[string]string{
		"app.kubernetes.io/name": "node-exporter", "Team": "db", "a_b": "1", "ab": "2", "A-B": "3",
		"id": "x", "time": "x", "data": "x", "Source": "x", "severity": "x", "labels": "x", "specversion": "x",
		"averyveryverylonglabelname": "long", "日本": "jp", "empty": "", "x.y": "first", "x_y": "second",
	}
	ev := firingEvent()
	ev.Labels = labels
	m := renderMap(t, webhook(herald.FormatCloudEvents, "en"), ev)
	var all map[string]string
	s, ok := m["labels"].(string)
	if !ok || json.Unmarshal([]byte(s), &all) != nil || !reflect.DeepEqual(all, labels) {
		t.Fatalf("labels attribute %#v, want every label", m["labels"])
	}
	want := map[string]any{
		"appkubernetesioname": "node-exporter", "team": "db", "ab": "2", // ab needs no mapping: it wins over a_b and A-B
		"xy": "first", // x.y sorts before x_y
		"id": "evt_02firing", "time": "2026-03-01T12:00:00Z", "source": "alertmanager", "severity": "critical", "specversion": "1.0",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, ok := m["data"].(map[string]any); !ok {
		t.Errorf("data overridden: %v", m["data"])
	}
	for _, k := range []string{"averyveryverylonglabelname", "averyveryverylonglab", "empty", ""} {
		if _, ok := m[k]; ok {
			t.Errorf("%q became an attribute", k)
		}
	}
	for k, v := range m {
		if !ValidCloudEventsExtension(k) {
			t.Errorf("attribute name %q breaks the naming rules", k)
		}
		if _, isStr := v.(string); !isStr && k != "data" {
			t.Errorf("attribute %s is %T", k, v)
		}
	}
	// Deterministic: the same labels always give the same attributes.
	for i := 0; i < 20; i++ {
		if got := renderMap(t, webhook(herald.FormatCloudEvents, "en"), ev); !reflect.DeepEqual(got, m) {
			t.Fatalf("render %d differs", i)
		}
	}
	if _, ok := renderMap(t, webhook(herald.FormatCloudEvents, "en"), minimalEvent())["labels"]; ok {
		t.Error("labels attribute on an event without labels")
	}
}

func TestCloudEventsExtensionName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"app.kubernetes.io/name": "appkubernetesioname", "Team": "team", "a_b": "ab", "zone": "zone",
		"k8s.io/v1": "k8siov1", "日本": "", "___": "", "abcdefghijklmnopqrstu": "",
	}
	for in, want := range tests {
		got, ok := CloudEventsExtensionName(in)
		if ok != (want != "") || (ok && got != want) {
			t.Errorf("CloudEventsExtensionName(%q) = %q, %v; want %q", in, got, ok, want)
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
