package herald

import (
	"encoding/json"
	"reflect"
	"time"
)

// Time is a time.Time that reads RFC 3339 strings (and, for clients that send
// them, unix seconds or milliseconds as numbers) from JSON.
type Time struct{ time.Time }

// UnmarshalJSON accepts RFC 3339 strings, "" and null (zero), and numbers;
// anything else is a *json.UnmarshalTypeError (see Duration.UnmarshalJSON).
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
			return badJSON(b, reflect.TypeFor[Time]())
		}
		t.Time = v
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return badJSON(b, reflect.TypeFor[Time]())
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
