package format

import (
	"math"
	"time"

	"github.com/herald-hq/herald"
)

// NetdataPayload is Netdata Cloud's webhook payload for alerts: every field of
// seed 003's table with the type it lists, and the names of Netdata's current
// webhook documentation (netdata/netdata,
// integrations/cloud-notifications/integrations/webhook.md) besides: alert
// next to alarm and alert_url next to alarm_url, with the same values, so a
// consumer written to either accepts it. A field comes from the event's data field
// of the same name when there is one (coerced to the listed type: numbers
// written as text for strings, numeric strings read for integers), else from
// the event:
//
//	message    the human message in the webhook's language
//	alarm      data.alert, labels.alertname, labels.alarm, else the event type
//	alert      the same as alarm
//	info       data.annotations.description, data.annotations.summary, else ""
//	chart      labels.chart, else ""
//	context    labels.context, else ""
//	space      the event's project
//	rooms      {} (data.rooms may be {"room name": "room url"} or
//	           [{"name": ..., "url": ...}])
//	family     labels.family, else ""
//	class      labels.class, else ""
//	severity   see NetdataSeverity
//	date       occurred_at, ISO 8601 (RFC 3339) in UTC
//	duration   since data.starts_at / data.startsAt when the event has it, as
//	           a Go duration ("1h2m3s"); a number in data.duration is seconds;
//	           else "0s"
//	additional_active_critical_alerts, additional_active_warning_alerts  0
//	alarm_url  data.alarm_url, data.alert_url, data.generatorURL, data.url, else ""
//	alert_url  the same as alarm_url
//
// Host reachability events (see NetdataReachabilityTypes) get
// NetdataReachability instead.
type NetdataPayload struct {
	Message                        string            `json:"message"`
	Alarm                          string            `json:"alarm"`
	Alert                          string            `json:"alert"`
	Info                           string            `json:"info"`
	Chart                          string            `json:"chart"`
	Context                        string            `json:"context"`
	Space                          string            `json:"space"`
	Rooms                          map[string]string `json:"rooms"`
	Family                         string            `json:"family"`
	Class                          string            `json:"class"`
	Severity                       string            `json:"severity"`
	Date                           string            `json:"date"`
	Duration                       string            `json:"duration"`
	AdditionalActiveCriticalAlerts int64             `json:"additional_active_critical_alerts"`
	AdditionalActiveWarningAlerts  int64             `json:"additional_active_warning_alerts"`
	AlarmURL                       string            `json:"alarm_url"`
	AlertURL                       string            `json:"alert_url"`
}

// NetdataReachability is Netdata Cloud's reachability notification:
//
//	message           data.message, else the human message in the webhook's language
//	url               data.url, data.host_url, data.node_url, else ""
//	host              data.host, data.hostname, labels host / hostname / node /
//	                  instance, else the event subject
//	severity          info when the host is reachable, critical when it is not
//	status.reachable  true for host.recovered, a clear event or data.status.reachable
//	                  / data.reachable true; false otherwise
//	status.text       "reachable" or "unreachable"
type NetdataReachability struct {
	Message  string                    `json:"message"`
	URL      string                    `json:"url"`
	Host     string                    `json:"host"`
	Severity string                    `json:"severity"`
	Status   NetdataReachabilityStatus `json:"status"`
}

// NetdataReachabilityStatus is NetdataReachability.Status.
type NetdataReachabilityStatus struct {
	Reachable bool   `json:"reachable"`
	Text      string `json:"text"`
}

// NetdataReachabilityTypes are the catalog's host reachability event types,
// sent as NetdataReachability; true for the one that means reachable again.
var NetdataReachabilityTypes = map[string]bool{
	"host.lost_connection":  false,
	"host.recovery_timeout": false,
	"host.recovered":        true,
	"unreachable":           false,
}

func netdataReachability(w *herald.Webhook, v *view) NetdataReachability {
	ev := v.ev
	reachable := NetdataReachabilityTypes[ev.Type] || ev.Severity == herald.SeverityClear
	for _, path := range []string{"status.reachable", "reachable"} {
		if x, ok := v.lookup(path); ok {
			if b, ok := x.(bool); ok {
				reachable = b
				break
			}
		}
	}
	r := NetdataReachability{
		Message:  v.strOr("", "message"),
		URL:      v.strOr("", "url", "host_url", "node_url"),
		Host:     v.strOr("", "host", "hostname"),
		Severity: herald.SeverityCritical,
		Status:   NetdataReachabilityStatus{Reachable: reachable, Text: "unreachable"},
	}
	if reachable {
		r.Severity, r.Status.Text = herald.SeverityInfo, "reachable"
	}
	if r.Message == "" {
		r.Message = message(w.Language, v)
	}
	if r.Host == "" {
		if s, ok := v.label("host", "hostname", "node", "instance"); ok {
			r.Host = s
		} else {
			r.Host = ev.Subject
		}
	}
	return r
}

// NetdataSeverity maps an event to Netdata's three severities: warning and
// critical stay; clear, and every event that ends an alert (type
// alert.resolved), is clear; info is clear too, since Netdata's only state
// for "nothing needs attention" is clear. A data.severity that is one of the
// three wins.
func NetdataSeverity(ev *herald.Event) string { return netdataSeverity(newView(ev)) }

func netdataSeverity(v *view) string {
	if s, ok := v.str("severity"); ok {
		switch s {
		case herald.SeverityWarning, herald.SeverityCritical, herald.SeverityClear:
			return s
		}
	}
	if v.resolved() {
		return herald.SeverityClear
	}
	switch v.ev.Severity {
	case herald.SeverityWarning, herald.SeverityCritical:
		return v.ev.Severity
	}
	return herald.SeverityClear
}

func netdata(w *herald.Webhook, v *view) NetdataPayload {
	ev := v.ev
	p := NetdataPayload{
		Message:  v.strOr("", "message"),
		Alarm:    v.strOr("", "alarm", "alert"),
		Info:     v.strOr("", "info", "annotations.description", "annotations.summary"),
		Chart:    v.strOr(ev.Labels["chart"], "chart"),
		Context:  v.strOr(ev.Labels["context"], "context"),
		Space:    v.strOr(ev.Project, "space"),
		Rooms:    netdataRooms(v),
		Family:   v.strOr(ev.Labels["family"], "family"),
		Class:    v.strOr(ev.Labels["class"], "class"),
		Severity: netdataSeverity(v),
		Date:     v.strOr(v.time().Format(time.RFC3339Nano), "date"),
		Duration: netdataDuration(v),
		AlarmURL: v.strOr("", "alarm_url", "alert_url", "generatorURL", "url"),
	}
	if p.Message == "" {
		p.Message = message(w.Language, v)
	}
	if p.Alarm == "" {
		if s, ok := v.label("alertname", "alarm"); ok {
			p.Alarm = s
		} else {
			p.Alarm = ev.Type
		}
	}
	p.Alert, p.AlertURL = p.Alarm, p.AlarmURL
	p.AdditionalActiveCriticalAlerts, _ = v.int("additional_active_critical_alerts")
	p.AdditionalActiveWarningAlerts, _ = v.int("additional_active_warning_alerts")
	return p
}

func netdataRooms(v *view) map[string]string {
	rooms := map[string]string{}
	x, _ := v.lookup("rooms")
	switch t := x.(type) {
	case map[string]any:
		for name, u := range t {
			if s, ok := scalarText(u); ok {
				rooms[name] = s
			} else if s, ok := scalarText(valueAt(u, "url")); ok {
				rooms[name] = s
			}
		}
	case []any:
		for _, r := range t {
			name, _ := scalarText(valueAt(r, "name"))
			u, _ := scalarText(valueAt(r, "url"))
			if name != "" {
				rooms[name] = u
			}
		}
	}
	return rooms
}

func netdataDuration(v *view) string {
	if x, ok := v.lookup("duration"); ok {
		if s, ok := x.(string); ok && s != "" {
			return s
		}
		if n, ok := intOf(x); ok && n >= 0 && n <= math.MaxInt64/int64(time.Second) {
			return (time.Duration(n) * time.Second).String()
		}
	}
	if start, ok := v.timeAt("starts_at", "startsAt"); ok {
		if d := v.time().Sub(start); d > 0 {
			return d.Truncate(time.Second).String()
		}
	}
	return "0s"
}
