package match

import (
	"encoding/json"
	"testing"

	"github.com/herald-hq/herald"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	ev := &herald.Event{
		Type: "image.push", Project: "p1", Severity: "warning", Source: "harbor",
		Labels: map[string]string{"env": "prod", "team": "core"},
		Data:   json.RawMessage(`{"repository":{"name":"repo1","tags":["a","b"]},"size":42,"ok":true,"none":null}`),
	}
	cases := []struct {
		name string
		w    herald.Webhook
		want bool
	}{
		{"all types", herald.Webhook{EventTypes: []string{"*"}}, true},
		{"exact", herald.Webhook{EventTypes: []string{"image.push"}}, true},
		{"exact other", herald.Webhook{EventTypes: []string{"image.pull"}}, false},
		{"prefix", herald.Webhook{EventTypes: []string{"chart.*", "image.*"}}, true},
		{"prefix other", herald.Webhook{EventTypes: []string{"chart.*"}}, false},
		{"own project", herald.Webhook{Project: "p1", EventTypes: []string{"*"}}, true},
		{"other project", herald.Webhook{Project: "p2", EventTypes: []string{"*"}}, false},
		{"preset alerts", herald.Webhook{EventTypes: []string{"*"}, Severity: "alerts"}, true},
		{"preset critical", herald.Webhook{EventTypes: []string{"*"}, Severity: "critical"}, false},
		{"In label", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "env", Operator: "In", Values: []string{"dev", "prod"}}}}, true},
		{"In label miss", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "env", Operator: "In", Values: []string{"dev"}}}}, false},
		{"In missing label", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "zone", Operator: "In", Values: []string{"a"}}}}, false},
		{"NotIn label", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "env", Operator: "NotIn", Values: []string{"dev"}}}}, true},
		{"NotIn label hit", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "env", Operator: "NotIn", Values: []string{"prod"}}}}, false},
		{"NotIn missing label", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "zone", Operator: "NotIn", Values: []string{"a"}}}}, true},
		{"Exists", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "team", Operator: "Exists"}}}, true},
		{"Exists missing", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "zone", Operator: "Exists"}}}, false},
		{"DoesNotExist", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "zone", Operator: "DoesNotExist"}}}, true},
		{"DoesNotExist present", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "team", Operator: "DoesNotExist"}}}, false},
		{"builtin severity", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "severity", Operator: "In", Values: []string{"warning"}}}}, true},
		{"builtin source", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "source", Operator: "NotIn", Values: []string{"harbor"}}}}, false},
		{"builtin subject absent", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "subject", Operator: "DoesNotExist"}}}, true},
		{"data path", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.repository.name", Operator: "In", Values: []string{"repo1"}}}}, true},
		{"data array index", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.repository.tags.1", Operator: "In", Values: []string{"b"}}}}, true},
		{"data number", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.size", Operator: "In", Values: []string{"42"}}}}, true},
		{"data bool", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.ok", Operator: "In", Values: []string{"true"}}}}, true},
		{"data null is absent", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.none", Operator: "DoesNotExist"}}}, true},
		{"data missing", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{{Label: "data.repository.owner", Operator: "Exists"}}}, false},
		{"all conditions must hold", herald.Webhook{EventTypes: []string{"*"}, Conditions: []herald.Condition{
			{Label: "env", Operator: "In", Values: []string{"prod"}},
			{Label: "team", Operator: "In", Values: []string{"other"}},
		}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateConditions(tc.w.Conditions); err != nil {
				t.Fatalf("validate: %v", err)
			}
			got := Compile(&tc.w).Match(&Input{Event: ev})
			if got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSeverityPresets(t *testing.T) {
	t.Parallel()
	sevs := []string{"", "info", "warning", "critical", "clear"}
	want := map[string][]bool{
		"all":      {true, true, true, true, true},
		"alerts":   {false, false, true, true, true},
		"critical": {false, false, false, true, false},
	}
	for preset, w := range want {
		for i, s := range sevs {
			m := Compile(&herald.Webhook{EventTypes: []string{"*"}, Severity: preset})
			if got := m.Match(&Input{Event: &herald.Event{Type: "x", Severity: s}}); got != w[i] {
				t.Errorf("preset %s severity %q: got %v want %v", preset, s, got, w[i])
			}
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	bad := []struct {
		cs    []herald.Condition
		field string
	}{
		{[]herald.Condition{{Label: "", Operator: "In", Values: []string{"a"}}}, "conditions[0].label"},
		{[]herald.Condition{{Label: "a", Operator: "In"}}, "conditions[0].values"},
		{[]herald.Condition{{Label: "a", Operator: "NotIn"}}, "conditions[0].values"},
		{[]herald.Condition{{Label: "a", Operator: "Exists", Values: []string{"x"}}}, "conditions[0].values"},
		{[]herald.Condition{{Label: "a", Operator: "DoesNotExist"}, {Label: "a", Operator: "DoesNotExist", Values: []string{"x"}}}, "conditions[1].values"},
		{[]herald.Condition{{Label: "a", Operator: "Equals", Values: []string{"x"}}}, "conditions[0].operator"},
	}
	for _, b := range bad {
		err := ValidateConditions(b.cs)
		if herald.ErrorField(err) != b.field {
			t.Errorf("%+v: got %v, want field %s", b.cs, err, b.field)
		}
	}
	if err := ValidateEventTypes(nil); herald.ErrorField(err) != "event_types" {
		t.Errorf("empty event types: %v", err)
	}
	if err := ValidateEventTypes([]string{"a*b"}); herald.ErrorField(err) != "event_types[0]" {
		t.Errorf("bad wildcard: %v", err)
	}
	if err := ValidateEventTypes([]string{"image.*", "*", "host.lost"}); err != nil {
		t.Errorf("good types: %v", err)
	}
}
