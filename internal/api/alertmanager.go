package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// amPayload is Prometheus Alertmanager's webhook payload, version 4.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// postAlertmanager turns each alert of an Alertmanager webhook notification
// into an event in project ?project= : alert.firing or alert.resolved, the
// alert's labels as labels, its annotations and times in data, severity from
// the "severity" label. The event id is derived from the fingerprint, start
// time and status, so Alertmanager's repeated notifications of one alert are
// stored once.
func (a *API) postAlertmanager(w http.ResponseWriter, r *http.Request, p *principal) error {
	project := r.URL.Query().Get("project")
	if !p.canPublish(project) {
		return &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not publish events to project " + project}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.o.MaxEventBytes*4))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return herald.Errorf(herald.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return herald.Invalid("", "could not read the request body")
	}
	var pl amPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		return jsonError(err)
	}
	if pl.Version != "" && pl.Version != "4" {
		return herald.Invalid("version", "Alertmanager payload version %q is not supported (want 4)", pl.Version)
	}
	if len(pl.Alerts) == 0 {
		return herald.Invalid("alerts", "the notification carries no alerts")
	}
	events := make([]*herald.Event, 0, len(pl.Alerts))
	for _, al := range pl.Alerts {
		events = append(events, alertEvent(project, &pl, &al))
	}
	for len(events) > 0 {
		n := min(len(events), 1000)
		if _, err := a.o.Ingester.Ingest(r.Context(), events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	a.o.Engine.Wake()
	writeJSON(w, http.StatusAccepted, map[string]int{"events": len(pl.Alerts)})
	return nil
}

func alertEvent(project string, pl *amPayload, al *amAlert) *herald.Event {
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
