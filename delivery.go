package herald

import "time"

// State is a delivery's state.
type State string

// Delivery states: pending → retrying → succeeded | failed; cancelled and held
// sit aside (held: the global switch is off).
const (
	StatePending   State = "pending"
	StateRetrying  State = "retrying"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	StateHeld      State = "held"
)

// ValidState reports whether s is a known state.
func ValidState(s State) bool {
	switch s {
	case StatePending, StateRetrying, StateSucceeded, StateFailed, StateCancelled, StateHeld:
		return true
	}
	return false
}

// Delivery is one event for one webhook.
type Delivery struct {
	ID            string     `json:"id"`
	EventID       string     `json:"event_id"`
	WebhookID     string     `json:"webhook_id"`
	Project       string     `json:"project"`
	EventType     string     `json:"event_type"`
	State         State      `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	Test          bool       `json:"test"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	ID             string              `json:"id"`
	DeliveryID     string              `json:"delivery_id"`
	Number         int                 `json:"number"`
	StartedAt      time.Time           `json:"started_at"`
	Latency        Duration            `json:"latency"`
	RequestHeaders map[string][]string `json:"request_headers"`
	// RequestMethod, RequestURL and RequestBody are the request as sent:
	// the URL with credentials in its userinfo and query redacted, the body
	// cut at 64 KiB (RequestBodyTruncated). Empty when no request was made
	// (a payload that did not render).
	RequestMethod        string              `json:"request_method,omitempty"`
	RequestURL           string              `json:"request_url,omitempty"`
	RequestBody          string              `json:"request_body,omitempty"`
	RequestBodyTruncated bool                `json:"request_body_truncated,omitempty"`
	StatusCode           int                 `json:"status_code,omitempty"`
	ResponseHeaders      map[string][]string `json:"response_headers,omitempty"`
	ResponseBody         string              `json:"response_body,omitempty"`
	Error                string              `json:"error,omitempty"`
}
