// Package retry is Herald's retry policy: given how many attempts a delivery
// has had, when the next one is due. It is pure (no clock, no I/O): the
// caller passes now and the endpoint's Retry-After, and may inject the random
// source, so the dispatcher's arithmetic is table-tested.
//
// A schedule lists the wait before each attempt, the first included:
// Schedule[0] is the wait before the first attempt (0: at once), Schedule[i]
// the wait after attempt i before attempt i+1. A schedule of n entries allows
// n attempts.
package retry

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the SPEC's schedule: at once, then 5s, 5m, 30m, 2h, 5h,
// 10h and 10h, i.e. 8 attempts over about 28 hours. Treat it as read-only;
// Policy copies nothing.
var DefaultSchedule = []time.Duration{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// DefaultJitter spreads each scheduled wait by ±20%, so deliveries that
// failed together (an endpoint outage) do not retry together.
const DefaultJitter = 0.2

// Policy decides when a failed delivery is tried again. The zero value is
// the default policy. A Policy is safe for concurrent use if Rand is.
type Policy struct {
	// Schedule is the wait before each attempt, the first included (see the
	// package doc). Defaults to DefaultSchedule.
	Schedule []time.Duration
	// Jitter is the fraction by which a scheduled wait is spread at random:
	// 0.2 makes a 5m wait anything in [4m, 6m). Waits of 0 are never
	// jittered. Defaults to DefaultJitter when 0; a negative value disables
	// jitter; values above 1 are treated as 1.
	Jitter float64
	// Rand returns a number in [0, 1). Defaults to math/rand/v2's Float64.
	// Inject a constant in tests (0.5 means no jitter).
	Rand func() float64
}

// schedule returns the effective schedule.
func (p Policy) schedule() []time.Duration {
	if len(p.Schedule) == 0 {
		return DefaultSchedule
	}
	return p.Schedule
}

// MaxAttempts is how many attempts a round allows: maxAttempts when
// positive (a per-webhook override), else the length of the schedule.
func (p Policy) MaxAttempts(maxAttempts int) int {
	if maxAttempts > 0 {
		return maxAttempts
	}
	return len(p.schedule())
}

// MaxWait is the longest wait of the schedule; a Retry-After is capped to it,
// so an endpoint cannot park a delivery for days.
func (p Policy) MaxWait() time.Duration {
	var m time.Duration
	for _, d := range p.schedule() {
		m = max(m, d)
	}
	return m
}

// Next returns when the next attempt is due, or ok=false when the round is
// over and the delivery has failed.
//
// attemptsMade counts the attempts already made in this round (1 after the
// first failure). maxAttempts is the webhook's max_attempts; <= 0 means the
// length of the schedule. A maxAttempts beyond the schedule repeats its last
// wait. retryAfter is the endpoint's Retry-After (0 if none): it is honoured
// when longer than the jittered scheduled wait, capped by MaxWait, and is not
// itself jittered, since the endpoint asked for that time.
func (p Policy) Next(attemptsMade, maxAttempts int, now time.Time, retryAfter time.Duration) (next time.Time, ok bool) {
	attemptsMade = max(attemptsMade, 0)
	if attemptsMade >= p.MaxAttempts(maxAttempts) {
		return time.Time{}, false
	}
	sched := p.schedule()
	wait := p.jitter(sched[min(attemptsMade, len(sched)-1)])
	if retryAfter > wait {
		wait = max(wait, min(retryAfter, p.MaxWait()))
	}
	return now.Add(wait), true
}

// jitter spreads d by ±Jitter.
func (p Policy) jitter(d time.Duration) time.Duration {
	j := p.Jitter
	switch {
	case d <= 0 || j < 0:
		return max(d, 0)
	case j == 0:
		j = DefaultJitter
	case j > 1:
		j = 1
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	f := 1 + j*(2*r()-1)
	return time.Duration(float64(d) * f)
}

// ParseSchedule reads the HERALD_RETRY_SCHEDULE / delivery.retry_schedule
// form: a comma-separated list of the waits BETWEEN attempts. The first
// attempt is always at once and is not listed, so "1s,1s,1s" means four
// attempts: at once, then after 1s, 1s and 1s. The result is a full schedule
// (leading 0 included) for Policy.Schedule. Blanks around items are ignored;
// an empty list, an unparsable or a negative duration is an error.
func ParseSchedule(s string) ([]time.Duration, error) {
	var waits []time.Duration
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		d, err := time.ParseDuration(item)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry schedule: %q is not a duration like 5s or 2h", item)
		}
		waits = append(waits, d)
	}
	return FromWaits(waits), nil
}

// FromWaits turns a list of waits between attempts (what config.RetryWaits
// returns) into a full schedule by prepending the immediate first attempt.
// An empty list gives nil, which Policy reads as DefaultSchedule.
func FromWaits(waits []time.Duration) []time.Duration {
	if len(waits) == 0 {
		return nil
	}
	return append([]time.Duration{0}, waits...)
}
