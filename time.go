package herald

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Time is a time.Time that reads RFC 3339 strings (and, for clients that send
// them, unix seconds or milliseconds as numbers) from JSON.
type Time struct{ time.Time }

// maxUnixSeconds is the end of year 9999: numbers beyond it (in seconds or
// milliseconds) are refused rather than wrapped.
const maxUnixSeconds = 253402300799

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
	switch {
	case n < 0 || n > maxUnixSeconds*1000:
		return &json.UnmarshalTypeError{Value: fmt.Sprintf("number %s (out of range: unix seconds or milliseconds up to the year 9999)", b), Type: timeType}
	case n > 1e11: // milliseconds
		t.Time = time.UnixMilli(int64(n))
	default:
		t.Time = time.Unix(int64(n), 0)
	}
	return nil
}

var timeType = reflect.TypeFor[Time]()

// MarshalJSON writes RFC 3339.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.Time) }
