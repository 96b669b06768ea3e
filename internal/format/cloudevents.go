package format

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/herald-hq/herald"
)

// CloudEvents 1.0, structured content mode over HTTP: the whole event is the
// JSON body, sent as application/cloudevents+json.
//
// Context attributes:
//
//	specversion      "1.0"
//	id               the event's id
//	source           the event's source; "/herald/projects/<project>" when it
//	                 has none ("/herald" for a platform event)
//	type             the event's type
//	subject          the event's subject, when it has one
//	time             occurred_at, RFC 3339 in UTC
//	datacontenttype  "application/json"
//	data             the event's data ({} when it has none)
//
// Extension attributes (names are lowercase letters and digits, at most 20
// characters, as the specification requires):
//
//	severity  info, warning, critical or clear
//	project   the event's project, when it has one
//	message   the human message in the webhook's language
//
// plus every event label whose name already is a valid extension name and
// does not collide with the attributes above (alertname, instance, job...).
// Other labels (app.kubernetes.io/name) have no place in CloudEvents and are
// left out: use the standard format to receive them all.

// CloudEventsSpecVersion is the CloudEvents version Herald writes.
const CloudEventsSpecVersion = "1.0"

// cloudEventsReserved are the attribute names Herald sets (or the spec
// reserves), which labels cannot override.
var cloudEventsReserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true,
	"severity": true, "project": true, "message": true,
}

// ValidCloudEventsExtension reports whether name may be a CloudEvents
// attribute name: lowercase ASCII letters or digits, 1 to 20 characters.
func ValidCloudEventsExtension(name string) bool {
	if name == "" || len(name) > 20 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// CloudEventsSource is the source attribute of ev.
func CloudEventsSource(ev *herald.Event) string {
	if ev.Source != "" {
		return ev.Source
	}
	if ev.Project == "" {
		return "/herald"
	}
	return "/herald/projects/" + url.PathEscape(ev.Project)
}

func cloudEvent(w *herald.Webhook, v *view) map[string]any {
	ev := v.ev
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	ce := map[string]any{
		"specversion":     CloudEventsSpecVersion,
		"id":              ev.ID,
		"source":          CloudEventsSource(ev),
		"type":            ev.Type,
		"time":            v.time().Format(time.RFC3339Nano),
		"datacontenttype": ContentTypeJSON,
		"data":            data,
		"severity":        v.severity(),
	}
	if ev.Subject != "" {
		ce["subject"] = ev.Subject
	}
	if ev.Project != "" {
		ce["project"] = ev.Project
	}
	if m := message(w.Language, v); m != "" {
		ce["message"] = m
	}
	for k, val := range ev.Labels {
		if ValidCloudEventsExtension(k) && !cloudEventsReserved[k] && val != "" {
			ce[k] = val
		}
	}
	return ce
}
