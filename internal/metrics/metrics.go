// Package metrics holds Herald's operational Prometheus metrics outside the
// delivery engine (internal/dispatch has its own): ingest results, store
// errors, webhooks switched off by Herald, ownership challenges, lease
// reclaims, deliveries in flight, and the backlog read from the store at
// scrape time. Every label has a fixed, documented set of values; there are
// no per-webhook series. README's "Metrics" table documents them all.
package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-hq/herald/internal/sender"
)

// Ingest results (herald_events_ingested_total{result}).
const (
	IngestAccepted    = "accepted"
	IngestDuplicate   = "duplicate"
	IngestRejected    = "rejected"
	IngestRateLimited = "rate_limited"
)

// Lease reclaim reasons (herald_lease_reclaims_total{reason}).
const (
	// ReclaimRestart: leases a previous run of this node left, released at start.
	ReclaimRestart = "restart"
	// ReclaimDeadNode: leases of a node that stopped sending heartbeats.
	ReclaimDeadNode = "dead_node"
	// ReclaimExpired: leases that ran out without a result (a stalled
	// holder), their rows claimed again.
	ReclaimExpired = "expired"
)

// challengeResults are every value of herald_challenges_total{result}.
var challengeResults = []string{"ok",
	string(sender.ChallengeWrongToken), string(sender.ChallengeTimeout), string(sender.ChallengeStatus),
	string(sender.ChallengeBadJSON), string(sender.ChallengeBlocked), string(sender.ChallengeNetwork),
	string(sender.ChallengeConfig)}

// InFlighter reports how many deliveries are being sent right now (the
// dispatcher implements it).
type InFlighter interface {
	InFlight() int
}

// Metrics are the collectors, registered on one registry.
type Metrics struct {
	ingested      *prometheus.CounterVec
	autoDisabled  prometheus.Counter
	storeErrors   *prometheus.CounterVec
	challenges    *prometheus.CounterVec
	leaseReclaims *prometheus.CounterVec
	inFlight      atomic.Pointer[InFlighter]
}

// New creates the metrics and registers them on reg. The label values known
// in advance are initialised, so that every series exists (at 0) from the
// first scrape and rate() and increase() see the first event.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_events_ingested_total",
			Help: "Events received through the API (POST /events, /alertmanager) by result: accepted, duplicate (already stored, nothing new), rejected (refused with an error), rate_limited (429).",
		}, []string{"result"}),
		autoDisabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_webhook_auto_disabled_total",
			Help: "Webhooks Herald switched off by itself (410 Gone, failing for longer than disable_after).",
		}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_store_errors_total",
			Help: "Database operations that failed with an internal error (not found, conflicts and cancelled requests excluded), by store operation.",
		}, []string{"op"}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_challenges_total",
			Help: "Ownership challenges run by result: ok, or why they failed.",
		}, []string{"result"}),
		leaseReclaims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_lease_reclaims_total",
			Help: "Delivery leases released so that the deliveries are sent again: restart (left by a previous run of this node), dead_node (of a node that stopped its heartbeat), expired (ran out without a result and claimed again).",
		}, []string{"reason"}),
	}
	for _, r := range []string{IngestAccepted, IngestDuplicate, IngestRejected, IngestRateLimited} {
		m.ingested.WithLabelValues(r)
	}
	for _, r := range challengeResults {
		m.challenges.WithLabelValues(r)
	}
	// The operations an outage shows in first; the others appear with
	// their first error.
	for _, op := range []string{"ingest", "claim_deliveries", "complete_deliveries", "get_settings", "backlog"} {
		m.storeErrors.WithLabelValues(op)
	}
	for _, r := range []string{ReclaimRestart, ReclaimDeadNode, ReclaimExpired} {
		m.leaseReclaims.WithLabelValues(r)
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_deliveries_in_flight",
		Help: "Deliveries being sent by this node right now.",
	}, func() float64 {
		if p := m.inFlight.Load(); p != nil {
			return float64((*p).InFlight())
		}
		return 0
	})
	if reg != nil {
		reg.MustRegister(m.ingested, m.autoDisabled, m.storeErrors, m.challenges, m.leaseReclaims, inFlight)
	}
	return m
}

// SetInFlight makes herald_deliveries_in_flight read src (0 until set).
func (m *Metrics) SetInFlight(src InFlighter) {
	if src != nil {
		m.inFlight.Store(&src)
	}
}

// Ingested counts n events with result (one of the Ingest constants).
func (m *Metrics) Ingested(result string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.ingested.WithLabelValues(result).Add(float64(n))
}

// LeasesReclaimed counts n leases released for reason.
func (m *Metrics) LeasesReclaimed(reason string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.leaseReclaims.WithLabelValues(reason).Add(float64(n))
}

// challenge counts one challenge result.
func (m *Metrics) challenge(r sender.ChallengeResult) {
	label := "ok"
	if !r.OK() {
		label = string(r.Reason)
	}
	m.challenges.WithLabelValues(label).Inc()
}
