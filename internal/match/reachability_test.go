package match_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/match"
)

// Netdata's three notification options: "All alerts and unreachable" (all),
// "All alerts" without reachability (alerts-no-reachability), "Critical
// only" (critical).
func TestSeverityPresetAlertsNoReachability(t *testing.T) {
	t.Parallel()
	m := match.Compile(&herald.Webhook{EventTypes: []string{"*"}, Severity: herald.SeverityPresetAlertsNoReachability})
	for _, tc := range []struct {
		typ, sev string
		want     bool
	}{
		{"alert.firing", "warning", true}, {"alert.firing", "critical", true}, {"alert.resolved", "clear", true},
		{"alarm.cpu", "info", false}, {"alarm.cpu", "", false},
		{"unreachable", "critical", false}, {"host.lost_connection", "critical", false},
		{"host.recovery_timeout", "warning", false}, {"host.recovered", "clear", false},
	} {
		if got := m.Match(&match.Input{Event: &herald.Event{Type: tc.typ, Severity: tc.sev}}); got != tc.want {
			t.Errorf("%s/%q: got %v, want %v", tc.typ, tc.sev, got, tc.want)
		}
	}
	// "alerts" keeps the reachability events that carry an alert severity.
	alerts := match.Compile(&herald.Webhook{EventTypes: []string{"*"}, Severity: herald.SeverityPresetAlerts})
	if !alerts.Match(&match.Input{Event: &herald.Event{Type: "unreachable", Severity: "critical"}}) {
		t.Error("alerts refused a critical unreachable event")
	}
}

// The preset leaves out what the netdata format sends as reachability
// notifications.
func TestReachabilityTypesMatchNetdataFormat(t *testing.T) {
	t.Parallel()
	got := slices.Sorted(maps.Keys(match.ReachabilityTypes))
	want := slices.Sorted(maps.Keys(format.NetdataReachabilityTypes))
	if !slices.Equal(got, want) {
		t.Errorf("match.ReachabilityTypes %v, format.NetdataReachabilityTypes %v", got, want)
	}
}
