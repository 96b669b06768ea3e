package format

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// view is an event being rendered, with its data decoded at most once
// however many fields of it the format reads.
type view struct {
	ev      *herald.Event
	decoded bool
	data    any
}

func newView(ev *herald.Event) *view { return &view{ev: ev} }

// root returns the event data decoded (objects as map[string]any, numbers as
// json.Number), or nil when the event has none or it is not JSON.
func (v *view) root() any {
	if !v.decoded {
		v.decoded = true
		if len(v.ev.Data) > 0 {
			dec := json.NewDecoder(bytes.NewReader(v.ev.Data))
			dec.UseNumber()
			var x any
			if dec.Decode(&x) == nil {
				v.data = x
			}
		}
	}
	return v.data
}

// lookup returns the value at a dot path of the event data: "repository.name",
// "resources.0.tag" (array elements by index).
func (v *view) lookup(path string) (any, bool) { return lookupPath(v.root(), path) }

func lookupPath(x any, path string) (any, bool) {
	if x == nil {
		return nil, false
	}
	for part := range strings.SplitSeq(path, ".") {
		switch t := x.(type) {
		case map[string]any:
			var ok bool
			if x, ok = t[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			x = t[i]
		default:
			return nil, false
		}
	}
	return x, true
}

// str returns the first of the data paths that holds a non-empty scalar, as
// text (numbers as written, booleans as true/false).
func (v *view) str(paths ...string) (string, bool) {
	for _, p := range paths {
		if x, ok := v.lookup(p); ok {
			if s, ok := scalarText(x); ok && s != "" {
				return s, true
			}
		}
	}
	return "", false
}

// strOr is str with a fallback.
func (v *view) strOr(fallback string, paths ...string) string {
	if s, ok := v.str(paths...); ok {
		return s
	}
	return fallback
}

// int returns the first of the data paths that holds an integer (a JSON
// number, or a string holding one); fractions are truncated.
func (v *view) int(paths ...string) (int64, bool) {
	for _, p := range paths {
		if x, ok := v.lookup(p); ok {
			if n, ok := intOf(x); ok {
				return n, true
			}
		}
	}
	return 0, false
}

// timeAt returns the first of the data paths that holds an RFC 3339 time.
func (v *view) timeAt(paths ...string) (time.Time, bool) {
	for _, p := range paths {
		if s, ok := v.str(p); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// label returns the first non-empty of the event's labels.
func (v *view) label(names ...string) (string, bool) {
	for _, n := range names {
		if s := v.ev.Labels[n]; s != "" {
			return s, true
		}
	}
	return "", false
}

// time is when the event happened: occurred_at, else received_at, in UTC.
func (v *view) time() time.Time {
	t := v.ev.OccurredAt
	if t.IsZero() {
		t = v.ev.ReceivedAt
	}
	return t.UTC()
}

// severity is the event's severity, info when it has none.
func (v *view) severity() string {
	if v.ev.Severity == "" {
		return herald.SeverityInfo
	}
	return v.ev.Severity
}

// resolved reports whether the event ends an alert: severity clear or type
// alert.resolved (the Alertmanager receiver keeps the alert's own severity
// label on resolved alerts).
func (v *view) resolved() bool {
	return v.ev.Severity == herald.SeverityClear || v.ev.Type == "alert.resolved"
}

func scalarText(x any) (string, bool) {
	switch t := x.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// text is scalarText that writes objects and arrays as compact JSON.
func text(x any) string {
	if s, ok := scalarText(x); ok {
		return s
	}
	if x == nil {
		return ""
	}
	b, err := json.Marshal(x)
	if err != nil {
		return ""
	}
	return string(b)
}

func intOf(x any) (int64, bool) {
	var s string
	switch t := x.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/2 {
		return 0, false
	}
	return int64(f), true
}

// stringMap returns the object at a data path as a map of strings (values
// that are not strings written as text); nil when there is none.
func (v *view) stringMap(path string) map[string]string {
	x, ok := v.lookup(path)
	if !ok {
		return nil
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		if val != nil {
			out[k] = text(val)
		}
	}
	return out
}
