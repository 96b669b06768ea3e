package herald

import (
	"encoding/json"
	"fmt"
	"time"
)

// Time is a time.Time that reads RFC 3339 strings (and, for clients that send
// them, unix seconds or milliseconds as numbers) from JSON.
type Time struct{ time.Time }

// UnmarshalJSON accepts RFC 3339 strings, "" and null (zero), and numbers.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s == "" {
			t.Time = time.Time{}
			return nil
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("time %q is not RFC 3339 (like 2026-01-02T15:04:05Z)", s)
		}
		t.Time = v
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("time must be an RFC 3339 string")
	}
	if n > 1e11 { // milliseconds
		t.Time = time.UnixMilli(int64(n))
	} else {
		t.Time = time.Unix(int64(n), 0)
	}
	return nil
}

// MarshalJSON writes RFC 3339.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.Time) }
