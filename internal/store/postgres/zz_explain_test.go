package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

func TestZZExplain(t *testing.T) {
	dsn := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&options=" + "-c%20session_preload_libraries%3Dauto_explain%20-c%20auto_explain.log_min_duration%3D0%20-c%20auto_explain.log_analyze%3Don%20-c%20auto_explain.log_buffers%3Don%20-c%20auto_explain.log_nested_statements%3Don"
	s := openTest(t, Options{MaxConns: 8, DSN: dsn})
	ctx := context.Background()
	now := time.Now().UTC()
	var hooks []string
	for i := range 10 {
		w := &herald.Webhook{ID: herald.NewID("wh"), Name: fmt.Sprint("b", i), Project: "bench", URL: "https://example.com/hook",
			Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"*"}, Severity: herald.SeverityPresetAll,
			Language: "en", Format: herald.FormatStandard, Auth: herald.Auth{Type: herald.AuthNone}, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w.ID)
	}
	for range 20 {
		items := make([]store.IngestItem, 100)
		for i := range items {
			items[i] = store.IngestItem{WebhookIDs: hooks, Event: &herald.Event{ID: herald.NewID("evt"), Type: "x", Project: "bench",
				Data: []byte(`{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), OccurredAt: now, ReceivedAt: now}}
		}
		if _, err := s.Ingest(ctx, store.IngestParams{Items: items, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	s.db.Exec(ctx, "ANALYZE")
	var tc, tf time.Duration
	for k := range 20 {
		t0 := time.Now()
		cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: time.Now(), Limit: 256, LeaseToken: fmt.Sprint("t", k), LeaseFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		comps := make([]store.Completion, len(cs))
		for i, c := range cs {
			comps[i] = store.Completion{DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
				State: herald.StateSucceeded, Now: time.Now(), EventData: c.Event.Data,
				Attempt: &herald.Attempt{Number: 1, StartedAt: time.Now(), RequestMethod: "POST", RequestURL: "https://x/",
					RequestHeaders: map[string][]string{"Webhook-Id": {c.Delivery.ID}}, StatusCode: 200,
					RequestBody: `{"data":` + string(c.Event.Data) + `}`}}
		}
		if _, err := s.CompleteDeliveries(ctx, comps); err != nil {
			t.Fatal(err)
		}
		tc += t1.Sub(t0)
		tf += time.Since(t1)
	}
	t.Logf("claim %v, complete %v per 256", tc/20, tf/20)
	rows, _ := s.db.Query(ctx, `SELECT relname, n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE relname='deliveries'`)
	for rows.Next() {
		var n string
		var a, b int64
		rows.Scan(&n, &a, &b)
		t.Log(n, a, b)
	}
	rows.Close()
}
