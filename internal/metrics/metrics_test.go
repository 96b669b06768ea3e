package metrics

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/store"
)

// fakeStore answers GetSettings and DisableWebhook with err, and Backlog
// with bl (counting calls).
type fakeStore struct {
	store.Store
	err     error
	bl      store.Backlog
	blErr   error
	backlog atomic.Int32
}

func (f *fakeStore) GetSettings(context.Context) (herald.Settings, error) {
	return herald.Settings{}, f.err
}
func (f *fakeStore) DisableWebhook(context.Context, string, string, time.Time) error {
	return f.err
}
func (f *fakeStore) DeliveryCounts(context.Context, time.Time, time.Duration) ([]store.DeliveryCount, error) {
	return nil, nil
}
func (f *fakeStore) LatencySamples(context.Context, time.Time, int) ([]store.LatencySample, error) {
	return nil, nil
}
func (f *fakeStore) Backlog(context.Context) (store.Backlog, error) {
	f.backlog.Add(1)
	return f.bl, f.blErr
}

func TestStoreErrorsCountInternalOnly(t *testing.T) {
	m := New(prometheus.NewRegistry())
	f := &fakeStore{}
	st := m.WrapStore(f)
	errs := m.storeErrors.WithLabelValues("get_settings")
	for _, err := range []error{nil, herald.NotFound("webhook"), context.Canceled, errors.New("disk I/O error"), context.DeadlineExceeded} {
		f.err = err
		st.GetSettings(t.Context())
	}
	if got := counter(errs); got != 2 {
		t.Fatalf("store errors = %v, want 2 (the I/O error and the deadline)", got)
	}
	if _, ok := st.(store.Stats); !ok {
		t.Fatal("the wrapped store lost store.Stats")
	}
}

func TestAutoDisabledCountsSuccessOnly(t *testing.T) {
	m := New(prometheus.NewRegistry())
	f := &fakeStore{}
	st := m.WrapStore(f)
	st.DisableWebhook(t.Context(), "wh", "410 Gone", time.Now())
	f.err = errors.New("down")
	st.DisableWebhook(t.Context(), "wh", "410 Gone", time.Now())
	if got := counter(m.autoDisabled); got != 1 {
		t.Fatalf("auto-disabled = %v, want 1", got)
	}
	if got := counter(m.storeErrors.WithLabelValues("disable_webhook")); got != 1 {
		t.Fatalf("store errors = %v, want 1", got)
	}
}

// The backlog is read at most once per MaxAge, whatever the scrapes; a
// failed read leaves the series out.
func TestBacklogCached(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &fakeStore{bl: store.Backlog{Pending: 3, Retrying: 2, Held: 1, OldestDue: now.Add(-90 * time.Second), WebhooksEnabled: 4, WebhooksDisabled: 5}}
	m.RegisterBacklog(reg, m.WrapStore(f).(store.Stats), BacklogOptions{Now: func() time.Time { return now }})
	for range 3 {
		if got := series(t, reg, "herald_delivery_oldest_due_seconds"); got[""] != 90 {
			t.Fatalf("oldest due %v, want 90", got)
		}
		if got := series(t, reg, "herald_webhooks"); len(got) != 2 || got["enabled"] != 4 || got["disabled"] != 5 {
			t.Fatalf("webhooks %v", got)
		}
		if got := series(t, reg, "herald_delivery_backlog"); len(got) != 3 || got["pending"] != 3 || got["retrying"] != 2 || got["held"] != 1 {
			t.Fatalf("backlog %v", got)
		}
	}
	if n := f.backlog.Load(); n != 1 {
		t.Fatalf("%d queries for 9 gathers within MaxAge", n)
	}

	now = now.Add(6 * time.Second)
	f.blErr = errors.New("database is locked")
	if got := len(series(t, reg, "herald_delivery_backlog")) + len(series(t, reg, "herald_webhooks")); got != 0 {
		t.Fatalf("%d series from a failed read, want none", got)
	}
	if n := f.backlog.Load(); n != 2 {
		t.Fatalf("%d queries after MaxAge, want 2", n)
	}
	if got := counter(m.storeErrors.WithLabelValues("backlog")); got != 1 {
		t.Fatalf("backlog store errors = %v, want 1", got)
	}

	// Nothing overdue (due in the future, or none): 0.
	now = now.Add(6 * time.Second)
	f.blErr, f.bl = nil, store.Backlog{OldestDue: now.Add(time.Minute)}
	if got := series(t, reg, "herald_delivery_oldest_due_seconds"); len(got) != 1 || got[""] != 0 {
		t.Fatalf("oldest due %v, want 0", got)
	}
}

// series returns the samples of metric name in reg's gather, by their
// label values joined with ","; a counter or gauge value each.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[strings.Join(vals, ",")] = v
		}
	}
	return out
}

func counter(c prometheus.Collector) float64 {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, _ := reg.Gather()
	if len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		return -1
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

type fakeChallenger struct{ r sender.ChallengeResult }

func (f fakeChallenger) Challenge(context.Context, *herald.Webhook) sender.ChallengeResult {
	return f.r
}

type inFlight int

func (n inFlight) InFlight() int { return int(n) }

func TestChallengesAndInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.WrapChallenger(fakeChallenger{}).Challenge(t.Context(), nil)
	m.WrapChallenger(fakeChallenger{sender.ChallengeResult{Reason: sender.ChallengeTimeout}}).Challenge(t.Context(), nil)
	if ok, to := counter(m.challenges.WithLabelValues("ok")), counter(m.challenges.WithLabelValues("timeout")); ok != 1 || to != 1 {
		t.Fatalf("challenges ok=%v timeout=%v", ok, to)
	}
	if got := len(series(t, reg, "herald_challenges_total")); got != len(challengeResults) {
		t.Fatalf("%d challenge series, want every result (%d)", got, len(challengeResults))
	}
	if g, ok := series(t, reg, "herald_deliveries_in_flight")[""]; !ok || g != 0 {
		t.Fatalf("in flight before wiring: %v %v", g, ok)
	}
	m.SetInFlight(inFlight(7))
	if g := series(t, reg, "herald_deliveries_in_flight")[""]; g != 7 {
		t.Fatalf("in flight: %v", g)
	}
}
