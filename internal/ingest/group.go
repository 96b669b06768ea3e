package ingest

import (
	"context"
	"strconv"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// IngestGroup stores the events of one upstream notification (an
// Alertmanager group) together with group, an event standing for the whole
// notification. A webhook for which takesGroup is true and that any of the
// events matches gets one delivery of group instead of deliveries of the
// events; every other webhook gets the events as Ingest routes them, and
// nobody gets group by matching. takesGroup is asked once per webhook.
//
// group and events are written in one transaction when they fit MaxBatch,
// else group with the first events and the rest in further transactions;
// an error after the first leaves a prefix stored, which a repeated
// notification (deterministic ids) completes. The results are group's, then
// the events' in order.
func (g *Ingester) IngestGroup(ctx context.Context, group *herald.Event, events []*herald.Event,
	takesGroup func(ctx context.Context, webhookID string) (bool, error)) ([]store.IngestItemResult, error) {
	if len(events) == 0 {
		return nil, herald.Invalid("alerts", "the notification carries no events")
	}
	now := g.o.Now().UTC()
	if err := Normalize(group, "", now); err != nil {
		return nil, err
	}
	items := make([]store.IngestItem, 0, len(events)+1)
	items = append(items, store.IngestItem{Event: group})
	takes := map[string]bool{}
	grouped := map[string]bool{}
	for i, ev := range events {
		if err := Normalize(ev, "alerts["+strconv.Itoa(i)+"].", now); err != nil {
			return nil, err
		}
		ids, err := g.o.Router.Match(ctx, ev)
		if err != nil {
			return nil, err
		}
		kept := ids[:0:0]
		for _, id := range ids {
			t, seen := takes[id]
			if !seen {
				if t, err = takesGroup(ctx, id); err != nil {
					return nil, err
				}
				takes[id] = t
			}
			if !t {
				kept = append(kept, id)
				continue
			}
			if !grouped[id] {
				grouped[id] = true
				items[0].WebhookIDs = append(items[0].WebhookIDs, id)
			}
		}
		items = append(items, store.IngestItem{Event: ev, WebhookIDs: kept})
	}
	out := make([]store.IngestItemResult, 0, len(items))
	for rest := items; len(rest) > 0; {
		n := min(len(rest), MaxBatch)
		res, err := g.enqueue(ctx, rest[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
		rest = rest[n:]
	}
	return out, nil
}

// enqueue hands routed items to the committer and waits for the outcome.
func (g *Ingester) enqueue(ctx context.Context, items []store.IngestItem) ([]store.IngestItemResult, error) {
	req := &request{items: items, res: make(chan result, 1)}
	select {
	case g.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.done:
		return nil, herald.Errorf(herald.EUnavailable, "server is shutting down")
	}
	// Once queued, wait for the answer even if the client went away (as
	// Ingest does): the write may already be under way.
	r := <-req.res
	return r.items, r.err
}
