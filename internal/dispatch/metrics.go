package dispatch

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-hq/herald/internal/sender"
)

// Metrics are the engine's Prometheus metrics, registered on the registry
// given (never the global default one).
type Metrics struct {
	Attempts  *prometheus.CounterVec
	Latency   prometheus.Histogram
	Completed *prometheus.CounterVec
	Fenced    prometheus.Counter
	// Dropped counts results given up on without being recorded: their
	// lease ran out while the store failed, or the stop deadline passed.
	Dropped prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total", Help: "Delivery attempts by HTTP status class (or error).",
		}, []string{"result"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_delivery_attempt_seconds", Help: "Latency of delivery attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		Completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_results_total", Help: "Recorded delivery results by next state.",
		}, []string{"state"}),
		Fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_delivery_fenced_total", Help: "Results discarded because the lease was lost.",
		}),
		Dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_results_dropped_total",
			Help: "Delivery results not recorded: the store failed until the lease ran out or the stop deadline passed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Attempts, m.Latency, m.Completed, m.Fenced, m.Dropped)
	}
	return m
}

func (m *Metrics) observe(r sender.Result) {
	label := "error"
	if r.StatusCode > 0 {
		label = strconv.Itoa(r.StatusCode/100) + "xx"
	}
	m.Attempts.WithLabelValues(label).Inc()
	m.Latency.Observe(r.Latency.Seconds())
}
