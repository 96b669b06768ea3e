package herald

import (
	"encoding/json"
	"time"
)

// Event severities (seed 003), plus info for everything that is not an alert.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
	SeverityClear    = "clear"
)

// ValidSeverity reports whether s is a known event severity ("" counts as info).
func ValidSeverity(s string) bool {
	switch s {
	case "", SeverityInfo, SeverityWarning, SeverityCritical, SeverityClear:
		return true
	}
	return false
}

// Event is something that happened on a platform, sent to Herald to be
// delivered to every webhook that subscribes to it.
type Event struct {
	// ID is unique per project; Herald assigns one when it is empty. The same
	// (Project, ID) ingested twice is stored once.
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Project    string            `json:"project"`
	Source     string            `json:"source,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Data       json.RawMessage   `json:"data,omitempty"`
	Message    string            `json:"message,omitempty"`
	OccurredAt time.Time         `json:"occurred_at"`
	ReceivedAt time.Time         `json:"received_at"`
	// Hops is how many times the event already went through a Herald: the
	// HopsHeader of the request that brought it (0 when a publisher sent
	// it). Herald sends its deliveries with Hops+1 and refuses events whose
	// count is above MaxHops, so a webhook pointing at a Herald cannot loop
	// forever. Set by ingest, never from the event body.
	Hops int `json:"hops,omitempty"`
}

// Loop protection (see Event.Hops).
const (
	// HopsHeader is the request header carrying the hop count: every
	// request Herald sends has it, and ingest reads it.
	HopsHeader = "Herald-Hops"
	// MaxHops is the largest hop count ingest accepts: an event that
	// already went through Herald more often is refused (400 naming the
	// header).
	MaxHops = 3
	// ReservedTypePrefix starts the event types only Herald emits
	// (herald.test, herald.webhook.disabled); publishers may not post them.
	ReservedTypePrefix = "herald."
)

// Limits of an event, refused at ingest (see SECURITY.md, "Limits").
const (
	// MaxLabels bounds the labels of one event.
	MaxLabels = 128
	// MaxLabelKeyBytes bounds a label key.
	MaxLabelKeyBytes = 256
	// MaxLabelValueBytes bounds a label value.
	MaxLabelValueBytes = 4096
)

// Event types Herald emits itself.
const (
	EventTypeTest            = "herald.test"
	EventTypeWebhookDisabled = "herald.webhook.disabled"
)

// EventType is an entry of the event-type catalog.
type EventType struct {
	Name        string            `json:"name"`
	Category    string            `json:"category"`
	Source      string            `json:"source"`
	Description map[string]string `json:"description"`
}
