package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/herald-hq/herald"
)

// The webhooks that take the group get one delivery of the group event and
// none of the events; the others get the events; nobody gets the group by
// matching. Repeating the notification stores nothing new.
func TestIngestGroup(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	grouped := addWebhook(t, st, "mon", "alert.*")
	addWebhook(t, st, "mon", "alert.*") // plain
	addWebhook(t, st, "", "*")          // a platform webhook of every type
	g := start(t, st)
	takes := func(_ context.Context, id string) (bool, error) { return id == grouped.ID, nil }
	build := func() (*herald.Event, []*herald.Event) {
		group := &herald.Event{ID: "amg-1", Type: "alertmanager.notification", Project: "mon"}
		var evs []*herald.Event
		for i := 0; i < 3; i++ {
			evs = append(evs, &herald.Event{ID: fmt.Sprintf("am-%d", i), Type: "alert.firing", Project: "mon"})
		}
		return group, evs
	}
	group, evs := build()
	res, err := g.IngestGroup(context.Background(), group, evs, takes)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[0].EventID != "amg-1" || res[0].Deliveries != 1 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res[1:] {
		if r.Deliveries != 2 { // plain and everything, not grouped
			t.Errorf("event %s: %d deliveries, want 2", r.EventID, r.Deliveries)
		}
	}
	group, evs = build()
	res, err = g.IngestGroup(context.Background(), group, evs, takes)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Duplicate || r.Deliveries != 0 {
			t.Errorf("repeat: %+v", r)
		}
	}

	// An event that is invalid refuses the whole notification, naming it.
	group, evs = build()
	group.ID = "amg-2"
	evs[2].Type = ""
	var he *herald.Error
	if _, err := g.IngestGroup(context.Background(), group, evs, takes); !errors.As(err, &he) || he.Field != "alerts[2].type" {
		t.Fatalf("invalid event: %v", err)
	}
}
