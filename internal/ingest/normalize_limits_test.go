package ingest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
)

// Control characters in identifiers and labels, and too many or too long
// labels, are refused naming the field (with the batch prefix); an event
// at the limits passes.
func TestNormalizeRefusesControlsAndBoundsLabels(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := range herald.MaxLabels + 1 {
		many["l"+strconv.Itoa(i)] = "v"
	}
	for _, tc := range []struct {
		name  string
		ev    herald.Event
		field string
	}{
		{"NUL in id", herald.Event{ID: "a\x00", Type: "x"}, "events[2].id"},
		{"LF in type", herald.Event{Type: "x\ny"}, "events[2].type"},
		{"NUL in project", herald.Event{Type: "x", Project: "p\x00"}, "events[2].project"},
		{"CR in subject", herald.Event{Type: "x", Subject: "s\r"}, "events[2].subject"},
		{"C1 in source", herald.Event{Type: "x", Source: "s\u009b"}, "events[2].source"},
		{"NUL in message", herald.Event{Type: "x", Message: "m\x00"}, "events[2].message"},
		{"too many labels", herald.Event{Type: "x", Labels: many}, "events[2].labels"},
		{"empty label key", herald.Event{Type: "x", Labels: map[string]string{"": "v"}}, "events[2].labels"},
		{"long label key", herald.Event{Type: "x", Labels: map[string]string{strings.Repeat("k", 257): "v"}}, "events[2].labels"},
		{"long label value", herald.Event{Type: "x", Labels: map[string]string{"k": strings.Repeat("v", 4097)}}, "events[2].labels.k"},
		{"tab in label value", herald.Event{Type: "x", Labels: map[string]string{"k": "a\tb"}}, "events[2].labels.k"},
	} {
		err := ingest.Normalize(&tc.ev, "events[2].", time.Now())
		if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want 400 naming %s", tc.name, err, tc.field)
		}
	}
	ok := herald.Event{Type: "x", Message: "line one\nline two", Labels: map[string]string{}}
	for i := range herald.MaxLabels {
		ok.Labels[strings.Repeat("k", 200)+strconv.Itoa(i)] = strings.Repeat("v", herald.MaxLabelValueBytes)
	}
	if err := ingest.Normalize(&ok, "", time.Now()); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
}
