package match

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

// FuzzMatch feeds arbitrary conditions, event types and event data to the
// matcher. Properties: validation refuses with an EInvalid error naming the
// condition's field, or the condition compiles; matching never panics and is
// deterministic; In/NotIn and Exists/DoesNotExist are complements on the same
// label, In implies Exists; a prefix pattern matches exactly the types with
// that prefix; a matcher without filters matches every event.
func FuzzMatch(f *testing.F) {
	// label, operator, value, event label key, event label value, event type, pattern, data
	f.Add("env", "In", "prod", "env", "prod", "image.push", "image.*", []byte(`{"repository":{"name":"repo1"}}`))
	f.Add("data.repository.name", "NotIn", "repo1", "team", "core", "image.push", "image.push", []byte(`{"repository":{"name":"repo1","tags":["a","b"]}}`))
	f.Add("data.repository.tags.1", "In", "b", "", "", "chart.delete", "chart.*", []byte(`{"repository":{"tags":["a","b"]}}`))
	f.Add("data.size", "In", "42", "", "", "alarm.cpu", "*", []byte(`{"size":42,"ok":true,"none":null}`))
	f.Add("data.none", "DoesNotExist", "", "", "", "alarm.cpu", "alarm.*", []byte(`{"none":null}`))
	f.Add("severity", "Exists", "", "", "", "host.lost_connection", "host.lost_connection", []byte(`null`))
	f.Add("data.a.b", "Exists", "", "data.a.b", "shadow", "x", "x*", []byte(`{"a":{"b":[1,{"c":2}]}}`))
	f.Add("", "In", "x", "", "", "x", "*", []byte(`{}`))
	f.Add("env", "Between", "a", "env", "a", "x", "*", []byte(`[1,2`))
	f.Add("data.0", "In", "1", "", "", "x", "*", []byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, label, op, value, labelKey, labelValue, evType, pattern string, data []byte) {
		var values []string
		if value != "" {
			values = []string{value}
		}
		err := ValidateConditions([]herald.Condition{{Label: label, Operator: op, Values: values}})
		if err != nil {
			var he *herald.Error
			if !errors.As(err, &he) || he.Code != herald.EInvalid || !strings.HasPrefix(he.Field, "conditions[0].") {
				t.Fatalf("ValidateConditions(%q %q %q) = %v, want an EInvalid naming conditions[0].*", label, op, values, err)
			}
		}
		ev := &herald.Event{Type: evType, Project: "p", Severity: herald.SeverityWarning, Source: "harbor", Data: json.RawMessage(data)}
		if labelKey != "" {
			ev.Labels = map[string]string{labelKey: labelValue}
		}
		match := func(conds ...herald.Condition) bool {
			m := Compile(&herald.Webhook{ID: "wh", EventTypes: []string{"*"}, Conditions: conds})
			first := m.Match(&Input{Event: ev})
			in := &Input{Event: ev}
			if m.Match(in) != first || m.Match(in) != first { // a fresh and a reused (parsed) Input
				t.Fatalf("matching %+v is not deterministic", conds)
			}
			return first
		}
		if err == nil {
			match(herald.Condition{Label: label, Operator: op, Values: values})
		}
		if strings.TrimSpace(label) != "" {
			vals := []string{value}
			in := match(herald.Condition{Label: label, Operator: herald.OpIn, Values: vals})
			notIn := match(herald.Condition{Label: label, Operator: herald.OpNotIn, Values: vals})
			exists := match(herald.Condition{Label: label, Operator: herald.OpExists})
			absent := match(herald.Condition{Label: label, Operator: herald.OpDoesNotExist})
			if in == notIn {
				t.Fatalf("In and NotIn %q on %q both %v", value, label, in)
			}
			if exists == absent {
				t.Fatalf("Exists and DoesNotExist on %q both %v", label, exists)
			}
			if in && !exists {
				t.Fatalf("In %q holds on %q but Exists does not", value, label)
			}
			// A label's value is found again: In [that value] holds.
			if !strings.HasPrefix(label, "data.") && labelKey == label && !match(herald.Condition{Label: label, Operator: herald.OpIn, Values: []string{labelValue}}) {
				t.Fatalf("label %q=%q: In [%q] does not hold", label, labelValue, labelValue)
			}
		}
		if !match() {
			t.Fatal("a webhook without filters did not match")
		}
		if ValidateEventTypes([]string{pattern}) == nil {
			got := Compile(&herald.Webhook{ID: "wh", EventTypes: []string{pattern}}).Match(&Input{Event: ev})
			want := pattern == "*" || pattern == evType || (strings.HasSuffix(pattern, "*") && strings.HasPrefix(evType, strings.TrimSuffix(pattern, "*")))
			if got != want {
				t.Fatalf("pattern %q on type %q: match %v, want %v", pattern, evType, got, want)
			}
			other := Compile(&herald.Webhook{ID: "wh", Project: "q", EventTypes: []string{pattern}})
			if other.Match(&Input{Event: ev}) {
				t.Fatal("a webhook of project q matched an event of project p")
			}
		}
	})
}
