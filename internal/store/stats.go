package store

import (
	"context"
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
