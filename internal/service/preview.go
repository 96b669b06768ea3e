package service

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/catalog"
	"github.com/herald-hq/herald/internal/format"
)

// maxPreviewBytes bounds the body a preview shows.
const maxPreviewBytes = 64 << 10

// Preview is what a receiver would get for a sample event.
type Preview struct {
	EventType   string
	ContentType string
	Body        string
	Truncated   bool
}

// SampleEvent is the sample event of type eventType (image.push when
// empty) that previews show and tests of a chosen type send: the format's
// sample with the type, and the source the catalog gives it. A type that is
// not one event type name is refused naming field.
func SampleEvent(field, eventType string) (*herald.Event, error) {
	ev := format.SampleEvent()
	if eventType == "" {
		return ev, nil
	}
	if len(eventType) > 200 || strings.ContainsAny(eventType, "* \t\r\n") || herald.HasControl(eventType) {
		return nil, herald.Invalid(field, "the sample event type must be one event type name, without spaces or *")
	}
	ev.Type = eventType
	for _, et := range catalog.EventTypes() {
		if et.Name == eventType {
			ev.Source = et.Source
		}
	}
	return ev, nil
}

// PreviewPayload renders the body the webhook configured by in (over
// stored webhook id, if set) would receive for a sample event of type
// eventType (image.push when empty), in its format and language. Nothing
// is sent or stored. Only who may configure the webhook may preview it.
func (s *Service) PreviewPayload(ctx context.Context, p *Principal, id string, in *WebhookInput, eventType string) (*Preview, error) {
	wh := &herald.Webhook{Enabled: true, RetryClientErrors: true}
	if id != "" {
		st, err := s.webhookForWrite(ctx, p, id)
		if err != nil {
			return nil, err
		}
		wh = st
	}
	in.Apply(wh)
	if !p.CanWrite(wh.Project) {
		return nil, &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not configure webhooks in project " + wh.Project, Key: "webhook.project.configure_forbidden", Args: herald.Args{"project": wh.Project}}
	}
	settings, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	if err := NormalizeWebhook(wh, settings); err != nil {
		return nil, err
	}
	ev, err := SampleEvent("preview_event_type", eventType)
	if err != nil {
		return nil, err
	}
	r, err := format.Render(wh, ev)
	if err != nil {
		return nil, err
	}
	body := r.Body
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	pv := &Preview{EventType: ev.Type, ContentType: r.ContentType}
	if len(body) > maxPreviewBytes {
		body, pv.Truncated = body[:maxPreviewBytes], true
	}
	pv.Body = string(body)
	return pv, nil
}
