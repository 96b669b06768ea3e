package format

import (
	"encoding/json"
	"net/url"
	"sort"
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
//	labels    every label of the event, as a JSON object in a string
//	          ({"app.kubernetes.io/name":"node-exporter","Team":"db"}), when
//	          it has any: the one place that keeps every label name and value
//	          exactly (an extension value cannot be an object)
//
// plus one extension attribute per label (alertname, instance, job...) under
// its name mapped by CloudEventsExtensionName: lowercased, characters other
// than a-z and 0-9 dropped ("app.kubernetes.io/name" → appkubernetesioname,
// "Team" → team, "a_b" → ab). A label is not made an attribute when its
// mapped name is empty, longer than 20 characters, one of the attributes
// above (id, time, data, source, severity, labels...: labels never override
// them), or taken by another label: a label whose name needs no mapping wins,
// else the label whose name sorts first. Empty values are left out of the
// attributes. Every label is in labels either way.

// CloudEventsSpecVersion is the CloudEvents version Herald writes.
const CloudEventsSpecVersion = "1.0"

// cloudEventsReserved are the attribute names Herald sets (or the spec
// reserves), which labels cannot override.
var cloudEventsReserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true,
	"severity": true, "project": true, "message": true, "labels": true,
	"data_base64": true, // the JSON format's member for binary data
}

// CloudEventsExtensionName maps a label name to an extension attribute name:
// lowercased, every character other than a-z and 0-9 dropped. ok is false
// when that leaves no valid name (empty, or longer than 20 characters).
func CloudEventsExtensionName(label string) (string, bool) {
	b := make([]byte, 0, len(label))
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	name := string(b)
	return name, ValidCloudEventsExtension(name)
}

// cloudEventsLabelAttributes returns the extension attributes of labels (see
// the package comment above): mapped name → value.
func cloudEventsLabelAttributes(labels map[string]string) map[string]string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]string{}
	owner := map[string]string{}
	for _, k := range names {
		val := labels[k]
		ext, ok := CloudEventsExtensionName(k)
		if !ok || val == "" || cloudEventsReserved[ext] {
			continue
		}
		if prev, taken := owner[ext]; taken && (prev == ext || k != ext) {
			continue // the exact name, or the first name in order, keeps it
		}
		owner[ext] = k
		out[ext] = val
	}
	return out
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
	if len(ev.Labels) > 0 {
		b, _ := json.Marshal(ev.Labels) // keys sorted
		ce["labels"] = string(b)
		for k, val := range cloudEventsLabelAttributes(ev.Labels) {
			ce[k] = val
		}
	}
	return ce
}
