package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-hq/herald/internal/store"
)

// BacklogOptions tune the backlog collector.
type BacklogOptions struct {
	// MaxAge is how long one reading of the store serves scrapes (several
	// Prometheus servers, or a dashboard refreshing often, cost one query
	// per MaxAge). Defaults to 5s.
	MaxAge time.Duration
	// Timeout bounds the query. Defaults to 2s.
	Timeout time.Duration
	Logger  *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

var (
	backlogDesc = prometheus.NewDesc("herald_delivery_backlog",
		"Deliveries waiting to be sent, by state: pending (no attempt yet), retrying, held (the global switch is off).",
		[]string{"state"}, nil)
	oldestDueDesc = prometheus.NewDesc("herald_delivery_oldest_due_seconds",
		"How long the oldest due pending or retrying delivery has been waiting past its due time (0 when none is overdue).",
		nil, nil)
	webhooksDesc = prometheus.NewDesc("herald_webhooks",
		"Webhooks by state: enabled, disabled.", []string{"state"}, nil)
)

// backlog is a prometheus.Collector reading store.Stats at scrape time.
type backlog struct {
	st store.Stats
	o  BacklogOptions
	m  *Metrics

	mu   sync.Mutex // one query at a time; guards the fields below
	at   time.Time  // when last read (zero: never)
	last store.Backlog
	ok   bool
}

// RegisterBacklog registers on reg the collector of herald_delivery_backlog,
// herald_delivery_oldest_due_seconds and herald_webhooks. When the store
// cannot answer in time those series are left out of the scrape (absent()
// alerts on it) and herald_store_errors_total{op="backlog"} counts it when
// st is a WrapStore store.
func (m *Metrics) RegisterBacklog(reg prometheus.Registerer, st store.Stats, o BacklogOptions) {
	if o.MaxAge <= 0 {
		o.MaxAge = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	reg.MustRegister(&backlog{st: st, o: o, m: m})
}

func (b *backlog) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDueDesc
	ch <- webhooksDesc
}

func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	bl, ok := b.read()
	if !ok {
		return
	}
	now := b.o.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(backlogDesc, float64(bl.Pending), "pending")
	gauge(backlogDesc, float64(bl.Retrying), "retrying")
	gauge(backlogDesc, float64(bl.Held), "held")
	late := 0.0
	if !bl.OldestDue.IsZero() && now.After(bl.OldestDue) {
		late = now.Sub(bl.OldestDue).Seconds()
	}
	gauge(oldestDueDesc, late)
	gauge(webhooksDesc, float64(bl.WebhooksEnabled), "enabled")
	gauge(webhooksDesc, float64(bl.WebhooksDisabled), "disabled")
}

// read returns the cached reading when younger than MaxAge, else queries.
func (b *backlog) read() (store.Backlog, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.o.Now()
	if !b.at.IsZero() && now.Sub(b.at) < b.o.MaxAge {
		return b.last, b.ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	bl, err := b.st.Backlog(ctx)
	b.at, b.last, b.ok = now, bl, err == nil
	if err != nil {
		b.o.Logger.Warn("metrics: read the delivery backlog", "err", err)
	}
	return b.last, b.ok
}
