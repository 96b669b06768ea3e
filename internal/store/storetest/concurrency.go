package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var concurrencyTests = map[string]func(t *testing.T, b *bundle){
	// Several ingesters (some leasing at ingest) and several claimers run at
	// once: every delivery is leased exactly once and completed once.
	"IngestAndClaim": func(t *testing.T, b *bundle) {
		const (
			ingesters = 4
			batches   = 8
			perBatch  = 5
			claimers  = 3
		)
		var hooks []string
		for range 4 {
			hooks = append(hooks, b.webhook("p").ID)
		}
		total := ingesters * batches * perBatch * len(hooks)

		var (
			owner     sync.Map // delivery id → lease token
			completed atomic.Int64
			tokens    atomic.Int64
		)
		// take records c as leased by token; a second lease is a double claim.
		take := func(c *store.Claimed) {
			if prev, dup := owner.LoadOrStore(c.Delivery.ID, c.LeaseToken); dup {
				t.Errorf("delivery %s leased twice: %v and %s", c.Delivery.ID, prev, c.LeaseToken)
			}
		}
		finish := func(cs []*store.Claimed) {
			if len(cs) == 0 {
				return
			}
			comps := make([]store.Completion, len(cs))
			for i, c := range cs {
				comps[i] = done(c, herald.StateSucceeded, 200, at(time.Second), time.Time{})
			}
			applied, err := b.s.CompleteDeliveries(b.ctx, comps)
			if !expect.NoError(t, err) {
				return
			}
			for i, ok := range applied {
				expect.True(t, ok, "completion of %s under its own lease", cs[i].Delivery.ID)
			}
			completed.Add(int64(len(cs)))
		}

		var ingest sync.WaitGroup
		for g := range ingesters {
			ingest.Add(1)
			go func() {
				defer ingest.Done()
				for i := range batches {
					items := make([]store.IngestItem, perBatch)
					for k := range items {
						items[k] = store.IngestItem{Event: b.event(fmt.Sprintf("t%d.%d", g, i), "p"), WebhookIDs: hooks}
					}
					token := fmt.Sprintf("ingest-%d", tokens.Add(1))
					res, err := b.s.Ingest(b.ctx, store.IngestParams{
						Items: items, Now: t0, LeaseToken: token, LeaseFor: time.Hour, LeaseLimit: 3,
					})
					if !expect.NoError(t, err) {
						return
					}
					for _, c := range res.Claimed {
						take(c)
					}
					finish(res.Claimed)
				}
			}()
		}
		stop := make(chan struct{})
		var claim sync.WaitGroup
		for range claimers {
			claim.Add(1)
			go func() {
				defer claim.Done()
				for {
					token := fmt.Sprintf("claim-%d", tokens.Add(1))
					cs, err := b.s.ClaimDeliveries(b.ctx, store.ClaimParams{
						Now: at(time.Second), Limit: 16, LeaseToken: token, LeaseFor: time.Hour,
					})
					if !expect.NoError(t, err) {
						return
					}
					for _, c := range cs {
						take(c)
					}
					finish(cs)
					if len(cs) == 0 {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
				}
			}()
		}
		ingest.Wait()
		close(stop)
		claim.Wait()

		must.Equal(t, int64(total), completed.Load())
		must.Equal(t, total, b.count(herald.StateSucceeded))
		must.Zero(t, b.count(herald.StatePending))
		n := 0
		owner.Range(func(any, any) bool { n++; return true })
		must.Equal(t, total, n)
	},

	// The same events ingested at once by several callers are stored once.
	"IdempotentIngest": func(t *testing.T, b *bundle) {
		const callers, events = 4, 20
		w := b.webhook("p")
		evs := make([]*herald.Event, events)
		for i := range evs {
			evs[i] = b.event("x", "p")
		}
		var fresh sync.Map // event id → times stored as new
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				items := make([]store.IngestItem, events)
				for i, ev := range evs {
					cp := *ev
					items[i] = store.IngestItem{Event: &cp, WebhookIDs: []string{w.ID}}
				}
				res, err := b.s.Ingest(b.ctx, store.IngestParams{Items: items, Now: t0})
				if !expect.NoError(t, err) {
					return
				}
				for _, r := range res.Items {
					if !r.Duplicate {
						v, _ := fresh.LoadOrStore(r.EventID, new(atomic.Int64))
						v.(*atomic.Int64).Add(1)
						expect.Equal(t, 1, r.Deliveries)
					}
				}
			}()
		}
		wg.Wait()
		for _, ev := range evs {
			v, ok := fresh.Load(ev.ID)
			must.True(t, ok, ev.ID)
			must.Equal(t, int64(1), v.(*atomic.Int64).Load(), "stored as new exactly once")
		}
		must.Equal(t, events, b.count(herald.StatePending))
	},
}
