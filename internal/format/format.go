// Package format renders the request body a webhook receives for an event,
// in the webhook's format, and the human message text in the webhook's
// language. Rendering happens at send time, so a change of format applies to
// retries too.
//
// Formats (the webhook's format field):
//
//   - standard (the default): Herald's envelope, see Envelope.
//   - cloudevents: CloudEvents 1.0 structured mode, see cloudevents.go.
//   - harbor: Harbor 2.x's {"type", "occur_at", "operator", "event_data"} payload, see HarborPayload.
//   - harbor-legacy: Harbor 1.x's {"event_type", "events"} payload (seed 004), see HarborLegacyPayload.
//   - netdata: Netdata Cloud's webhook payload (seed 003 and Netdata's current
//     documentation), see NetdataPayload and NetdataReachability.
//   - alertmanager: Prometheus Alertmanager's webhook payload version 4, see AlertmanagerMessage.
//   - template: the webhook's own Go text/template, see TemplateData.
//   - slack, discord, teams, feishu, lark, dingtalk, wecom: a chat
//     platform's incoming-webhook message, see chat.go.
//
// Messages come from the catalogs in messages/ (one JSON file per language),
// never from Go code; see Message.
package format

import (
	"encoding/json"
	"time"

	"github.com/herald-hq/herald"
)

// Content types of the fixed formats.
const (
	ContentTypeJSON        = "application/json"
	ContentTypeCloudEvents = "application/cloudevents+json"
)

// Rendered is a request body and its content type.
type Rendered struct {
	Body        []byte
	ContentType string
}

// Formats returns the names of the supported formats, the default first.
func Formats() []string {
	return []string{
		herald.FormatStandard, herald.FormatCloudEvents, herald.FormatHarbor,
		herald.FormatHarborLegacy, herald.FormatNetdata, herald.FormatAlertmanager, herald.FormatTemplate,
		herald.FormatSlack, herald.FormatDiscord, herald.FormatTeams, herald.FormatFeishu,
		herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom,
	}
}

// Render returns the body of ev for w. Errors are *herald.Error values whose
// message can be shown to the webhook's admins (it lands in the attempt log).
//
// The webhook's content_type only applies to format template; the other
// formats have a fixed content type (application/json, and
// application/cloudevents+json for cloudevents).
func Render(w *herald.Webhook, ev *herald.Event) (Rendered, error) {
	v := newView(ev)
	var (
		body any
		ct   = ContentTypeJSON
	)
	switch w.Format {
	case "", herald.FormatStandard:
		body = standard(w, v)
	case herald.FormatCloudEvents:
		body, ct = cloudEvent(w, v), ContentTypeCloudEvents
	case herald.FormatHarbor:
		body = harbor(v)
	case herald.FormatHarborLegacy:
		body = harborLegacy(v)
	case herald.FormatNetdata:
		if _, ok := NetdataReachabilityTypes[ev.Type]; ok {
			body = netdataReachability(w, v)
		} else {
			body = netdata(w, v)
		}
	case herald.FormatAlertmanager:
		body = alertmanager(w, v)
	case herald.FormatTemplate:
		return renderTemplate(w, v)
	case herald.FormatSlack, herald.FormatDiscord, herald.FormatTeams, herald.FormatFeishu,
		herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom:
		return renderChat(w, v) // chat.go
	default:
		return Rendered{}, herald.Invalid("format", "format %q is not supported", w.Format)
	}
	b, err := json.Marshal(body)
	if err != nil {
		// Only event data that is not valid JSON gets here; ingest refuses it.
		return Rendered{}, herald.Errorf(herald.EInvalid, "render %s payload: %v", formatName(w.Format), err)
	}
	return Rendered{Body: b, ContentType: ct}, nil
}

func formatName(f string) string {
	if f == "" {
		return herald.FormatStandard
	}
	return f
}

// Envelope is the standard payload: {id, type, timestamp, project, severity,
// labels, data, message}, plus source and subject when the event has them.
// Severity defaults to info, labels and data to {}; timestamp is the event's
// occurred_at (received_at when it has none), in UTC.
type Envelope struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Timestamp time.Time         `json:"timestamp"`
	Project   string            `json:"project"`
	Source    string            `json:"source,omitempty"`
	Subject   string            `json:"subject,omitempty"`
	Severity  string            `json:"severity"`
	Labels    map[string]string `json:"labels"`
	Data      json.RawMessage   `json:"data"`
	Message   string            `json:"message"`
}

// NewEnvelope returns the standard payload of ev, its message in lang.
func NewEnvelope(lang string, ev *herald.Event) Envelope {
	return envelope(lang, newView(ev))
}

func envelope(lang string, v *view) Envelope {
	ev := v.ev
	env := Envelope{
		ID: ev.ID, Type: ev.Type, Timestamp: v.time(), Project: ev.Project,
		Source: ev.Source, Subject: ev.Subject, Severity: v.severity(),
		Labels: ev.Labels, Data: ev.Data, Message: message(lang, v),
	}
	if env.Labels == nil {
		env.Labels = map[string]string{}
	}
	if len(env.Data) == 0 {
		env.Data = json.RawMessage("{}")
	}
	return env
}

func standard(w *herald.Webhook, v *view) Envelope {
	return envelope(w.Language, v)
}
