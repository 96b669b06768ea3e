package format

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

func TestHarborLegacyLegacyEventTypes(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"image.push":             "pushImage",
		"image.pull":             "pullImage",
		"image.delete":           "deleteImage",
		"chart.push":             "uploadChart",
		"chart.pull":             "downloadChart",
		"chart.delete":           "deleteChart",
		"image.scan.completed":   "scanningCompleted",
		"image.scan.failed":      "scanningFailed",
		"project.quota.exceeded": "quotaExceed",
		"alert.firing":           "alert.firing", // not Harbor's: unchanged
		"build.finished":         "build.finished",
	}
	for typ, want := range tests {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			if got := HarborLegacyEventType(typ); got != want {
				t.Errorf("HarborLegacyEventType(%s) = %s, want %s", typ, got, want)
			}
			ev := pushEvent()
			ev.Type = typ
			p := renderHarborLegacy(t, ev)
			if p.EventType != want || len(p.Events) != 1 || p.Events[0].FullName != "prj/repo1" {
				t.Errorf("payload %+v", p)
			}
		})
	}
}

func renderHarborLegacy(t *testing.T, ev *herald.Event) HarborLegacyPayload {
	t.Helper()
	r, err := Render(webhook(herald.FormatHarborLegacy, "en"), ev)
	if err != nil {
		t.Fatal(err)
	}
	var p HarborLegacyPayload
	dec := json.NewDecoder(bytesReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%v\n%s", err, r.Body)
	}
	return p
}

func TestHarborLegacyFields(t *testing.T) {
	t.Parallel()
	at := time.Date(2020, 3, 3, 8, 3, 52, 130e6, time.UTC)
	tests := []struct {
		name string
		ev   herald.Event
		want []HarborLegacyEvent
	}{
		{
			name: "flat data fields, as in seed 004",
			ev: herald.Event{Type: "image.push", Project: "prj", OccurredAt: at, Data: json.RawMessage(
				`{"repo_name":"repo1","tag":"latest","image_id":"9e2c","trigger_time":158322233213,"project_type":"Public"}`)},
			want: []HarborLegacyEvent{{Project: "prj", RepoName: "repo1", Tag: "latest", FullName: "prj/repo1",
				TriggerTime: 158322233213, ImageID: "9e2c", ProjectType: "Public"}},
		},
		{
			name: "one item per resource",
			ev: herald.Event{Type: "image.delete", Project: "prj", OccurredAt: at, Data: json.RawMessage(
				`{"repository":{"name":"repo1","repo_type":"public"},"resources":[{"tag":"a","digest":"sha256:1"},{"tag":"b","digest":"sha256:2"}]}`)},
			want: []HarborLegacyEvent{
				{Project: "prj", RepoName: "repo1", Tag: "a", FullName: "prj/repo1", TriggerTime: at.UnixMilli(), ImageID: "1", ProjectType: "Public"},
				{Project: "prj", RepoName: "repo1", Tag: "b", FullName: "prj/repo1", TriggerTime: at.UnixMilli(), ImageID: "2", ProjectType: "Public"},
			},
		},
		{
			name: "from the subject only",
			ev:   herald.Event{Type: "chart.push", Project: "prj", Subject: "prj/charts/nginx:1.2.3", OccurredAt: at},
			want: []HarborLegacyEvent{{Project: "prj", RepoName: "charts/nginx", Tag: "1.2.3", FullName: "prj/charts/nginx",
				TriggerTime: at.UnixMilli(), ProjectType: "Private"}},
		},
		{
			name: "project from data for a platform event",
			ev: herald.Event{Type: "project.quota.exceeded", OccurredAt: at, Data: json.RawMessage(
				`{"repository":{"name":"big","namespace":"team"},"digest":"sha256:ff","tags":["v1"]}`)},
			want: []HarborLegacyEvent{{Project: "team", RepoName: "big", Tag: "v1", FullName: "team/big",
				TriggerTime: at.UnixMilli(), ImageID: "ff", ProjectType: "Private"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := renderHarborLegacy(t, &tt.ev)
			if len(p.Events) != len(tt.want) {
				t.Fatalf("events %+v, want %+v", p.Events, tt.want)
			}
			for i := range tt.want {
				if p.Events[i] != tt.want[i] {
					t.Errorf("events[%d] = %+v, want %+v", i, p.Events[i], tt.want[i])
				}
			}
		})
	}
}

// trigger_time is an integer of unix milliseconds, as in seed 004.
func TestHarborLegacyTriggerTimeIsInteger(t *testing.T) {
	t.Parallel()
	m := renderMap(t, webhook(herald.FormatHarborLegacy, "en"), pushEvent())
	e := m["events"].([]any)[0].(map[string]any)
	if n, ok := e["trigger_time"].(float64); !ok || n != float64(t0.UnixMilli()) {
		t.Fatalf("trigger_time = %#v, want %d", e["trigger_time"], t0.UnixMilli())
	}
}

func TestParseImageRef(t *testing.T) {
	t.Parallel()
	tests := map[string]imageRef{
		"prj/repo1":                       {repository: "prj/repo1"},
		"prj/repo1:latest":                {repository: "prj/repo1", tag: "latest"},
		"prj/repo1@sha256:ab":             {repository: "prj/repo1", digest: "sha256:ab"},
		"prj/repo1:v1@sha256:ab":          {repository: "prj/repo1", tag: "v1", digest: "sha256:ab"},
		"harbor.example.com/prj/repo1:v1": {repository: "prj/repo1", tag: "v1"},
		"localhost:5000/prj/repo1":        {repository: "prj/repo1"},
		"localhost/prj/repo1:1":           {repository: "prj/repo1", tag: "1"},
		"node 7 is down":                  {},
		"":                                {},
	}
	for in, want := range tests {
		if got := parseImageRef(in); got != want {
			t.Errorf("parseImageRef(%q) = %+v, want %+v", in, got, want)
		}
	}
}
