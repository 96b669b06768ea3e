package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// maxCompleteBatch bounds the results written in one transaction.
const maxCompleteBatch = 512

// completeLoop writes results in batches: it takes whatever results are
// waiting (at least one) and records them in one store transaction. It ends
// when doneCh is closed and drained.
func (d *Dispatcher) completeLoop() {
	batch := make([]completion, 0, maxCompleteBatch)
	for {
		c, ok := <-d.doneCh
		if !ok {
			return
		}
		batch = append(batch[:0], c)
	gather:
		for len(batch) < maxCompleteBatch {
			select {
			case c, ok := <-d.doneCh:
				if !ok {
					break gather
				}
				batch = append(batch, c)
			default:
				break gather
			}
		}
		d.record(batch)
	}
}

func (d *Dispatcher) record(batch []completion) {
	cs := make([]store.Completion, len(batch))
	for i := range batch {
		cs[i] = batch[i].c
	}
	// Recording must not be cut short by shutdown: the requests were made.
	ctx := context.Background()
	var applied []bool
	var err error
	for try := 0; ; try++ {
		applied, err = d.o.Store.CompleteDeliveries(ctx, cs)
		if err == nil || try == 4 {
			break
		}
		d.o.Logger.Warn("record delivery results; retrying", "err", err, "try", try+1)
		time.Sleep(time.Duration(100*(1<<try)) * time.Millisecond)
	}
	if err != nil {
		// The leases expire and the rows are claimed again: at least once.
		d.o.Logger.Error("record delivery results; they will be retried when their lease expires", "err", err, "count", len(cs))
	}
	for i, c := range batch {
		if err == nil && !applied[i] {
			d.o.Metrics.Fenced.Inc()
			d.o.Logger.Warn("delivery result not recorded: lease lost to another claim", "delivery", c.c.DeliveryID)
		}
		if err == nil && applied[i] {
			d.o.Metrics.Completed.WithLabelValues(string(c.c.State)).Inc()
		}
		if c.gone && err == nil && applied[i] {
			d.disable(ctx, c.c.WebhookID, "endpoint answered 410 Gone")
		}
	}
	d.mu.Lock()
	for _, c := range batch {
		delete(d.held, c.c.DeliveryID)
	}
	d.inMemory -= len(batch)
	d.mu.Unlock()
	d.Wake()
}

// disable switches a webhook off with reason and emits herald.webhook.disabled.
func (d *Dispatcher) disable(ctx context.Context, id, reason string) {
	now := d.o.Now().UTC()
	w, err := d.o.Store.GetWebhook(ctx, id)
	if err != nil {
		return
	}
	if !w.Enabled {
		return
	}
	if err := d.o.Store.DisableWebhook(ctx, id, reason, now); err != nil {
		d.o.Logger.Error("disable webhook", "webhook", id, "err", err)
		return
	}
	d.o.Logger.Warn("webhook disabled", "webhook", id, "reason", reason)
	d.hooks.invalidate(id)
	if d.o.OnWebhookChange != nil {
		d.o.OnWebhookChange(id)
	}
	if d.o.Emit != nil {
		data := fmt.Sprintf(`{"webhook_id":%q,"name":%q,"url":%q,"reason":%q}`, w.ID, w.Name, w.URL, reason)
		ev := &herald.Event{
			Type: herald.EventTypeWebhookDisabled, Project: w.Project, Source: "herald",
			Subject: w.ID, Severity: herald.SeverityWarning, Data: []byte(data),
			// No Message: each receiving webhook gets the catalog text in its language.
		}
		if err := d.o.Emit(ctx, ev); err != nil {
			d.o.Logger.Error("emit webhook disabled event", "webhook", id, "err", err)
		}
	}
}

// extendLoop keeps the leases of rows this node holds (queued or in flight)
// from expiring, so that only a dead node's rows are claimed again.
func (d *Dispatcher) extendLoop(ctx context.Context) {
	t := time.NewTicker(d.o.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		byToken := map[string][]string{}
		d.mu.Lock()
		for id, it := range d.held {
			byToken[it.c.LeaseToken] = append(byToken[it.c.LeaseToken], id)
		}
		d.mu.Unlock()
		until := d.o.Now().UTC().Add(d.o.Lease)
		for token, ids := range byToken {
			if err := d.o.Store.ExtendLeases(ctx, token, ids, until); err != nil && ctx.Err() == nil {
				d.o.Logger.Error("extend leases", "err", err)
			}
		}
	}
}

// healthLoop disables webhooks that have failed without a success for
// DisableAfter. Checked every minute (more often for a DisableAfter under 4m).
func (d *Dispatcher) healthLoop(ctx context.Context) {
	t := time.NewTicker(min(time.Minute, max(d.o.DisableAfter/4, 100*time.Millisecond)))
	defer t.Stop()
	for {
		d.checkHealth(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) checkHealth(ctx context.Context) {
	ws, err := d.o.Store.ListWebhooks(ctx, store.WebhookFilter{EnabledOnly: true})
	if err != nil {
		return
	}
	now := d.o.Now()
	for _, w := range ws {
		if w.FailingSince != nil && now.Sub(*w.FailingSince) >= d.o.DisableAfter {
			d.disable(ctx, w.ID, fmt.Sprintf("failing without a success since %s", w.FailingSince.UTC().Format(time.RFC3339)))
		}
	}
}
