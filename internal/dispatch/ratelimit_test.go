package dispatch

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/herald-hq/herald"
)

// A chat robot limited per minute by its platform is never sent more than
// that in any 60 s window while its rate_limit is the platform default; a
// user's own higher rate_limit wins.
func TestRateOfChatRobots(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format    string
		rateLimit int
		perMinute int // most requests a 60 s window may hold; 0: rate_limit per second
	}{
		{herald.FormatDingTalk, 1, 20},
		{herald.FormatWeCom, 0, 20},
		{herald.FormatFeishu, 1, 100},
		{herald.FormatDingTalk, 5, 0},
		{herald.FormatSlack, 1, 0},
		{herald.FormatStandard, 3, 0},
	}
	for _, c := range cases {
		w := &herald.Webhook{Format: c.format, RateLimit: c.rateLimit}
		limit, burst := rateOf(w)
		if c.perMinute == 0 {
			if limit != rate.Limit(c.rateLimit) || burst != c.rateLimit {
				t.Errorf("%s rate_limit %d: limit %v burst %d, want rate_limit per second", c.format, c.rateLimit, limit, burst)
			}
			continue
		}
		// Take every token a limiter gives over one minute, as fast as it can.
		l := rate.NewLimiter(limit, burst)
		start := time.Unix(0, 0)
		n := 0
		for at := start; at.Before(start.Add(time.Minute)); at = at.Add(10 * time.Millisecond) {
			if l.AllowN(at, 1) {
				n++
			}
		}
		if n > c.perMinute || n < c.perMinute-1 {
			t.Errorf("%s rate_limit %d: %d requests in a minute, want at most %d (and close to it)", c.format, c.rateLimit, n, c.perMinute)
		}
	}
}
