package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// maxCompleteBatch bounds the results written in one transaction.
const maxCompleteBatch = 512

// A small batch of results waits up to completeLinger for more, until
// completeTarget are waiting (the defaults of Dispatcher's fields of those
// names), while at least lingerInFlight requests are in
// flight (their results are coming). Each transaction rewrites the pages it
// touches and commits once, so fewer, larger ones cost less per result: in
// `herald bench --events 20000 --webhooks 10` the batches grew from 63 to
// about 260 results and recording them took a third less CPU. The wait is in
// real time, not the engine's clock: it only groups work, and a result
// waits at most that long more before it is recorded.
const (
	completeTarget = 256
	completeLinger = 50 * time.Millisecond
	lingerInFlight = 32
)

// Backoff between tries to record results while the store fails.
const (
	recordBackoffMin = 100 * time.Millisecond
	recordBackoffMax = 2 * time.Second
)

// disableTimeout bounds disabling a webhook and emitting its event.
const disableTimeout = 5 * time.Second

// finish hands a result to the completer.
func (d *Dispatcher) finish(c completion) {
	d.rmu.Lock()
	if d.recorderGone {
		d.rmu.Unlock()
		d.drop([]completion{c}, "shutdown deadline passed")
		return
	}
	d.results = append(d.results, c)
	d.rmu.Unlock()
	d.signalResults()
}

func (d *Dispatcher) signalResults() {
	select {
	case d.resultCh <- struct{}{}:
	default:
	}
}

// takeResults takes up to n waiting results, oldest first.
func (d *Dispatcher) takeResults(n int) []completion {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	k := min(n, len(d.results))
	batch := append([]completion(nil), d.results[:k]...)
	clear(d.results[:k])
	d.results = d.results[k:]
	if len(d.results) == 0 {
		d.results = nil
	}
	return batch
}

// putBack returns unrecorded results to the front of the waiting ones.
func (d *Dispatcher) putBack(batch []completion) {
	d.rmu.Lock()
	d.results = append(batch, d.results...)
	d.rmu.Unlock()
}

// completeLoop writes results in batches: it takes whatever results are
// waiting (at least one) and records them in one store transaction. While
// the store fails the results are kept (and their rows keep counting
// against the node's capacity, so claiming stops) and tried again with a
// backoff, until the store answers, a row's lease has run out (another node
// may have claimed it: that result is dropped) or the stop deadline passes.
// It ends when no send will report anymore and everything is recorded.
func (d *Dispatcher) completeLoop() {
	defer close(d.completerDone)
	backoff := time.Duration(0)
	for {
		batch := d.takeResults(maxCompleteBatch)
		if n := len(batch); n > 0 && n < d.completeTarget && d.lingerWorthIt() {
			d.linger(d.completeTarget - n)
			batch = append(batch, d.takeResults(maxCompleteBatch-n)...)
		}
		if len(batch) == 0 {
			select {
			case <-d.sendsDone:
				d.rmu.Lock()
				empty := len(d.results) == 0
				if empty {
					d.recorderGone = true
				}
				d.rmu.Unlock()
				if empty {
					return
				}
			case <-d.resultCh:
			case <-d.giveUp:
				d.quit()
				return
			}
			continue
		}
		if d.record(batch) {
			backoff = 0
			continue
		}
		now := d.o.Now()
		var keep, lost []completion
		for _, c := range batch {
			if now.After(d.leaseUntil(c.it)) {
				lost = append(lost, c)
			} else {
				keep = append(keep, c)
			}
		}
		d.drop(lost, "lease expired while the store failed")
		d.putBack(keep)
		backoff = min(max(2*backoff, recordBackoffMin), recordBackoffMax)
		t, stop := d.after(backoff)
		select {
		case <-t:
		case <-d.giveUp:
			stop()
			d.quit()
			return
		}
	}
}

// lingerWorthIt reports whether enough requests are in flight for a small
// batch to wait for their results.
func (d *Dispatcher) lingerWorthIt() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight >= lingerInFlight && !d.stopping
}

// linger waits until n more results are waiting, completeLinger has passed,
// or the sends are done or given up on.
func (d *Dispatcher) linger(n int) {
	t := time.NewTimer(d.completeLinger)
	defer t.Stop()
	for {
		select {
		case <-d.resultCh:
			d.rmu.Lock()
			k := len(d.results)
			d.rmu.Unlock()
			if k >= n {
				return
			}
		case <-t.C:
			return
		case <-d.sendsDone:
			return
		case <-d.giveUp:
			return
		}
	}
}

// quit drops every result not recorded by the stop deadline.
func (d *Dispatcher) quit() {
	d.rmu.Lock()
	d.recorderGone = true
	rest := d.results
	d.results = nil
	d.rmu.Unlock()
	d.drop(rest, "shutdown deadline passed")
}

func (d *Dispatcher) leaseUntil(it *item) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return it.leaseUntil
}

// drop gives up on results: their rows are claimed again when their leases
// expire (at least once), and the attempts made are not in the log.
func (d *Dispatcher) drop(cs []completion, why string) {
	if len(cs) == 0 {
		return
	}
	n := 0
	for _, c := range cs {
		if !c.release {
			n++
		}
	}
	d.o.Metrics.Dropped.Add(float64(n))
	d.o.Logger.Error("delivery results not recorded; the rows will be claimed again when their lease expires",
		"reason", why, "results", n, "releases", len(cs)-n)
	d.unhold(cs)
}

// unhold forgets recorded (or dropped) rows.
func (d *Dispatcher) unhold(cs []completion) {
	d.mu.Lock()
	for _, c := range cs {
		// Only the entry of this very claim: if the row was claimed again
		// (lease lost), the newer claim's entry stays.
		if d.held[c.c.DeliveryID] == c.it {
			delete(d.held, c.c.DeliveryID)
		}
		d.inMemory--
		p := c.it.lane.p
		p.inMemory--
		d.cleanupProjectLocked(p)
	}
	d.mu.Unlock()
}

// record writes one batch; false when the store failed (nothing recorded).
func (d *Dispatcher) record(batch []completion) bool {
	cs := make([]store.Completion, len(batch))
	for i := range batch {
		cs[i] = batch[i].c
	}
	applied, err := d.o.Store.CompleteDeliveries(d.recordCtx, cs)
	if err == nil && len(applied) != len(cs) {
		err = fmt.Errorf("store answered %d results for %d completions", len(applied), len(cs))
	}
	if err != nil {
		d.o.Logger.Warn("record delivery results; keeping them and trying again", "err", err, "count", len(cs))
		return false
	}
	for i, c := range batch {
		switch {
		case !applied[i] && !c.release:
			d.o.Metrics.Fenced.Inc()
			d.o.Logger.Warn("delivery result not recorded: lease lost to another claim", "delivery", c.c.DeliveryID)
		case applied[i] && !c.release:
			d.o.Metrics.Completed.WithLabelValues(string(c.c.State)).Inc()
		}
	}
	d.unhold(batch)
	d.Wake()
	for i, c := range batch {
		if c.gone && applied[i] {
			ctx, cancel := context.WithTimeout(d.recordCtx, disableTimeout)
			d.disable(ctx, c.c.WebhookID, "endpoint answered 410 Gone")
			cancel()
		}
	}
	return true
}

// disabledData is the data of a herald.webhook.disabled event.
type disabledData struct {
	WebhookID string `json:"webhook_id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	Reason    string `json:"reason"`
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
		// encoding/json makes valid JSON of any string: control characters
		// are escaped and invalid UTF-8 becomes U+FFFD.
		data, err := json.Marshal(disabledData{WebhookID: w.ID, Name: w.Name, URL: w.URL, Reason: reason})
		if err != nil {
			d.o.Logger.Error("emit webhook disabled event", "webhook", id, "err", err)
			return
		}
		ev := &herald.Event{
			Type: herald.EventTypeWebhookDisabled, Project: w.Project, Source: "herald",
			Subject: w.ID, Severity: herald.SeverityWarning, Data: data,
			// No Message: each receiving webhook gets the catalog text in its language.
		}
		// Bounded by ctx even if the ingester does not answer (shutdown).
		done := make(chan error, 1)
		go func() { done <- d.o.Emit(ctx, ev) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			d.o.Logger.Error("emit webhook disabled event", "webhook", id, "err", err)
		}
	}
}

// extendLoop renews, every Lease/4, the leases of rows this node holds
// (queued, in flight, or with a result waiting to be recorded), so that only
// a dead node's rows are claimed again. It runs until Stop ends.
func (d *Dispatcher) extendLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-d.extendStop
		cancel()
	}()
	every := max(d.o.Lease/4, time.Millisecond)
	for {
		t, stop := d.after(every)
		select {
		case <-d.extendStop:
			stop()
			return
		case <-t:
		}
		d.extendOnce(ctx)
	}
}

func (d *Dispatcher) extendOnce(ctx context.Context) {
	d.releaseStuck()
	byToken := map[string][]*item{}
	d.mu.Lock()
	for _, it := range d.held {
		byToken[it.c.LeaseToken] = append(byToken[it.c.LeaseToken], it)
	}
	now := d.o.Now()
	for id, h := range d.degraded {
		if now.Sub(h.at) > degradedMemory {
			delete(d.degraded, id)
		}
	}
	d.mu.Unlock()
	until := now.UTC().Add(d.o.Lease)
	for token, items := range byToken {
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.c.Delivery.ID
		}
		if err := d.o.Store.ExtendLeases(ctx, token, ids, until); err != nil {
			if ctx.Err() == nil {
				d.o.Logger.Error("extend leases", "err", err)
			}
			continue
		}
		d.mu.Lock()
		for _, it := range items {
			it.leaseUntil = until
		}
		d.mu.Unlock()
	}
}

// degradedMemory is how long the adaptive limit of a webhook with nothing to
// send is remembered (a hanging webhook's retries come back within hours).
const degradedMemory = 24 * time.Hour

// healthLoop disables webhooks that have failed without a success for
// DisableAfter. Checked every minute (more often for a DisableAfter under 4m).
func (d *Dispatcher) healthLoop(ctx context.Context) {
	every := min(time.Minute, max(d.o.DisableAfter/4, 100*time.Millisecond))
	for {
		d.checkHealth(ctx)
		t, stop := d.after(every)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-t:
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
