package format

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// harborExamples are Harbor 2.x payloads, one per event type Harbor's
// notification policies offer, shaped after Harbor's notifier model and
// webhook handlers (goharbor/harbor main, commit c50c7ddd).
func harborExamples(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "harbor", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	want := []string{HarborPushArtifact, HarborPullArtifact, HarborDeleteArtifact, HarborScanningCompleted,
		HarborScanningFailed, HarborScanningStopped, HarborQuotaExceed, HarborQuotaWarning, HarborReplication, HarborTagRetention}
	for _, typ := range want {
		if out[typ] == nil {
			t.Fatalf("no example of %s in testdata/harbor", typ)
		}
	}
	return out
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return x
}

// An event carrying Harbor's event_data (with operator) as its data, or the
// whole Harbor payload, is sent on exactly as Harbor sent it; harbor-legacy
// renders the same events in the 1.x shape. Both are kept as golden files.
func TestHarborExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	for typ, example := range harborExamples(t) {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			var in struct {
				Type      string         `json:"type"`
				OccurAt   int64          `json:"occur_at"`
				Operator  string         `json:"operator"`
				EventData map[string]any `json:"event_data"`
			}
			if err := json.Unmarshal(example, &in); err != nil {
				t.Fatal(err)
			}
			heraldType, ok := HeraldEventType(in.Type)
			if !ok {
				t.Fatalf("HeraldEventType(%s) unknown", in.Type)
			}
			if HarborEventType(heraldType) != in.Type {
				t.Fatalf("HarborEventType(%s) = %s, want %s", heraldType, HarborEventType(heraldType), in.Type)
			}
			in.EventData["operator"] = in.Operator
			flat, _ := json.Marshal(in.EventData)
			events := map[string]*herald.Event{
				"event_data": {ID: "e1", Type: heraldType, Project: "p-harbor", Source: "harbor",
					OccurredAt: time.Unix(in.OccurAt, 0), Data: flat},
				"whole payload": {ID: "e2", Type: heraldType, Project: "p-harbor", Source: "harbor",
					OccurredAt: t0, Data: example},
			}
			for name, ev := range events {
				r, err := Render(webhook(herald.FormatHarbor, "en"), ev)
				if err != nil {
					t.Fatal(err)
				}
				var p HarborPayload
				dec := json.NewDecoder(bytes.NewReader(r.Body))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&p); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got, want := decodeAny(t, r.Body), decodeAny(t, example); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: harbor payload differs from Harbor's\n--- got\n%s\n--- want\n%s", name, r.Body, example)
				}
				if name == "event_data" {
					golden(t, "harbor/"+typ+".json", indentJSON(t, r.Body))
				}
			}
			r, err := Render(webhook(herald.FormatHarborLegacy, "en"), events["event_data"])
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "harbor-legacy/"+typ+".json", indentJSON(t, r.Body))
			whole, err := Render(webhook(herald.FormatHarborLegacy, "en"), events["whole payload"])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Body, r.Body) {
				t.Errorf("harbor-legacy of the whole payload differs:\n%s\n%s", whole.Body, r.Body)
			}
		})
	}
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func TestHarborEventTypesBothWays(t *testing.T) {
	t.Parallel()
	for h, typ := range harborEventTypes {
		if back, ok := HeraldEventType(typ); !ok || back != h {
			t.Errorf("HeraldEventType(%s) = %s, %v; want %s", typ, back, ok, h)
		}
	}
	for h, typ := range harborLegacyEventTypes {
		if back, ok := HeraldEventType(typ); !ok || back != h {
			t.Errorf("HeraldEventType(%s) = %s, %v; want %s", typ, back, ok, h)
		}
		if got := HarborLegacyEventType(harborEventTypes[h]); got != typ {
			t.Errorf("HarborLegacyEventType(%s) = %s, want %s", harborEventTypes[h], got, typ)
		}
	}
	if _, ok := HeraldEventType("build.finished"); ok {
		t.Error("HeraldEventType knows build.finished")
	}
	if got := HarborEventType("alert.firing"); got != "alert.firing" {
		t.Errorf("HarborEventType(alert.firing) = %s", got)
	}
	if got := HarborEventType(HarborPushArtifact); got != HarborPushArtifact {
		t.Errorf("a Harbor name is not kept: %s", got)
	}
}

// Every Harbor type of the catalog has a Harbor name.
func TestHarborCatalogTypesMapped(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "catalog", "event_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	var types []herald.EventType
	if err := json.Unmarshal(b, &types); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, et := range types {
		if et.Source == "harbor" {
			n++
			if _, ok := harborEventTypes[et.Name]; !ok {
				t.Errorf("catalog type %s has no Harbor name", et.Name)
			}
		}
	}
	if n != len(harborEventTypes) {
		t.Errorf("catalog has %d Harbor types, the map %d", n, len(harborEventTypes))
	}
}

// Herald's flat fields (seed 004) fill Harbor's shape: the namespace comes
// from the data, not Herald's project; a bare image id gets its sha256:
// prefix; a quota event carries its details.
func TestHarborFromFlatFields(t *testing.T) {
	t.Parallel()
	at := time.Date(2020, 3, 3, 8, 3, 52, 0, time.UTC)
	tests := []struct {
		name string
		ev   herald.Event
		want string
	}{
		{
			name: "seed fields",
			ev: herald.Event{Type: "image.push", Project: "p-harbor", OccurredAt: at, Labels: map[string]string{"operator": "ci"},
				Data: json.RawMessage(`{"project":"library","repo_name":"busybox","tag":"latest",` +
					`"image_id":"9e2c9d5f44efbb6ee83aecd17a120c513047d289d142ec5738c9f02f9b24ad07","project_type":"Public"}`)},
			want: `{"type":"PUSH_ARTIFACT","occur_at":1583222632,"operator":"ci","event_data":{"resources":[{"digest":` +
				`"sha256:9e2c9d5f44efbb6ee83aecd17a120c513047d289d142ec5738c9f02f9b24ad07","tag":"latest"}],` +
				`"repository":{"name":"busybox","namespace":"library","repo_full_name":"library/busybox","repo_type":"public"}}}`,
		},
		{
			name: "full name and subject registry",
			ev: herald.Event{Type: "image.pull", Project: "p-harbor", OccurredAt: at,
				Subject: "harbor.example.com/library/team/app:v2",
				Data:    json.RawMessage(`{"full_name":"library/team/app","digest":"sha256:4f1a","operator":"admin"}`)},
			want: `{"type":"PULL_ARTIFACT","occur_at":1583222632,"operator":"admin","event_data":{"resources":[{"digest":"sha256:4f1a",` +
				`"tag":"v2","resource_url":"harbor.example.com/library/team/app:v2"}],` +
				`"repository":{"name":"team/app","namespace":"library","repo_full_name":"library/team/app","repo_type":"private"}}}`,
		},
		{
			name: "registry from the data",
			ev: herald.Event{Type: "image.push", OccurredAt: at, Subject: "library/nginx:v1",
				Data: json.RawMessage(`{"registry":"harbor.example.com","operator":"admin"}`)},
			want: `{"type":"PUSH_ARTIFACT","occur_at":1583222632,"operator":"admin","event_data":{"resources":[{"tag":"v1",` +
				`"resource_url":"harbor.example.com/library/nginx:v1"}],` +
				`"repository":{"name":"nginx","namespace":"library","repo_full_name":"library/nginx","repo_type":"private"}}}`,
		},
		{
			name: "quota details from the message",
			ev: herald.Event{Type: "project.quota.warning", Project: "p-harbor", OccurredAt: at, Message: "quota usage reach 85%",
				Subject: "library/nginx:v1"},
			want: `{"type":"QUOTA_WARNING","occur_at":1583222632,"operator":"","event_data":{"resources":[{"tag":"v1"}],` +
				`"repository":{"name":"nginx","namespace":"library","repo_full_name":"library/nginx","repo_type":"private"},` +
				`"custom_attributes":{"Details":"quota usage reach 85%"}}}`,
		},
		{
			name: "scan type defaults to vulnerability",
			ev:   herald.Event{Type: "image.scan.completed", OccurredAt: at, Subject: "library/nginx@sha256:ab"},
			want: `{"type":"SCANNING_COMPLETED","occur_at":1583222632,"operator":"","event_data":{"resources":[{"digest":"sha256:ab"}],` +
				`"repository":{"name":"nginx","namespace":"library","repo_full_name":"library/nginx","repo_type":"private"},` +
				`"scan":{"scan_type":"vulnerability"}}}`,
		},
		{
			name: "flat replication record",
			ev: herald.Event{Type: "image.replication", OccurredAt: at,
				Data: json.RawMessage(`{"job_status":"Failed","trigger_type":"SCHEDULED","task_id":7,"operator":"SCHEDULED"}`)},
			want: `{"type":"REPLICATION","occur_at":1583222632,"operator":"SCHEDULED","event_data":{"replication":` +
				`{"job_status":"Failed","task_id":7,"trigger_type":"SCHEDULED"}}}`,
		},
		{
			name: "flat retention record",
			ev: herald.Event{Type: "image.retention", OccurredAt: at,
				Data: json.RawMessage(`{"project_name":"library","result":"SUCCESS","retained":1}`)},
			want: `{"type":"TAG_RETENTION","occur_at":1583222632,"operator":"","event_data":{"retention":` +
				`{"project_name":"library","result":"SUCCESS","retained":1,"total":0}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Render(webhook(herald.FormatHarbor, "en"), &tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := decodeAny(t, r.Body), decodeAny(t, []byte(tt.want)); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %s", r.Body, tt.want)
			}
		})
	}
}
