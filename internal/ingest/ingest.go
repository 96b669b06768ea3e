// Package ingest validates events, matches them to webhooks and stores each
// event with its deliveries durably before it is acknowledged.
//
// Concurrent calls are group-committed: one committer goroutine takes every
// request waiting at that moment and writes them in one store transaction, so
// many clients share one fsync. No artificial delay is added: a lone request
// is written at once.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// MaxBatch is the most events one POST /events may carry.
const MaxBatch = 1000

// Handoff lets a local dispatcher take new deliveries straight from the
// ingest transaction, leased to it, instead of claiming them again.
type Handoff interface {
	// Offer returns a fresh lease token, the lease duration and how many new
	// deliveries the dispatcher can take now (0: none).
	Offer() (token string, leaseFor time.Duration, n int)
	// Take hands over the deliveries leased under token (possibly none).
	Take(token string, claimed []*store.Claimed)
}

// Options configure an Ingester.
type Options struct {
	Store   store.Store
	Router  *Router
	Handoff Handoff // optional
	// MaxGroup bounds the events written in one transaction. Defaults to 2000.
	MaxGroup int
	Now      func() time.Time
}

// Ingester stores events. Start must be called before Ingest.
type Ingester struct {
	o      Options
	reqs   chan *request
	done   chan struct{}
	cancel context.CancelFunc
}

type request struct {
	items []store.IngestItem
	res   chan result
}

type result struct {
	items []store.IngestItemResult
	err   error
}

// New returns an Ingester.
func New(o Options) *Ingester {
	if o.MaxGroup <= 0 {
		o.MaxGroup = 2000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ingester{o: o, reqs: make(chan *request, 1024), done: make(chan struct{})}
}

// Start runs the committer until Stop or ctx ends; requests still queued
// then are answered with EUnavailable, and every Ingest after that fails at
// once with EUnavailable. Start returns at once.
func (g *Ingester) Start(ctx context.Context) {
	ctx, g.cancel = context.WithCancel(ctx)
	go g.commitLoop(ctx)
}

// Stop stops the committer and waits for it: a write under way finishes
// (its callers learn its outcome); requests not yet written are refused.
func (g *Ingester) Stop() {
	if g.cancel == nil {
		return // never started
	}
	g.cancel()
	<-g.done
}

// Wait blocks until the committer has stopped.
func (g *Ingester) Wait() { <-g.done }

// errStopped answers every request the committer will not write.
func errStopped() error { return herald.Errorf(herald.EUnavailable, "server is shutting down") }

// Ingest validates, matches and stores events; it returns once they and their
// deliveries are durable. The result has one entry per event, in order.
func (g *Ingester) Ingest(ctx context.Context, events []*herald.Event) ([]store.IngestItemResult, error) {
	if len(events) == 0 {
		return nil, herald.Invalid("events", "at least one event is required")
	}
	if len(events) > MaxBatch {
		return nil, herald.Invalid("events", "at most %d events per request, got %d", MaxBatch, len(events))
	}
	now := g.o.Now().UTC()
	items := make([]store.IngestItem, len(events))
	for i, ev := range events {
		field := ""
		if len(events) > 1 {
			field = "events[" + strconv.Itoa(i) + "]."
		}
		if err := Normalize(ev, field, now); err != nil {
			return nil, err
		}
		ids, err := g.o.Router.Match(ctx, ev)
		if err != nil {
			return nil, err
		}
		items[i] = store.IngestItem{Event: ev, WebhookIDs: ids}
	}
	return g.submit(ctx, items)
}

// submit queues one request for the committer and waits for its answer.
func (g *Ingester) submit(ctx context.Context, items []store.IngestItem) ([]store.IngestItemResult, error) {
	select {
	case <-g.done:
		return nil, errStopped()
	default:
	}
	req := &request{items: items, res: make(chan result, 1)}
	select {
	case g.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.done:
		return nil, errStopped()
	}
	// Once queued, wait for the answer even if the client went away: the
	// write may already be under way and its outcome must be known. The
	// committer answers every request it takes before it ends (done closes
	// after its last answer), so when done is closed and no answer is there,
	// the request was never taken (it may have been queued just after the
	// committer stopped) and never will be: nothing was written.
	select {
	case r := <-req.res:
		return r.items, r.err
	case <-g.done:
		select {
		case r := <-req.res:
			return r.items, r.err
		default:
			return nil, errStopped()
		}
	}
}

// Normalize validates ev and fills defaults (id, severity, times). field
// prefixes field names in errors ("events[3].").
func Normalize(ev *herald.Event, field string, now time.Time) error {
	ev.Type = strings.TrimSpace(ev.Type)
	if ev.Type == "" {
		return herald.Invalid(field+"type", "type is required")
	}
	if len(ev.Type) > 200 {
		return herald.Invalid(field+"type", "type is longer than 200 characters")
	}
	if len(ev.ID) > 200 {
		return herald.Invalid(field+"id", "id is longer than 200 characters")
	}
	for _, f := range []struct{ name, v string }{
		{"type", ev.Type}, {"id", ev.ID}, {"project", ev.Project}, {"source", ev.Source}, {"subject", ev.Subject},
	} {
		if herald.HasControl(f.v) {
			return herald.Invalid(field+f.name, "%s must not contain control characters (NUL, line breaks, ...)", f.name)
		}
	}
	if strings.ContainsRune(ev.Message, 0) {
		return herald.Invalid(field+"message", "message must not contain NUL")
	}
	if len(ev.Labels) > herald.MaxLabels {
		return herald.Invalid(field+"labels", "at most %d labels per event, got %d", herald.MaxLabels, len(ev.Labels))
	}
	for k, v := range ev.Labels {
		switch {
		case k == "" || len(k) > herald.MaxLabelKeyBytes || herald.HasControl(k):
			return herald.Invalid(field+"labels", "label key %q must be 1 to %d bytes, without control characters", k, herald.MaxLabelKeyBytes)
		case len(v) > herald.MaxLabelValueBytes || herald.HasControl(v):
			return herald.Invalid(field+"labels."+k, "label value must be at most %d bytes, without control characters", herald.MaxLabelValueBytes)
		}
	}
	if !herald.ValidSeverity(ev.Severity) {
		return herald.Invalid(field+"severity", "severity %q is not info, warning, critical or clear", ev.Severity)
	}
	if ev.Severity == "" {
		ev.Severity = herald.SeverityInfo
	}
	if len(ev.Data) > 0 {
		if !json.Valid(ev.Data) {
			return herald.Invalid(field+"data", "data is not valid JSON")
		}
		if t := strings.TrimSpace(string(ev.Data)); t == "null" {
			ev.Data = nil
		}
	}
	if ev.ID == "" {
		ev.ID = herald.NewID("evt")
	}
	ev.ReceivedAt = now
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	return nil
}

func (g *Ingester) commitLoop(ctx context.Context) {
	defer close(g.done)
	var batch []*request
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			g.drainRefuse()
			return
		case r := <-g.reqs:
			batch = append(batch, r)
		}
		n := len(batch[0].items)
	gather:
		for n < g.o.MaxGroup {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
				n += len(r.items)
			default:
				break gather
			}
		}
		g.commit(batch, n)
	}
}

func (g *Ingester) drainRefuse() {
	for {
		select {
		case r := <-g.reqs:
			r.res <- result{err: errStopped()}
		default:
			return
		}
	}
}

func (g *Ingester) commit(batch []*request, n int) {
	items := make([]store.IngestItem, 0, n)
	for _, r := range batch {
		items = append(items, r.items...)
	}
	p := store.IngestParams{Items: items, Now: g.o.Now().UTC()}
	if g.o.Handoff != nil {
		p.LeaseToken, p.LeaseFor, p.LeaseLimit = g.o.Handoff.Offer()
	}
	// The write must finish even when the server is stopping: callers are
	// waiting for its outcome. The store bounds it with its own timeouts.
	res, err := g.o.Store.Ingest(context.Background(), p)
	if err != nil {
		if herald.ErrorCode(err) == herald.EInternal {
			err = &storeError{err}
		}
		for _, r := range batch {
			r.res <- result{err: err}
		}
		if g.o.Handoff != nil && p.LeaseLimit > 0 {
			g.o.Handoff.Take(p.LeaseToken, nil)
		}
		return
	}
	if g.o.Handoff != nil && p.LeaseLimit > 0 {
		g.o.Handoff.Take(p.LeaseToken, res.Claimed)
	}
	off := 0
	for _, r := range batch {
		k := len(r.items)
		r.res <- result{items: res.Items[off : off+k]}
		off += k
	}
}

// storeError marks a store failure so the API answers 503 with Retry-After
// (the client should retry; nothing was acknowledged).
type storeError struct{ err error }

func (e *storeError) Error() string { return "store unavailable: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// IsStoreUnavailable reports whether err means the database could not take
// the write.
func IsStoreUnavailable(err error) bool {
	var se *storeError
	return errors.As(err, &se)
}
