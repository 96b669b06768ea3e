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
}

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
