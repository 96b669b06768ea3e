// Package match decides which webhooks get an event. It is pure: compile a
// webhook's filters once when it changes, then match events against it.
//
// A webhook gets an event when the project matches (a platform webhook, with
// project "", sees every project), its event types match (exact names,
// "image.*" prefix wildcards, "*"), its severity preset admits the event's
// severity, and every condition holds. Condition labels are the event's
// labels, the built-ins type, severity, project, source and subject, and any
// field of the event's data by dot path ("data.repository.name"), so label
// selectors and payload filters are one language.
package match

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
)

// Matcher is a compiled webhook filter.
type Matcher struct {
	WebhookID  string
	project    string
	allTypes   bool
	exact      map[string]struct{}
	prefixes   []string
	severity   string
	conditions []condition
}

type condition struct {
	label  string
	path   []string // for data.* labels
	op     string
	values map[string]struct{}
}

// ValidateConditions checks conditions and returns an EInvalid error naming
// the field (conditions[i].operator, ...) of the first problem.
func ValidateConditions(cs []herald.Condition) error {
	for i, c := range cs {
		f := "conditions[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(c.Label) == "" {
			return herald.InvalidKey(f+".label", "condition.label.required", herald.Args{"index": strconv.Itoa(i)}, "label is required")
		}
		switch c.Operator {
		case herald.OpIn, herald.OpNotIn:
			if len(c.Values) == 0 {
				return herald.InvalidKey(f+".values", "condition.values.required", herald.Args{"index": strconv.Itoa(i), "operator": c.Operator}, "operator %s needs at least one value", c.Operator)
			}
		case herald.OpExists, herald.OpDoesNotExist:
			if len(c.Values) != 0 {
				return herald.InvalidKey(f+".values", "condition.values.forbidden", herald.Args{"index": strconv.Itoa(i), "operator": c.Operator}, "operator %s takes no values", c.Operator)
			}
		default:
			return herald.InvalidKey(f+".operator", "condition.operator.invalid", herald.Args{"index": strconv.Itoa(i), "value": strconv.Quote(c.Operator)}, "operator %q is not one of In, NotIn, Exists, DoesNotExist", c.Operator)
		}
	}
	return nil
}

// ValidateEventTypes checks an event-type pattern list.
func ValidateEventTypes(types []string) error {
	if len(types) == 0 {
		return herald.InvalidKey("event_types", "event_types.required", nil, "at least one event type is required (use \"*\" for all)")
	}
	for i, t := range types {
		f := "event_types[" + strconv.Itoa(i) + "]"
		if t == "" || strings.TrimSpace(t) != t {
			return herald.InvalidKey(f, "event_types.invalid", herald.Args{"index": strconv.Itoa(i)}, "event type must be a non-empty name without surrounding spaces")
		}
		if i := strings.IndexByte(t, '*'); i >= 0 && i != len(t)-1 {
			return herald.InvalidKey(f, "event_types.wildcard", herald.Args{"index": strconv.Itoa(i)}, "wildcard * is only allowed at the end (\"image.*\" or \"*\")")
		}
	}
	return nil
}

// Compile builds the matcher of w. w must have passed validation.
func Compile(w *herald.Webhook) *Matcher {
	m := &Matcher{WebhookID: w.ID, project: w.Project, severity: w.Severity, exact: map[string]struct{}{}}
	for _, t := range w.EventTypes {
		switch {
		case t == "*":
			m.allTypes = true
		case strings.HasSuffix(t, "*"):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(t, "*"))
		default:
			m.exact[t] = struct{}{}
		}
	}
	for _, c := range w.Conditions {
		cc := condition{label: c.Label, op: c.Operator}
		if strings.HasPrefix(c.Label, "data.") {
			cc.path = strings.Split(strings.TrimPrefix(c.Label, "data."), ".")
		}
		if len(c.Values) > 0 {
			cc.values = make(map[string]struct{}, len(c.Values))
			for _, v := range c.Values {
				cc.values[v] = struct{}{}
			}
		}
		m.conditions = append(m.conditions, cc)
	}
	return m
}

// Input is an event being matched; it parses the event's data at most once,
// and only when a condition asks for a data field.
type Input struct {
	Event  *herald.Event
	parsed bool
	data   any
}

// Match reports whether the webhook gets the event.
func (m *Matcher) Match(in *Input) bool {
	ev := in.Event
	if m.project != "" && m.project != ev.Project {
		return false
	}
	if !m.matchType(ev.Type) {
		return false
	}
	if !severityAdmits(m.severity, ev) {
		return false
	}
	for i := range m.conditions {
		if !m.conditions[i].holds(in) {
			return false
		}
	}
	return true
}

func (m *Matcher) matchType(t string) bool {
	if m.allTypes {
		return true
	}
	if _, ok := m.exact[t]; ok {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// severityAdmits applies the severity preset (seed 003): "all" admits every
// event (all alerts and unreachable); "alerts" admits warning, critical and
// clear; "alerts-no-reachability" is "alerts" without ReachabilityTypes;
// "critical" admits critical only.
func severityAdmits(preset string, ev *herald.Event) bool {
	switch preset {
	case herald.SeverityPresetAlerts:
		switch ev.Severity {
		case herald.SeverityWarning, herald.SeverityCritical, herald.SeverityClear:
			return true
		}
		return false
	case herald.SeverityPresetAlertsNoReachability:
		if ReachabilityTypes[ev.Type] {
			return false
		}
		return severityAdmits(herald.SeverityPresetAlerts, ev)
	case herald.SeverityPresetCritical:
		return ev.Severity == herald.SeverityCritical
	}
	return true
}

// ReachabilityTypes are the catalog's host reachability event types (a
// host lost, or back): what Netdata's "All alerts" option leaves out and
// the alerts-no-reachability preset refuses.
var ReachabilityTypes = map[string]bool{
	"host.lost_connection":  true,
	"host.recovery_timeout": true,
	"host.recovered":        true,
	"unreachable":           true,
}

func (c *condition) holds(in *Input) bool {
	v, ok := lookup(in, c)
	switch c.op {
	case herald.OpExists:
		return ok
	case herald.OpDoesNotExist:
		return !ok
	case herald.OpIn:
		if !ok {
			return false
		}
		_, in := c.values[v]
		return in
	case herald.OpNotIn:
		if !ok {
			return true
		}
		_, in := c.values[v]
		return !in
	}
	return false
}

func lookup(in *Input, c *condition) (string, bool) {
	ev := in.Event
	if c.path != nil {
		return dataPath(in, c.path)
	}
	if v, ok := ev.Labels[c.label]; ok {
		return v, true
	}
	var v string
	switch c.label {
	case "type":
		v = ev.Type
	case "severity":
		v = ev.Severity
	case "project":
		v = ev.Project
	case "source":
		v = ev.Source
	case "subject":
		v = ev.Subject
	}
	return v, v != ""
}

func dataPath(in *Input, path []string) (string, bool) {
	if !in.parsed {
		in.parsed = true
		if len(in.Event.Data) > 0 {
			dec := json.NewDecoder(strings.NewReader(string(in.Event.Data)))
			dec.UseNumber()
			_ = dec.Decode(&in.data)
		}
	}
	cur := in.data
	for _, p := range path {
		switch n := cur.(type) {
		case map[string]any:
			v, ok := n[p]
			if !ok {
				return "", false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n) {
				return "", false
			}
			cur = n[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}
