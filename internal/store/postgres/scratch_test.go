package postgres

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func TestScratchPopulate(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	admin(t, `DROP SCHEMA IF EXISTS herald_scratch CASCADE`)
	s, err := Open(context.Background(), Options{DSN: testDSN(t), Box: testBox(t), Schema: "herald_scratch"})
	noErr(t, err)
	defer s.Close()
	var hooks []string
	now := time.Now()
	for i := 0; i < 10; i++ {
		w := &herald.Webhook{ID: herald.NewID("wh"), Name: herald.NewID("n"), URL: "https://example.com", Enabled: true, CreatedAt: now, UpdatedAt: now}
		noErr(t, s.CreateWebhook(context.Background(), w))
		hooks = append(hooks, w.ID)
	}
	for i := 0; i < 50; i++ {
		_, err := s.Ingest(context.Background(), store.IngestParams{Items: benchItems(100, hooks), Now: time.Now()})
		noErr(t, err)
	}
	// complete half
	for i := 0; i < 100; i++ {
		cs, err := s.ClaimDeliveries(context.Background(), store.ClaimParams{Now: time.Now(), Limit: 256, LeaseToken: "x", LeaseFor: time.Minute})
		noErr(t, err)
		var comps []store.Completion
		for _, c := range cs {
			comps = append(comps, store.Completion{DeliveryID: c.Delivery.ID, LeaseToken: "x", State: herald.StateSucceeded, Now: time.Now(), Attempt: &herald.Attempt{StartedAt: time.Now(), StatusCode: 200}})
		}
		_, err = s.CompleteDeliveries(context.Background(), comps)
		noErr(t, err)
	}
}
