package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// WrapStore returns st counting its internal errors in
// herald_store_errors_total{op}, the webhooks Herald switches off
// (DisableWebhook is only called by the delivery engine) and the leases of
// dead nodes released. The result also implements store.Stats when st does.
func (m *Metrics) WrapStore(st store.Store) store.Store {
	x := &instrumented{Store: st, m: m}
	if s, ok := st.(store.Stats); ok {
		return &instrumentedStats{instrumented: x, stats: s}
	}
	return x
}

// instrumented embeds the store: a method added to store.Store later still
// works (uncounted) until it is added to store_forward.go.
type instrumented struct {
	store.Store
	m *Metrics
}

type instrumentedStats struct {
	*instrumented
	stats store.Stats
}

func (x *instrumentedStats) Backlog(ctx context.Context) (store.Backlog, error) {
	b, err := x.stats.Backlog(ctx)
	x.m.storeError("backlog", err)
	return b, err
}

// storeError counts err under op when it is an internal error: a
// *herald.Error (not found, conflict, ...) is an answer, and a cancelled
// context is the caller leaving; a deadline that passed still counts (the
// database was too slow).
func (m *Metrics) storeError(op string, err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return
	}
	m.storeErrors.WithLabelValues(op).Inc()
}

func (x *instrumented) DisableWebhook(ctx context.Context, id, reason string, now time.Time) error {
	err := x.Store.DisableWebhook(ctx, id, reason, now)
	x.m.storeError("disable_webhook", err)
	if err == nil {
		x.m.autoDisabled.Inc()
	}
	return err
}

func (x *instrumented) ReleaseLeases(ctx context.Context, node string, now time.Time) (int, error) {
	n, err := x.Store.ReleaseLeases(ctx, node, now)
	x.m.storeError("release_leases", err)
	return n, err
}

func (x *instrumented) ReleaseDeadNodes(ctx context.Context, deadBefore, now time.Time) ([]store.ReleasedNode, error) {
	ns, err := x.Store.ReleaseDeadNodes(ctx, deadBefore, now)
	x.m.storeError("release_dead_nodes", err)
	for _, n := range ns {
		x.m.LeasesReclaimed(ReclaimDeadNode, n.Leases)
	}
	return ns, err
}

func (x *instrumentedStats) DeliveryCounts(ctx context.Context, since time.Time, step time.Duration) ([]store.DeliveryCount, error) {
	cs, err := x.stats.DeliveryCounts(ctx, since, step)
	x.m.storeError("delivery_counts", err)
	return cs, err
}

func (x *instrumentedStats) LatencySamples(ctx context.Context, since time.Time, limit int) ([]store.LatencySample, error) {
	ls, err := x.stats.LatencySamples(ctx, since, limit)
	x.m.storeError("latency_samples", err)
	return ls, err
}
