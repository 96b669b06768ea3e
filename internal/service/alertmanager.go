package service

import (
	"context"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/store"
)

// AlertmanagerPayload is Prometheus Alertmanager's webhook payload, version 4
// (with the fields added since: notification_reason, routeLabels).
type AlertmanagerPayload = format.AlertmanagerNotification

// AlertmanagerAlert is one alert of AlertmanagerPayload.
type AlertmanagerAlert = format.AlertmanagerAlert

// GroupIngester stores the events of one notification with its group event
// (ingest.Ingester does).
type GroupIngester interface {
	IngestGroup(ctx context.Context, group *herald.Event, events []*herald.Event,
		takesGroup func(ctx context.Context, webhookID string) (bool, error)) ([]store.IngestItemResult, error)
}

// PublishAlerts turns each alert of an Alertmanager webhook notification
// into an event in project (format.AlertEvent): alert.firing or
// alert.resolved, the alert's labels as labels, its annotations and times in
// data, severity from the "severity" label. The event id is derived from the
// fingerprint, start time and status, so Alertmanager's repeated
// notifications of one alert are stored once.
//
// Besides, the notification is stored as one group event
// (format.AlertmanagerGroupEvent, type alertmanager.notification) that
// webhooks of format alertmanager get instead of the per-alert events, so a
// group stays one notification. Its externalURL is the notification's, else
// Options.AlertmanagerExternalURL.
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
		ev := format.AlertEvent(project, pl, i)
		ev.Hops = Hops(ctx)
		events = append(events, ev)
	}
	if gi, ok := s.o.Ingester.(GroupIngester); ok {
		group := format.AlertmanagerGroupEvent(project, pl, s.o.AlertmanagerExternalURL)
		group.Hops = Hops(ctx)
		takes := func(ctx context.Context, id string) (bool, error) {
			w, err := s.o.Store.GetWebhook(ctx, id)
			if herald.ErrorCode(err) == herald.ENotFound {
				return false, nil // deleted since the router loaded it
			}
			if err != nil {
				return false, err
			}
			return w.Format == herald.FormatAlertmanager, nil
		}
		if _, err := gi.IngestGroup(ctx, group, events, takes); err != nil {
			return 0, err
		}
		s.o.Engine.Wake()
		return len(events), nil
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
