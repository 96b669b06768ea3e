package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/herald-hq/herald"
)

// MaxBatch is the most events one SendEvents call may carry.
const MaxBatch = 1000

// EventInput is an event as sent to Herald. ID is optional (Herald assigns
// one); OccurredAt defaults to the time Herald receives it.
type EventInput struct {
	ID         string            `json:"id,omitempty"`
	Type       string            `json:"type"`
	Project    string            `json:"project"`
	Source     string            `json:"source,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Data       json.RawMessage   `json:"data,omitempty"`
	OccurredAt *time.Time        `json:"occurred_at,omitempty"`
}

// EventResult is what Herald did with one ingested event.
type EventResult struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	// Duplicate is true when (project, id) was already stored; nothing new
	// was delivered for it.
	Duplicate bool `json:"duplicate"`
	// Deliveries is how many deliveries the event created.
	Deliveries int `json:"deliveries"`
}

// SendOption configures SendEvents.
type SendOption func(*sendOptions)

type sendOptions struct{ idempotencyKey string }

// IdempotencyKey sends the Idempotency-Key header: like an event id, the same
// key ingested twice into a project is stored once.
func IdempotencyKey(key string) SendOption {
	return func(o *sendOptions) { o.idempotencyKey = key }
}

// SendEvents ingests events (1 to MaxBatch) and returns one result per event,
// in order. Herald answers only once they and their deliveries are stored.
// One event is sent as a single object, several as {"events": [...]}.
func (c *Client) SendEvents(ctx context.Context, events []EventInput, opts ...SendOption) ([]EventResult, error) {
	var o sendOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case len(events) == 0:
		return nil, herald.Invalid("events", "no events to send")
	case len(events) > MaxBatch:
		return nil, herald.Invalid("events", "%d events in one batch; the limit is %d", len(events), MaxBatch)
	}
	var body any = events[0]
	if len(events) > 1 {
		body = struct {
			Events []EventInput `json:"events"`
		}{events}
	}
	k := call{method: http.MethodPost, path: "/events", body: body}
	if o.idempotencyKey != "" {
		k.header = http.Header{"Idempotency-Key": {o.idempotencyKey}}
	}
	var out list[EventResult]
	k.out = &out
	if err := c.do(ctx, k); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetEvent returns a stored event. Event IDs are unique per project, so
// project selects which one ("" for the platform or when the token has one).
func (c *Client) GetEvent(ctx context.Context, id, project string) (*herald.Event, error) {
	if err := requireID("event", id); err != nil {
		return nil, err
	}
	q := url.Values{}
	if project != "" {
		q.Set("project", project)
	}
	var out herald.Event
	if err := c.do(ctx, call{method: http.MethodGet, path: idPath("/events", id), query: q, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EventTypes returns the catalog of known event types.
func (c *Client) EventTypes(ctx context.Context) ([]herald.EventType, error) {
	var out list[herald.EventType]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/event-types", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}
