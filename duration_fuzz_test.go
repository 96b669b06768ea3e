package herald

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzDurationJSON decodes arbitrary JSON as a Duration. Properties: no
// panic; what decodes writes back as the Go duration string and that string
// decodes to the same value (round trip); a JSON string decodes exactly as
// time.ParseDuration reads it; an integer is that many seconds, or an error
// when it does not fit (never a wrapped-around value).
func FuzzDurationJSON(f *testing.F) {
	for _, s := range []string{`"15s"`, `"2m"`, `"1h30m"`, `"250ms"`, `""`, `30`, `0`, `"-5s"`, `"1.5h"`, `"15"`, `"2 minutes"`, `null`, `9223372037`, `-9223372037`, `1e3`, `"9223372036854775807ns"`, `true`, `{"s":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d Duration
		if err := json.Unmarshal(in, &d); err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal %d: %v", d, err)
		}
		if want, _ := json.Marshal(time.Duration(d).String()); string(out) != string(want) {
			t.Fatalf("%s wrote %s, want %s", in, out, want)
		}
		var back Duration
		if err := json.Unmarshal(out, &back); err != nil || back != d {
			t.Fatalf("round trip of %s: %s gave %d (%v), want %d", in, out, back, err, d)
		}
		trimmed := strings.TrimSpace(string(in))
		var s string
		if json.Unmarshal(in, &s) == nil && s != "" {
			if want, err := time.ParseDuration(s); err != nil || time.Duration(d) != want {
				t.Fatalf("%s decoded to %s; time.ParseDuration says %s (%v)", in, time.Duration(d), want, err)
			}
		}
		if n, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
			if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) || time.Duration(d) != time.Duration(n)*time.Second {
				t.Fatalf("%s seconds decoded to %s", in, time.Duration(d))
			}
		}
	})
}
