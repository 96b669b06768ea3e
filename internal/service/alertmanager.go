package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// AlertmanagerPayload is Prometheus Alertmanager's webhook payload, version 4.
type AlertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// PublishAlerts turns each alert of an Alertmanager webhook notification
// into an event in project: alert.firing or alert.resolved, the alert's
// labels as labels, its annotations and times in data, severity from the
// "severity" label. The event id is derived from the fingerprint, start time
// and status, so Alertmanager's repeated notifications of one alert are
// stored once.
func (s *Service) PublishAlerts(ctx context.Context, p *Principal, project string, pl *AlertmanagerPayload) (int, error) {
	if !p.CanPublish(project) {
		return 0, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not publish events to project " + project}
	}
	if pl.Version != "" && pl.Version != "4" {
		return 0, herald.Invalid("version", "Alertmanager payload version %q is not supported (want 4)", pl.Version)
	}
	if len(pl.Alerts) == 0 {
		return 0, herald.Invalid("alerts", "the notification carries no alerts")
	}
	events := make([]*herald.Event, 0, len(pl.Alerts))
	for i := range pl.Alerts {
		ev := alertEvent(project, pl, &pl.Alerts[i])
		ev.Hops = Hops(ctx)
		events = append(events, ev)
	}
	for rest := events; len(rest) > 0; {
		n := min(len(rest), 1000)
		if _, err := s.o.Ingester.Ingest(ctx, rest[:n]); err != nil {
			return 0, err
		}
		rest = rest[n:]
	}
	s.o.Engine.Wake()
	return len(events), nil
}

func alertEvent(project string, pl *AlertmanagerPayload, al *AlertmanagerAlert) *herald.Event {
	status := al.Status
	if status == "" {
		status = pl.Status
	}
	typ := "alert.firing"
	sev := alertSeverity(al.Labels["severity"])
	if status == "resolved" {
		typ, sev = "alert.resolved", herald.SeverityClear
	}
	data := map[string]any{
		"status": status, "annotations": nonNil(al.Annotations), "startsAt": al.StartsAt,
		"endsAt": al.EndsAt, "generatorURL": al.GeneratorURL, "fingerprint": al.Fingerprint,
		"externalURL": pl.ExternalURL, "receiver": pl.Receiver, "groupKey": pl.GroupKey,
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
	if status == "resolved" && !al.EndsAt.IsZero() {
		occurred = al.EndsAt
	}
	return &herald.Event{
		ID: id, Type: typ, Project: project, Source: "alertmanager", Subject: al.Labels["alertname"],
		Severity: sev, Labels: nonNil(al.Labels), Data: raw, Message: msg, OccurredAt: occurred,
	}
}

// alertSeverity maps the customary values of Prometheus' severity label to
// Herald's severities.
func alertSeverity(s string) string {
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

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
