package service

import (
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"image.psuh", "image.push", 1}, {"image.push", "image.push", 0}, {"imag.push", "image.push", 1},
		{"image.pul", "image.push", 2}, {"x", "image.push", 3}, {"", "ab", 2},
	} {
		if got := editDistance(tc.a, tc.b, 3); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestEventTypeWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		category string
		types    []string
		want     []string
	}{
		{"events", []string{"*", "image.*", "image.push", "herald.test"}, nil},
		{"events", []string{"image.psuh"}, []string{`event type "image.psuh" is not in the catalog`, `did you mean "image.push"?`}},
		{"events", []string{"my.custom.type"}, []string{`"my.custom.type" is not in the catalog (GET /api/v1/event-types, ` + "`herald event-types`" + `): it matches only events sent with exactly this type`}},
		{"events", []string{"alarm.cpu", "image.push", "unreachable"}, []string{`category is "events" but in the catalog "alarm.cpu" is alarms, "unreachable" is alarms`}},
		{"alarms", []string{"alarm.cpu", "alert.firing"}, nil},
	} {
		got := strings.Join(eventTypeWarnings(&herald.Webhook{Category: tc.category, EventTypes: tc.types}), "\n")
		if tc.want == nil && got != "" {
			t.Errorf("%v: warnings %q, want none", tc.types, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: warnings %q lack %q", tc.types, got, w)
			}
		}
		if strings.Contains(got, "did you mean") && tc.types[0] == "my.custom.type" {
			t.Errorf("suggestion for a far name: %q", got)
		}
	}
}
