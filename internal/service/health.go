package service

import (
	"context"
	"slices"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// latencySamples bounds the attempts read for latency percentiles: the
// newest ones in the window.
const latencySamples = 20000

// WebhookHealth is one webhook's deliveries over the last 24 hours.
type WebhookHealth struct {
	Succeeded, Failed int
	// P95 is the 95th percentile of its attempts' latency (when Latencies > 0).
	P95       time.Duration
	Latencies int
}

// Volume is how many deliveries finished.
func (h WebhookHealth) Volume() int { return h.Succeeded + h.Failed }

// SuccessRate is the share that succeeded, in percent (100 without any).
func (h WebhookHealth) SuccessRate() float64 {
	if h.Volume() == 0 {
		return 100
	}
	return 100 * float64(h.Succeeded) / float64(h.Volume())
}

func (s *Service) stats() (store.Stats, bool) {
	st, ok := s.o.Store.(store.Stats)
	return st, ok
}

// WebhookHealth summarises the last 24 hours of the webhooks given (which
// the caller listed for p, so p may read them): an entry per webhook with
// finished deliveries.
func (s *Service) WebhookHealth(ctx context.Context, p *Principal, ws []*herald.Webhook) (map[string]WebhookHealth, error) {
	out := map[string]WebhookHealth{}
	st, ok := s.stats()
	if !ok || len(ws) == 0 {
		return out, nil
	}
	visible := map[string]bool{}
	for _, w := range ws {
		if p.CanRead(w.Project) {
			visible[w.ID] = true
		}
	}
	since := s.now().Add(-24 * time.Hour)
	cs, err := st.DeliveryCounts(ctx, since, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if visible[c.WebhookID] {
			h := out[c.WebhookID]
			h.Succeeded += c.Succeeded
			h.Failed += c.Failed
			out[c.WebhookID] = h
		}
	}
	ls, err := st.LatencySamples(ctx, since, latencySamples)
	if err != nil {
		return nil, err
	}
	per := map[string][]time.Duration{}
	for _, l := range ls {
		if visible[l.WebhookID] {
			per[l.WebhookID] = append(per[l.WebhookID], l.Latency)
		}
	}
	for id, ds := range per {
		h := out[id]
		h.P95, h.Latencies = percentile(ds, 95), len(ds)
		out[id] = h
	}
	return out, nil
}

// percentile returns the q-th percentile (nearest rank) of ds, sorting it.
func percentile(ds []time.Duration, q int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := (len(ds)*q + 99) / 100
	return ds[max(i-1, 0)]
}

// OverviewWindow is a period the overview covers and its bucket width.
type OverviewWindow struct {
	Name   string
	Length time.Duration
	Step   time.Duration
}

// OverviewWindows are the periods the console offers.
var OverviewWindows = []OverviewWindow{
	{"1h", time.Hour, time.Minute},
	{"24h", 24 * time.Hour, 30 * time.Minute},
	{"7d", 7 * 24 * time.Hour, 6 * time.Hour},
}

// OverviewBucket is one time step.
type OverviewBucket struct {
	At                time.Time
	Succeeded, Failed int
	// P50, P95 and P99 are attempt latencies (when Latencies > 0).
	P50, P95, P99 time.Duration
	Latencies     int
}

// FailingWebhook is a webhook with failures in the window.
type FailingWebhook struct {
	Webhook           *herald.Webhook
	Succeeded, Failed int
}

// Overview is the console's overview: deliveries over a window, what
// waits, and the webhooks failing most.
type Overview struct {
	Window  OverviewWindow
	Since   time.Time
	Buckets []OverviewBucket
	// Backlog is the whole server's (every project): only for platform
	// admins (nil otherwise).
	Backlog *store.Backlog
	Paused  bool
	Failing []FailingWebhook
	// Sampled is true when the latencies come from the newest attempts
	// only (more than the sample bound in the window).
	Sampled bool
}

// Overview computes the overview of window (one of OverviewWindows) over
// the webhooks p may read.
func (s *Service) Overview(ctx context.Context, p *Principal, window OverviewWindow) (*Overview, error) {
	if p.Token.Role == herald.RolePublisher {
		return nil, herald.ErrorfKey(herald.EForbidden, "token.publisher", nil, "a publisher token may only post events")
	}
	ws, err := s.ListWebhooks(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	byID := map[string]*herald.Webhook{}
	for _, w := range ws {
		byID[w.ID] = w
	}
	now := s.now()
	since := now.Add(-window.Length).Truncate(window.Step)
	n := int(now.Sub(since)/window.Step) + 1
	o := &Overview{Window: window, Since: since, Buckets: make([]OverviewBucket, n)}
	for i := range o.Buckets {
		o.Buckets[i].At = since.Add(time.Duration(i) * window.Step)
	}
	settings, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	o.Paused = !settings.WebhooksEnabled
	st, ok := s.stats()
	if !ok {
		return o, nil
	}
	if p.IsAdmin() {
		bl, err := st.Backlog(ctx)
		if err != nil {
			return nil, err
		}
		o.Backlog = &bl
	}
	cs, err := st.DeliveryCounts(ctx, since, window.Step)
	if err != nil {
		return nil, err
	}
	per := map[string]*FailingWebhook{}
	for _, c := range cs {
		w := byID[c.WebhookID]
		if w == nil {
			continue
		}
		if i := int(c.Bucket.Sub(since) / window.Step); i >= 0 && i < n {
			o.Buckets[i].Succeeded += c.Succeeded
			o.Buckets[i].Failed += c.Failed
		}
		f := per[c.WebhookID]
		if f == nil {
			f = &FailingWebhook{Webhook: w}
			per[c.WebhookID] = f
		}
		f.Succeeded += c.Succeeded
		f.Failed += c.Failed
	}
	for _, f := range per {
		if f.Failed > 0 {
			o.Failing = append(o.Failing, *f)
		}
	}
	slices.SortFunc(o.Failing, func(a, b FailingWebhook) int {
		if a.Failed != b.Failed {
			return b.Failed - a.Failed
		}
		return a.Succeeded - b.Succeeded
	})
	o.Failing = o.Failing[:min(len(o.Failing), 10)]

	ls, err := st.LatencySamples(ctx, since, latencySamples)
	if err != nil {
		return nil, err
	}
	o.Sampled = len(ls) == latencySamples
	lat := make([][]time.Duration, n)
	for _, l := range ls {
		if byID[l.WebhookID] == nil {
			continue
		}
		if i := int(l.At.Sub(since) / window.Step); i >= 0 && i < n {
			lat[i] = append(lat[i], l.Latency)
		}
	}
	for i, ds := range lat {
		if len(ds) > 0 {
			b := &o.Buckets[i]
			b.Latencies = len(ds)
			b.P50, b.P95, b.P99 = percentile(ds, 50), percentile(ds, 95), percentile(ds, 99)
		}
	}
	return o, nil
}
