package format

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// Every field of seed 003's table, and of Netdata's current documentation
// (alert, alert_url), is present with the JSON type the tables list, whatever
// the event carries.
func TestNetdataFieldTypes(t *testing.T) {
	t.Parallel()
	const (
		str = "string"
		obj = "object"
		num = "integer"
	)
	fields := map[string]string{
		"message": str, "alarm": str, "info": str, "chart": str, "context": str, "space": str,
		"rooms": obj, "family": str, "class": str, "severity": str, "date": str, "duration": str,
		"additional_active_critical_alerts": num, "additional_active_warning_alerts": num, "alarm_url": str,
		"alert": str, "alert_url": str,
	}
	weird := &herald.Event{Type: "alarm.cpu", Data: json.RawMessage(
		`{"chart": 12, "duration": "long", "additional_active_critical_alerts": "many", "rooms": "r", "severity": "huge", "info": {"a": 1}}`)}
	for _, ev := range []*herald.Event{netdataEvent(), firingEvent(), minimalEvent(), pushEvent(), weird} {
		m := renderMap(t, webhook(herald.FormatNetdata, "en"), ev)
		if len(m) != len(fields) {
			t.Errorf("%s: %d fields, want %d: %v", ev.Type, len(m), len(fields), m)
		}
		for name, typ := range fields {
			v, ok := m[name]
			if !ok {
				t.Errorf("%s: field %s missing", ev.Type, name)
				continue
			}
			switch typ {
			case str:
				_, ok = v.(string)
			case obj:
				var rooms map[string]any
				rooms, ok = v.(map[string]any)
				for _, u := range rooms {
					if _, isStr := u.(string); !isStr {
						ok = false
					}
				}
			case num:
				var f float64
				f, ok = v.(float64)
				ok = ok && f == float64(int64(f))
			}
			if !ok {
				t.Errorf("%s: field %s = %#v, want %s", ev.Type, name, v, typ)
			}
		}
		if m["alert"] != m["alarm"] || m["alert_url"] != m["alarm_url"] {
			t.Errorf("%s: alert %v / alarm %v, alert_url %v / alarm_url %v", ev.Type, m["alert"], m["alarm"], m["alert_url"], m["alarm_url"])
		}
		switch m["severity"] {
		case "warning", "critical", "clear":
		default:
			t.Errorf("%s: severity %v", ev.Type, m["severity"])
		}
		if _, err := time.Parse(time.RFC3339, m["date"].(string)); err != nil {
			t.Errorf("%s: date: %v", ev.Type, err)
		}
	}
}

func TestNetdataSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev   herald.Event
		want string
	}{
		{herald.Event{Severity: herald.SeverityCritical}, "critical"},
		{herald.Event{Severity: herald.SeverityWarning}, "warning"},
		{herald.Event{Severity: herald.SeverityClear}, "clear"},
		{herald.Event{Severity: herald.SeverityInfo}, "clear"},
		{herald.Event{}, "clear"},
		{herald.Event{Type: "alert.resolved", Severity: herald.SeverityCritical}, "clear"},
		{herald.Event{Severity: herald.SeverityInfo, Data: json.RawMessage(`{"severity":"warning"}`)}, "warning"},
		{herald.Event{Severity: herald.SeverityCritical, Data: json.RawMessage(`{"severity":"bad"}`)}, "critical"},
	}
	for _, tt := range tests {
		if got := NetdataSeverity(&tt.ev); got != tt.want {
			t.Errorf("NetdataSeverity(%+v) = %s, want %s", tt.ev, got, tt.want)
		}
	}
}

func TestNetdataFromEvent(t *testing.T) {
	t.Parallel()
	ev := hostEvent()
	ev.Type, ev.Message = "alarm.network", "Host node-7 lost connection"
	ev.Project = "space9"
	ev.Labels = map[string]string{"chart": "net.eth0", "family": "eth0", "class": "Workload"}
	ev.Data = json.RawMessage(`{"rooms":[{"name":"Edge","url":"https://app/rooms/edge"}],"duration":"3m"}`)
	r, err := Render(webhook(herald.FormatNetdata, "en"), ev)
	if err != nil {
		t.Fatal(err)
	}
	var p NetdataPayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	want := NetdataPayload{
		Message: "Host node-7 lost connection", Alarm: "alarm.network", Chart: "net.eth0",
		Space: "space9", Rooms: map[string]string{"Edge": "https://app/rooms/edge"}, Family: "eth0",
		Class: "Workload", Severity: "critical", Date: "2026-03-01T12:00:00Z", Duration: "3m",
	}
	if p.Message != want.Message || p.Alarm != want.Alarm || p.Chart != want.Chart || p.Space != want.Space ||
		p.Rooms["Edge"] != want.Rooms["Edge"] || p.Family != want.Family || p.Class != want.Class ||
		p.Severity != want.Severity || p.Date != want.Date || p.Duration != want.Duration {
		t.Errorf("payload\n%+v\nwant\n%+v", p, want)
	}
}

// A consumer written to Netdata's current documentation reads alert and
// alert_url; one written to seed 003 reads alarm and alarm_url. Data in
// either naming fills both.
func TestNetdataAlertNames(t *testing.T) {
	t.Parallel()
	ev := netdataEvent()
	ev.Data = json.RawMessage(`{"alert":"disk_space_usage","alert_url":"https://app.netdata.cloud/a/1"}`)
	var doc struct {
		Alert    string `json:"alert"`
		AlertURL string `json:"alert_url"`
		Alarm    string `json:"alarm"`
		AlarmURL string `json:"alarm_url"`
	}
	r, err := Render(webhook(herald.FormatNetdata, "en"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Alert != "disk_space_usage" || doc.Alarm != doc.Alert || doc.AlertURL != "https://app.netdata.cloud/a/1" || doc.AlarmURL != doc.AlertURL {
		t.Errorf("%+v", doc)
	}
}

// Host reachability events get Netdata's reachability shape, and nothing else.
func TestNetdataReachability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   herald.Event
		want NetdataReachability
	}{
		{"lost", herald.Event{Type: "host.lost_connection", Subject: "node-7", Severity: herald.SeverityCritical,
			Data: json.RawMessage(`{"url":"https://app.netdata.cloud/spaces/s/nodes/7"}`)},
			NetdataReachability{Message: "Host node-7 lost connection", URL: "https://app.netdata.cloud/spaces/s/nodes/7",
				Host: "node-7", Severity: "critical", Status: NetdataReachabilityStatus{false, "unreachable"}}},
		{"recovered", herald.Event{Type: "host.recovered", Labels: map[string]string{"host": "db-1"}, Subject: "x"},
			NetdataReachability{Message: "Host x connection recovered", Host: "db-1", Severity: "info",
				Status: NetdataReachabilityStatus{true, "reachable"}}},
		{"timeout", herald.Event{Type: "host.recovery_timeout", Data: json.RawMessage(`{"host":"web-2","message":"gone"}`)},
			NetdataReachability{Message: "gone", Host: "web-2", Severity: "critical", Status: NetdataReachabilityStatus{false, "unreachable"}}},
		{"unreachable cleared", herald.Event{Type: "unreachable", Subject: "n1", Severity: herald.SeverityClear},
			NetdataReachability{Message: "Node n1 is unreachable", Host: "n1", Severity: "info", Status: NetdataReachabilityStatus{true, "reachable"}}},
		{"data status wins", herald.Event{Type: "unreachable", Subject: "n1", Data: json.RawMessage(`{"status":{"reachable":true}}`)},
			NetdataReachability{Message: "Node n1 is unreachable", Host: "n1", Severity: "info", Status: NetdataReachabilityStatus{true, "reachable"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Render(webhook(herald.FormatNetdata, "en"), &tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			var got NetdataReachability
			dec := json.NewDecoder(bytesReader(r.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%v\n%s", err, r.Body)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
