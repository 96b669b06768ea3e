package format

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// Alertmanager's webhook payload, version 4, with the fields of Alertmanager
// v0.34 (notification_reason, routeLabels); fields in the order Alertmanager
// writes them. An event stands for one alert, except the group event of a
// whole notification (see AlertmanagerGroupType and alertmanager_group.go). Our own structs: Alertmanager's
// packages pull in 26 modules.
//
//	status        "resolved" when the event ends an alert (severity clear or
//	              type alert.resolved), else "firing"
//	receiver      the webhook's name ("herald" when it has none)
//	labels        the event's labels, plus alertname (labels.alertname, else
//	              the event type) and severity (labels.severity when the event
//	              has that label, so firing and resolved alerts keep one
//	              identity, else the event's severity, info by default)
//	annotations   data.annotations (values that are not strings as text), plus
//	              summary: data.annotations.summary, else the human message
//	startsAt      data.startsAt / data.starts_at, else occurred_at
//	endsAt        firing: 0001-01-01T00:00:00Z as Alertmanager sends;
//	              resolved: data.endsAt / data.ends_at, else occurred_at
//	generatorURL  data.generatorURL / data.generator_url
//	fingerprint   data.fingerprint, else computed from the labels the way
//	              Alertmanager does (FNV-1a 64), so receivers can correlate
//	groupLabels   {alertname}; commonLabels and commonAnnotations are the
//	              alert's own (a group of one)
//	groupKey      {}/{project="P"}:{alertname="A"} ({}:{alertname="A"} for a
//	              platform event)
//	externalURL   data.externalURL / data.external_url
//	truncatedAlerts 0
//	notification_reason  data.notification_reason, else ""
//	routeLabels   {}

// AlertmanagerVersion is the webhook payload version Herald writes.
const AlertmanagerVersion = "4"

// Alert statuses.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertmanagerMessage is Alertmanager's webhook payload.
type AlertmanagerMessage struct {
	Receiver           string              `json:"receiver"`
	Status             string              `json:"status"`
	Alerts             []AlertmanagerAlert `json:"alerts"`
	NotificationReason string              `json:"notification_reason"`
	GroupLabels        map[string]string   `json:"groupLabels"`
	CommonLabels       map[string]string   `json:"commonLabels"`
	CommonAnnotations  map[string]string   `json:"commonAnnotations"`
	RouteLabels        map[string]string   `json:"routeLabels"`
	ExternalURL        string              `json:"externalURL"`
	Version            string              `json:"version"`
	GroupKey           string              `json:"groupKey"`
	TruncatedAlerts    uint64              `json:"truncatedAlerts"`
}

// AlertmanagerAlert is one alert of AlertmanagerMessage.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func alertmanager(w *herald.Webhook, v *view) AlertmanagerMessage {
	ev := v.ev
	if ev.Type == AlertmanagerGroupType {
		if m, ok := alertmanagerGroup(w, v); ok {
			return m
		}
	}
	status := AlertFiring
	if v.resolved() {
		status = AlertResolved
	}

	labels := make(map[string]string, len(ev.Labels)+2)
	for k, val := range ev.Labels {
		labels[k] = val
	}
	if labels["alertname"] == "" {
		labels["alertname"] = ev.Type
	}
	if labels["severity"] == "" {
		labels["severity"] = v.severity()
	}

	annotations := v.stringMap("annotations")
	if annotations == nil {
		annotations = map[string]string{}
	}
	if annotations["summary"] == "" {
		if m := message(w.Language, v); m != "" {
			annotations["summary"] = m
		}
	}

	a := AlertmanagerAlert{
		Status: status, Labels: labels, Annotations: annotations,
		GeneratorURL: v.strOr("", "generatorURL", "generator_url"),
		Fingerprint:  v.strOr("", "fingerprint"),
	}
	if t, ok := v.timeAt("startsAt", "starts_at"); ok {
		a.StartsAt = t
	} else {
		a.StartsAt = v.time()
	}
	a.EndsAt = time.Time{}.UTC()
	if status == AlertResolved {
		if t, ok := v.timeAt("endsAt", "ends_at"); ok {
			a.EndsAt = t
		} else {
			a.EndsAt = v.time()
		}
	}
	if a.Fingerprint == "" {
		a.Fingerprint = AlertFingerprint(labels)
	}

	receiver := w.Name
	if receiver == "" {
		receiver = "herald"
	}
	group := map[string]string{"alertname": labels["alertname"]}
	key := "{}"
	if ev.Project != "" {
		key = "{}/" + labelSetString(map[string]string{"project": ev.Project})
	}
	return AlertmanagerMessage{
		Receiver: receiver, Status: status, Alerts: []AlertmanagerAlert{a},
		NotificationReason: v.strOr("", "notification_reason"),
		GroupLabels:        group, CommonLabels: labels, CommonAnnotations: annotations,
		RouteLabels: map[string]string{},
		ExternalURL: v.strOr("", "externalURL", "external_url"),
		Version:     AlertmanagerVersion,
		GroupKey:    key + ":" + labelSetString(group),
	}
}

// AlertFingerprint is Prometheus' fingerprint of a label set, as Alertmanager
// writes it: FNV-1a 64 over the label names and values sorted by name, each
// followed by the byte 0xff, in 16 hex digits.
func AlertFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, k := range names {
		h.Write([]byte(k))
		h.Write(sep)
		h.Write([]byte(labels[k]))
		h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// labelSetString writes labels as Prometheus does: {a="1", b="2"}.
func labelSetString(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
