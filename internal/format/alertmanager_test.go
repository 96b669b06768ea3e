package format

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

func renderAlertmanager(t *testing.T, w *herald.Webhook, ev *herald.Event) AlertmanagerMessage {
	t.Helper()
	r, err := Render(w, ev)
	if err != nil {
		t.Fatal(err)
	}
	var m AlertmanagerMessage
	dec := json.NewDecoder(bytesReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v\n%s", err, r.Body)
	}
	return m
}

func TestAlertmanagerStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		typ      string
		severity string
		want     string
	}{
		{"firing critical", "alert.firing", herald.SeverityCritical, AlertFiring},
		{"firing warning", "alarm.cpu", herald.SeverityWarning, AlertFiring},
		{"info is firing", "image.push", herald.SeverityInfo, AlertFiring},
		{"no severity is firing", "image.push", "", AlertFiring},
		{"clear is resolved", "alarm.cpu", herald.SeverityClear, AlertResolved},
		{"alert.resolved keeps its severity and is resolved", "alert.resolved", herald.SeverityCritical, AlertResolved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &herald.Event{ID: "e", Type: tt.typ, Project: "p", Severity: tt.severity, OccurredAt: t0}
			m := renderAlertmanager(t, webhook(herald.FormatAlertmanager, "en"), ev)
			if m.Version != "4" || m.Status != tt.want || len(m.Alerts) != 1 || m.Alerts[0].Status != tt.want {
				t.Fatalf("message %+v, want status %s", m, tt.want)
			}
			a := m.Alerts[0]
			if !a.StartsAt.Equal(t0) {
				t.Errorf("startsAt %v", a.StartsAt)
			}
			if tt.want == AlertFiring && !a.EndsAt.IsZero() || tt.want == AlertResolved && !a.EndsAt.Equal(t0) {
				t.Errorf("endsAt %v for %s", a.EndsAt, tt.want)
			}
			if a.Labels["alertname"] != tt.typ {
				t.Errorf("alertname %q, want the type", a.Labels["alertname"])
			}
			wantSev := tt.severity
			if wantSev == "" {
				wantSev = herald.SeverityInfo
			}
			if a.Labels["severity"] != wantSev {
				t.Errorf("severity label %q, want %q", a.Labels["severity"], wantSev)
			}
			if a.Annotations["summary"] == "" {
				t.Error("no summary annotation")
			}
			if a.Fingerprint != AlertFingerprint(a.Labels) {
				t.Errorf("fingerprint %s, want %s", a.Fingerprint, AlertFingerprint(a.Labels))
			}
			if m.GroupKey != `{}/{project="p"}:{alertname="`+tt.typ+`"}` {
				t.Errorf("groupKey %s", m.GroupKey)
			}
		})
	}
}

// A firing alert and its resolution keep one identity (labels, fingerprint),
// so receivers can pair them.
func TestAlertmanagerFiringAndResolvedPair(t *testing.T) {
	t.Parallel()
	w := webhook(herald.FormatAlertmanager, "en")
	f := renderAlertmanager(t, w, firingEvent()).Alerts[0]
	r := renderAlertmanager(t, w, resolvedEvent()).Alerts[0]
	if f.Fingerprint != r.Fingerprint || f.Status != AlertFiring || r.Status != AlertResolved {
		t.Fatalf("firing %+v\nresolved %+v", f, r)
	}
	if !r.EndsAt.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || !r.StartsAt.Equal(f.StartsAt) {
		t.Errorf("resolved times %v - %v", r.StartsAt, r.EndsAt)
	}
}

func TestAlertmanagerFromData(t *testing.T) {
	t.Parallel()
	ev := &herald.Event{
		Type: "alert.firing", Severity: herald.SeverityWarning, Labels: map[string]string{"alertname": "Disk"},
		Data: json.RawMessage(`{"annotations":{"runbook":"https://r","value":42},"fingerprint":"abc123",` +
			`"generator_url":"http://g","externalURL":"http://am:9093"}`),
		OccurredAt: t0,
	}
	w := webhook(herald.FormatAlertmanager, "zh-CN")
	w.Name = ""
	m := renderAlertmanager(t, w, ev)
	a := m.Alerts[0]
	if a.Fingerprint != "abc123" || a.GeneratorURL != "http://g" || m.ExternalURL != "http://am:9093" {
		t.Errorf("alert %+v, message %+v", a, m)
	}
	if a.Annotations["runbook"] != "https://r" || a.Annotations["value"] != "42" || a.Annotations["summary"] != "告警 Disk 触发（警告）" {
		t.Errorf("annotations %v", a.Annotations)
	}
	if m.Receiver != "herald" || m.GroupKey != `{}:{alertname="Disk"}` {
		t.Errorf("receiver %q, groupKey %q", m.Receiver, m.GroupKey)
	}
}

// The fingerprint is Prometheus' labelSetToFingerprint (vectors from
// prometheus/common's model/signature_test.go).
func TestAlertFingerprint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		labels map[string]string
		want   uint64
	}{
		{map[string]string{}, 14695981039346656037},
		{map[string]string{"name": "garland, briggs", "fear": "love is not enough"}, 5799056148416392346},
		{map[string]string{"first-label": "first-label-value"}, 5146282821936882169},
		{map[string]string{"first-label": "first-label-value", "second-label": "second-label-value"}, 3195800080984914717},
	}
	for _, tt := range tests {
		want := fmt16(tt.want)
		if got := AlertFingerprint(tt.labels); got != want {
			t.Errorf("AlertFingerprint(%v) = %s, want %s", tt.labels, got, want)
		}
	}
}
