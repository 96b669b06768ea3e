package store

import (
	"context"
	"strings"
	"time"
)

// Stats is the read-only summary the metrics (scraped every few seconds) and
// the console read. Both backends implement it; every query is served by an
// index (the partial deliveries_due index, deliveries_state) and reads no
// delivery body.
type Stats interface {
	// Backlog counts the deliveries waiting to be sent and the webhooks by
	// state.
	Backlog(ctx context.Context) (Backlog, error)
	// DeliveryCounts counts the deliveries of events (test sends left out)
	// that finished, succeeded or failed, at or after since, per webhook
	// and per step-long bucket starting at since (step > 0), in no
	// particular order. Buckets without a finished delivery are absent.
	DeliveryCounts(ctx context.Context, since time.Time, step time.Duration) ([]DeliveryCount, error)
	// LatencySamples returns the latency of the attempts of deliveries that
	// finished at or after since, newest delivery first, at most limit.
	LatencySamples(ctx context.Context, since time.Time, limit int) ([]LatencySample, error)
}

// DeliveryCount is one webhook's finished deliveries in one time bucket.
type DeliveryCount struct {
	WebhookID string
	// Bucket is the start of the bucket.
	Bucket            time.Time
	Succeeded, Failed int
}

// LatencySample is one attempt's latency.
type LatencySample struct {
	WebhookID string
	// At is when its delivery finished.
	At      time.Time
	Latency time.Duration
}

// Backlog is what is waiting to be delivered.
type Backlog struct {
	Pending, Retrying, Held int
	// OldestDue is the earliest due time of a pending or retrying delivery
	// (its next_attempt_at, or its lease expiry while a lease runs past
	// it), zero when there is none. How far it lies in the past is how late
	// delivery runs.
	OldestDue time.Time
	// WebhooksEnabled and WebhooksDisabled count the webhooks by switch.
	WebhooksEnabled, WebhooksDisabled int
}

// LikePrefix is a LIKE pattern (ESCAPE '\') matching strings that start
// with prefix.
func LikePrefix(prefix string) string { return likeEscape(prefix) + "%" }

// LikeContains is a LIKE pattern (ESCAPE '\') matching strings that
// contain s.
func LikeContains(s string) string { return "%" + likeEscape(s) + "%" }

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
