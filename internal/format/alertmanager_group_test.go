package format

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// diskFull is Alertmanager's notification of two alerts of one group
// (DiskFull on node-2 and node-3).
func diskFull() *AlertmanagerNotification {
	start := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	alert := func(node, sev string) AlertmanagerAlert {
		return AlertmanagerAlert{
			Status: AlertFiring, StartsAt: start,
			Labels:       map[string]string{"alertname": "DiskFull", "instance": node, "severity": sev, "job": "node"},
			Annotations:  map[string]string{"summary": "Disk full on " + node, "runbook": "https://runbooks/disk"},
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=disk",
			Fingerprint:  AlertFingerprint(map[string]string{"alertname": "DiskFull", "instance": node, "severity": sev, "job": "node"}),
		}
	}
	return &AlertmanagerNotification{
		Version: "4", GroupKey: `{}:{alertname="DiskFull"}`, Status: AlertFiring, Receiver: "herald",
		NotificationReason: "new_alerts",
		GroupLabels:        map[string]string{"alertname": "DiskFull"},
		CommonLabels:       map[string]string{"alertname": "DiskFull", "job": "node"},
		CommonAnnotations:  map[string]string{"runbook": "https://runbooks/disk"},
		RouteLabels:        map[string]string{"team": "storage"},
		ExternalURL:        "http://alertmanager:9093", TruncatedAlerts: 1,
		Alerts: []AlertmanagerAlert{alert("node-2", "critical"), alert("node-3", "warning")},
	}
}

func TestAlertmanagerGroupWhole(t *testing.T) {
	t.Parallel()
	n := diskFull()
	ev := AlertmanagerGroupEvent("ops", n, "http://ignored")
	if ev.Type != AlertmanagerGroupType || ev.Severity != herald.SeverityCritical || ev.Subject != "DiskFull" {
		t.Fatalf("group event %+v", ev)
	}
	w := webhook(herald.FormatAlertmanager, "en")
	w.Project, w.EventTypes = "ops", []string{"alert.*"}
	r, err := Render(w, ev)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "alertmanager_group.json", indentJSON(t, r.Body))
	m := renderAlertmanager(t, w, ev)
	if len(m.Alerts) != 2 || m.GroupKey != n.GroupKey || m.Status != AlertFiring || m.TruncatedAlerts != 1 ||
		m.ExternalURL != "http://alertmanager:9093" || m.NotificationReason != "new_alerts" ||
		!reflect.DeepEqual(m.CommonLabels, n.CommonLabels) || !reflect.DeepEqual(m.GroupLabels, n.GroupLabels) ||
		!reflect.DeepEqual(m.CommonAnnotations, n.CommonAnnotations) || !reflect.DeepEqual(m.RouteLabels, n.RouteLabels) {
		t.Errorf("message %+v", m)
	}
	for i, a := range m.Alerts {
		if !reflect.DeepEqual(a.Labels, n.Alerts[i].Labels) || a.Fingerprint != n.Alerts[i].Fingerprint {
			t.Errorf("alert %d changed: %+v", i, a)
		}
	}
}

// Only the alerts the webhook's filters admit are sent; status, commonLabels
// and commonAnnotations are recomputed from them; the rest stays the group's.
func TestAlertmanagerGroupFiltered(t *testing.T) {
	t.Parallel()
	n := diskFull()
	n.Alerts[0].Status = AlertResolved
	n.Alerts[0].EndsAt = n.Alerts[0].StartsAt.Add(time.Hour)
	ev := AlertmanagerGroupEvent("ops", n, "")
	tests := []struct {
		name       string
		w          herald.Webhook
		instances  []string
		status     string
		commonNode string
	}{
		{"condition", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "instance", Operator: herald.OpIn, Values: []string{"node-3"}}}},
			[]string{"node-3"}, AlertFiring, "node-3"},
		{"event type", herald.Webhook{EventTypes: []string{"alert.resolved"}}, []string{"node-2"}, AlertResolved, "node-2"},
		// critical only: node-2 is resolved (clear), node-3 warning
		{"severity preset admits none: all", herald.Webhook{EventTypes: []string{"*"}, Severity: herald.SeverityPresetCritical}, []string{"node-2", "node-3"}, AlertFiring, ""},
		{"severity preset", herald.Webhook{EventTypes: []string{"*"}, Severity: herald.SeverityPresetAlerts, Conditions: []herald.Condition{{Label: "severity", Operator: herald.OpIn, Values: []string{"warning"}}}},
			[]string{"node-3"}, AlertFiring, "node-3"},
		{"none matches any more: all", herald.Webhook{EventTypes: []string{"image.*"}}, []string{"node-2", "node-3"}, AlertFiring, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.w
			w.Format, w.Name = herald.FormatAlertmanager, "hook"
			m := renderAlertmanager(t, &w, ev)
			var got []string
			for _, a := range m.Alerts {
				got = append(got, a.Labels["instance"])
			}
			if !reflect.DeepEqual(got, tt.instances) {
				t.Fatalf("alerts %v, want %v", got, tt.instances)
			}
			if m.GroupKey != n.GroupKey || m.TruncatedAlerts != 1 || m.Receiver != "hook" {
				t.Errorf("group fields %+v", m)
			}
			if tt.commonNode != "" {
				if m.Status != tt.status || m.CommonLabels["instance"] != tt.commonNode || m.CommonLabels["alertname"] != "DiskFull" ||
					m.CommonAnnotations["summary"] != "Disk full on "+tt.commonNode {
					t.Errorf("recomputed %s %v %v", m.Status, m.CommonLabels, m.CommonAnnotations)
				}
			} else if !reflect.DeepEqual(m.CommonLabels, n.CommonLabels) || m.Status != AlertFiring {
				t.Errorf("whole group: %s %v", m.Status, m.CommonLabels)
			}
		})
	}
}

// The group event id depends on the notification's content only: a repeated
// notification is stored once, a changed one is new.
func TestAlertmanagerGroupEventID(t *testing.T) {
	t.Parallel()
	a, b := AlertmanagerGroupEvent("ops", diskFull(), ""), AlertmanagerGroupEvent("ops", diskFull(), "")
	if a.ID != b.ID {
		t.Fatalf("ids differ: %s %s", a.ID, b.ID)
	}
	n := diskFull()
	n.Alerts[0], n.Alerts[1] = n.Alerts[1], n.Alerts[0]
	if AlertmanagerGroupEvent("ops", n, "").ID != a.ID {
		t.Error("alert order changes the id")
	}
	n.Alerts = n.Alerts[:1]
	if AlertmanagerGroupEvent("ops", n, "").ID == a.ID {
		t.Error("a smaller group has the same id")
	}
	if AlertmanagerGroupEvent("dev", diskFull(), "").ID == a.ID {
		t.Error("another project has the same id")
	}
	// externalURL from the setting when the notification has none
	n = diskFull()
	n.ExternalURL = ""
	var stored AlertmanagerNotification
	if err := json.Unmarshal(AlertmanagerGroupEvent("ops", n, "https://am.example.com").Data, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.ExternalURL != "https://am.example.com" {
		t.Errorf("externalURL %q", stored.ExternalURL)
	}
}

func TestAlertEvent(t *testing.T) {
	t.Parallel()
	n := diskFull()
	n.Alerts[1].Status = ""
	n.Status = AlertResolved
	ev := AlertEvent("ops", n, 1)
	if ev.Type != "alert.resolved" || ev.Severity != herald.SeverityClear || ev.Labels["instance"] != "node-3" ||
		ev.Message != "Disk full on node-3" || ev.ID == "" || ev.Project != "ops" {
		t.Errorf("%+v", ev)
	}
	if ev := AlertEvent("ops", diskFull(), 0); ev.Type != "alert.firing" || ev.Severity != herald.SeverityCritical {
		t.Errorf("%+v", ev)
	}
}
