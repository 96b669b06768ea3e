package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/match"
)

// An Alertmanager notification posted to Herald is stored as one event per
// alert (alert.firing / alert.resolved, see AlertEvent) and, besides them, as
// one group event of type AlertmanagerGroupType whose data is the
// notification itself (AlertmanagerNotification). A webhook of format
// alertmanager that any of the alerts matches gets one delivery of the group
// event instead of the per-alert events; every other webhook gets the
// per-alert events.
//
// The group event renders as Alertmanager's message with the notification's
// groupKey, status, groupLabels, commonLabels, commonAnnotations, routeLabels,
// externalURL, notification_reason and truncatedAlerts, and only the alerts
// that match the webhook's filters (checked at send time with
// internal/match, on the per-alert events AlertEvent makes). When some alerts
// are left out, status (firing when any alert fires), commonLabels and
// commonAnnotations are recomputed from the alerts kept, as Alertmanager
// computes them; when the webhook's filters have changed since and match
// none, every alert is sent (the delivery was created when they matched).
// Alerts are sent as Alertmanager sent them: labels, annotations and
// fingerprint unchanged (a missing fingerprint computed, a missing status
// taken from the notification).

// AlertmanagerGroupType is the event type of the group event of an
// Alertmanager notification.
const AlertmanagerGroupType = "alertmanager.notification"

// AlertmanagerNotification is the webhook message Alertmanager posts
// (version 4; notification_reason and routeLabels since v0.33/v0.34), as
// received and as stored in a group event's data.
type AlertmanagerNotification struct {
	Version            string              `json:"version"`
	GroupKey           string              `json:"groupKey"`
	TruncatedAlerts    uint64              `json:"truncatedAlerts"`
	Status             string              `json:"status"`
	Receiver           string              `json:"receiver"`
	NotificationReason string              `json:"notification_reason,omitempty"`
	GroupLabels        map[string]string   `json:"groupLabels"`
	CommonLabels       map[string]string   `json:"commonLabels"`
	CommonAnnotations  map[string]string   `json:"commonAnnotations"`
	RouteLabels        map[string]string   `json:"routeLabels,omitempty"`
	ExternalURL        string              `json:"externalURL"`
	Alerts             []AlertmanagerAlert `json:"alerts"`
}

// AlertEvent is the Herald event of alert i of n, in project: alert.firing or
// alert.resolved, the alert's labels as labels, its annotations and times in
// data (with the notification's externalURL, receiver and groupKey), severity
// from the "severity" label (clear when resolved). The id is derived from the
// fingerprint, start time and status, so Alertmanager's repeated
// notifications of one alert are stored once; without a fingerprint the
// event gets a fresh id.
func AlertEvent(project string, n *AlertmanagerNotification, i int) *herald.Event {
	al := &n.Alerts[i]
	status := al.Status
	if status == "" {
		status = n.Status
	}
	typ := "alert.firing"
	sev := AlertSeverity(al.Labels["severity"])
	if status == AlertResolved {
		typ, sev = "alert.resolved", herald.SeverityClear
	}
	data := map[string]any{
		"status": status, "annotations": nonNilMap(al.Annotations), "startsAt": al.StartsAt,
		"endsAt": al.EndsAt, "generatorURL": al.GeneratorURL, "fingerprint": al.Fingerprint,
		"externalURL": n.ExternalURL, "receiver": n.Receiver, "groupKey": n.GroupKey,
	}
	raw, _ := json.Marshal(data)
	msg := al.Annotations["summary"]
	if msg == "" {
		msg = al.Annotations["description"]
	}
	id := ""
	if al.Fingerprint != "" {
		id = "am-" + al.Fingerprint + "-" + al.StartsAt.UTC().Format("20060102T150405.000") + "-" + status
	}
	occurred := al.StartsAt
	if status == AlertResolved && !al.EndsAt.IsZero() {
		occurred = al.EndsAt
	}
	return &herald.Event{
		ID: id, Type: typ, Project: project, Source: "alertmanager", Subject: al.Labels["alertname"],
		Severity: sev, Labels: nonNilMap(al.Labels), Data: raw, Message: msg, OccurredAt: occurred,
	}
}

// AlertmanagerGroupEvent is the group event of n in project. Its id is derived
// from the groupKey and every alert's fingerprint, start, end and status, so
// a repeated notification of an unchanged group is stored once, and a group
// whose alerts changed is a new notification. A missing status or
// fingerprint is filled in, and externalURL when n has none.
func AlertmanagerGroupEvent(project string, n *AlertmanagerNotification, externalURL string) *herald.Event {
	g := *n
	g.Version = AlertmanagerVersion
	if g.ExternalURL == "" {
		g.ExternalURL = externalURL
	}
	g.Alerts = make([]AlertmanagerAlert, len(n.Alerts))
	for i, al := range n.Alerts {
		if al.Status == "" {
			al.Status = n.Status
		}
		if al.Fingerprint == "" {
			al.Fingerprint = AlertFingerprint(al.Labels)
		}
		al.Labels, al.Annotations = nonNilMap(al.Labels), nonNilMap(al.Annotations)
		g.Alerts[i] = al
	}
	if g.Status == "" {
		g.Status = alertsStatus(g.Alerts)
	}
	if g.CommonLabels == nil {
		g.CommonLabels = commonKV(g.Alerts, func(a *AlertmanagerAlert) map[string]string { return a.Labels })
	}
	if g.CommonAnnotations == nil {
		g.CommonAnnotations = commonKV(g.Alerts, func(a *AlertmanagerAlert) map[string]string { return a.Annotations })
	}
	g.GroupLabels = nonNilMap(g.GroupLabels)

	h := sha256.New()
	h.Write([]byte(project + "\x00" + g.GroupKey + "\x00" + g.Status + "\x00"))
	keys := make([]string, len(g.Alerts))
	for i, al := range g.Alerts {
		keys[i] = al.Fingerprint + "/" + al.StartsAt.UTC().Format(time.RFC3339Nano) + "/" +
			al.EndsAt.UTC().Format(time.RFC3339Nano) + "/" + al.Status
	}
	sort.Strings(keys)
	h.Write([]byte(strings.Join(keys, "\x00")))
	raw, _ := json.Marshal(&g)

	sev := herald.SeverityClear
	for _, al := range g.Alerts {
		if al.Status != AlertResolved {
			if s := AlertSeverity(al.Labels["severity"]); severityRank(s) > severityRank(sev) {
				sev = s
			}
		}
	}
	subject := g.GroupLabels["alertname"]
	if subject == "" {
		subject = g.CommonLabels["alertname"]
	}
	return &herald.Event{
		ID: "amg-" + hex.EncodeToString(h.Sum(nil))[:32], Type: AlertmanagerGroupType, Project: project,
		Source: "alertmanager", Subject: subject, Severity: sev, Labels: g.CommonLabels, Data: raw,
	}
}

func severityRank(s string) int {
	switch s {
	case herald.SeverityCritical:
		return 3
	case herald.SeverityWarning:
		return 2
	case herald.SeverityInfo:
		return 1
	}
	return 0
}

// AlertSeverity maps the customary values of Prometheus' severity label to
// Herald's severities.
func AlertSeverity(s string) string {
	switch strings.ToLower(s) {
	case "critical", "crit", "error", "high", "page", "emergency", "fatal":
		return herald.SeverityCritical
	case "warning", "warn", "medium", "low", "minor":
		return herald.SeverityWarning
	case "info", "informational", "none", "":
		return herald.SeverityInfo
	}
	return herald.SeverityWarning
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// alertsStatus is Alertmanager's status of a set of alerts: firing when any
// fires.
func alertsStatus(alerts []AlertmanagerAlert) string {
	for _, a := range alerts {
		if a.Status != AlertResolved {
			return AlertFiring
		}
	}
	return AlertResolved
}

// alertmanagerGroup renders a group event; ok is false when its data is not
// a notification (then it renders as a single event).
func alertmanagerGroup(w *herald.Webhook, v *view) (AlertmanagerMessage, bool) {
	ev := v.ev
	var n AlertmanagerNotification
	dec := json.NewDecoder(bytes.NewReader(ev.Data))
	if err := dec.Decode(&n); err != nil || len(n.Alerts) == 0 {
		return AlertmanagerMessage{}, false
	}
	m := match.Compile(w)
	keep := make([]AlertmanagerAlert, 0, len(n.Alerts))
	for i := range n.Alerts {
		if m.Match(&match.Input{Event: AlertEvent(ev.Project, &n, i)}) {
			keep = append(keep, n.Alerts[i])
		}
	}
	whole := len(keep) == len(n.Alerts) || len(keep) == 0
	if whole {
		keep = n.Alerts
	}
	for i := range keep {
		a := &keep[i]
		if a.Status == "" {
			a.Status = n.Status
		}
		if a.Fingerprint == "" {
			a.Fingerprint = AlertFingerprint(a.Labels)
		}
		a.Labels, a.Annotations = nonNilMap(a.Labels), nonNilMap(a.Annotations)
		a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	}
	msg := AlertmanagerMessage{
		Receiver: w.Name, Status: n.Status, Alerts: keep, NotificationReason: n.NotificationReason,
		GroupLabels: nonNilMap(n.GroupLabels), CommonLabels: nonNilMap(n.CommonLabels),
		CommonAnnotations: nonNilMap(n.CommonAnnotations), RouteLabels: nonNilMap(n.RouteLabels),
		ExternalURL: n.ExternalURL, Version: AlertmanagerVersion, GroupKey: n.GroupKey,
		TruncatedAlerts: n.TruncatedAlerts,
	}
	if msg.Receiver == "" {
		msg.Receiver = "herald"
	}
	if !whole || msg.Status == "" {
		msg.Status = alertsStatus(keep)
	}
	if !whole {
		msg.CommonLabels, msg.CommonAnnotations = commonKV(keep, func(a *AlertmanagerAlert) map[string]string { return a.Labels }),
			commonKV(keep, func(a *AlertmanagerAlert) map[string]string { return a.Annotations })
	}
	return msg, true
}

// commonKV is the pairs every alert has, as Alertmanager's template data
// computes commonLabels and commonAnnotations.
func commonKV(alerts []AlertmanagerAlert, kv func(*AlertmanagerAlert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(alerts) == 0 {
		return out
	}
	for k, v := range kv(&alerts[0]) {
		out[k] = v
	}
	for i := 1; i < len(alerts); i++ {
		m := kv(&alerts[i])
		for k, v := range out {
			if got, ok := m[k]; !ok || got != v {
				delete(out, k)
			}
		}
	}
	return out
}
