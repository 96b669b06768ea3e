package retry

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fixed returns a Rand that always answers v: 0.5 means no jitter, 0 the
// shortest and 0.999… the longest wait.
func fixed(v float64) func() float64 { return func() float64 { return v } }

func TestNext(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	short := []time.Duration{0, time.Second, 10 * time.Second}
	cases := []struct {
		name         string
		policy       Policy
		attemptsMade int
		maxAttempts  int
		retryAfter   time.Duration
		wantWait     time.Duration
		wantOK       bool
	}{
		{name: "first attempt at once", policy: Policy{Rand: fixed(0)}, attemptsMade: 0, wantWait: 0, wantOK: true},
		{name: "after first failure 5s", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 1, wantWait: 5 * time.Second, wantOK: true},
		{name: "after second 5m", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 2, wantWait: 5 * time.Minute, wantOK: true},
		{name: "third 30m", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 3, wantWait: 30 * time.Minute, wantOK: true},
		{name: "fourth 2h", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 4, wantWait: 2 * time.Hour, wantOK: true},
		{name: "fifth 5h", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 5, wantWait: 5 * time.Hour, wantOK: true},
		{name: "sixth 10h", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 6, wantWait: 10 * time.Hour, wantOK: true},
		{name: "seventh 10h", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 7, wantWait: 10 * time.Hour, wantOK: true},
		{name: "eight made: exhausted", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 8, wantOK: false},
		{name: "beyond: exhausted", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 20, wantOK: false},
		{name: "negative counts as none", policy: Policy{Rand: fixed(0.5)}, attemptsMade: -1, wantWait: 0, wantOK: true},

		{name: "default jitter low edge", policy: Policy{Rand: fixed(0)}, attemptsMade: 2, wantWait: 4 * time.Minute, wantOK: true},
		{name: "default jitter high edge", policy: Policy{Rand: fixed(1)}, attemptsMade: 2, wantWait: 6 * time.Minute, wantOK: true},
		{name: "custom jitter", policy: Policy{Jitter: 0.5, Rand: fixed(0)}, attemptsMade: 1, wantWait: 2500 * time.Millisecond, wantOK: true},
		{name: "jitter above 1 clamped", policy: Policy{Jitter: 3, Rand: fixed(1)}, attemptsMade: 1, wantWait: 10 * time.Second, wantOK: true},
		{name: "negative jitter disables", policy: Policy{Jitter: -1, Rand: fixed(0)}, attemptsMade: 1, wantWait: 5 * time.Second, wantOK: true},
		{name: "zero wait never jittered", policy: Policy{Schedule: []time.Duration{0, 0, time.Second}, Rand: fixed(1)}, attemptsMade: 1, wantWait: 0, wantOK: true},

		{name: "max_attempts shortens", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 3, maxAttempts: 3, wantOK: false},
		{name: "max_attempts below reached", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 2, maxAttempts: 3, wantWait: 5 * time.Minute, wantOK: true},
		{name: "max_attempts 1: no retry", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 1, maxAttempts: 1, wantOK: false},
		{name: "max_attempts extends with last wait", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 10, maxAttempts: 12, wantWait: 10 * time.Hour, wantOK: true},
		{name: "extended round ends", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 12, maxAttempts: 12, wantOK: false},

		{name: "Retry-After longer than wait", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 1, retryAfter: time.Minute, wantWait: time.Minute, wantOK: true},
		{name: "Retry-After not jittered", policy: Policy{Rand: fixed(0)}, attemptsMade: 1, retryAfter: time.Minute, wantWait: time.Minute, wantOK: true},
		{name: "Retry-After shorter than wait ignored", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 2, retryAfter: time.Minute, wantWait: 5 * time.Minute, wantOK: true},
		{name: "Retry-After capped by schedule max", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 1, retryAfter: 48 * time.Hour, wantWait: 10 * time.Hour, wantOK: true},
		{name: "Retry-After capped, short schedule", policy: Policy{Schedule: short, Rand: fixed(0.5)}, attemptsMade: 1, retryAfter: time.Hour, wantWait: 10 * time.Second, wantOK: true},
		{name: "Retry-After never shortens a jittered wait", policy: Policy{Schedule: short, Rand: fixed(1)}, attemptsMade: 2, retryAfter: time.Hour, wantWait: 12 * time.Second, wantOK: true},
		{name: "Retry-After cannot revive an exhausted round", policy: Policy{Rand: fixed(0.5)}, attemptsMade: 8, retryAfter: time.Second, wantOK: false},
		{name: "custom schedule", policy: Policy{Schedule: short, Rand: fixed(0.5)}, attemptsMade: 2, wantWait: 10 * time.Second, wantOK: true},
		{name: "custom schedule exhausted", policy: Policy{Schedule: short, Rand: fixed(0.5)}, attemptsMade: 3, wantOK: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next, ok := tc.policy.Next(tc.attemptsMade, tc.maxAttempts, now, tc.retryAfter)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v (next %v)", ok, tc.wantOK, next)
			}
			if !ok {
				if !next.IsZero() {
					t.Errorf("next = %v on exhaustion, want zero time", next)
				}
				return
			}
			// fixed(1) is outside [0, 1); allow the rounding of float maths.
			if got := next.Sub(now); (got - tc.wantWait).Abs() > time.Microsecond {
				t.Errorf("wait = %v, want %v", got, tc.wantWait)
			}
		})
	}
}

// TestJitterBounds uses the real random source: every wait stays within
// ±20% and the waits are actually spread.
func TestJitterBounds(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	var p Policy
	seen := map[time.Duration]bool{}
	for range 1000 {
		next, ok := p.Next(2, 0, now, 0)
		if !ok {
			t.Fatal("exhausted")
		}
		w := next.Sub(now)
		if w < 4*time.Minute || w > 6*time.Minute {
			t.Fatalf("wait %v outside 5m ±20%%", w)
		}
		seen[w] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct waits in 1000 draws", len(seen))
	}
}

// TestConcurrentDefaultRand runs Next from many goroutines with the default
// random source (run with -race).
func TestConcurrentDefaultRand(t *testing.T) {
	t.Parallel()
	var p Policy
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				p.Next(i%8, 0, time.Now(), 0)
			}
		})
	}
	wg.Wait()
}

// TestRound walks a whole round the way the dispatcher does: call Next
// after each failure until it says stop.
func TestRound(t *testing.T) {
	t.Parallel()
	p := Policy{Rand: fixed(0.5)}
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	start := clock
	attempts := 0
	for {
		next, ok := p.Next(attempts, 0, clock, 0)
		if !ok {
			break
		}
		clock = next
		attempts++ // the attempt at clock fails
	}
	if attempts != 8 {
		t.Errorf("attempts = %d, want 8", attempts)
	}
	if got, want := clock.Sub(start), 5*time.Second+5*time.Minute+30*time.Minute+17*time.Hour+10*time.Hour; got != want {
		t.Errorf("round lasted %v, want %v", got, want)
	}
}

func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	var p Policy
	if got := p.MaxAttempts(0); got != 8 {
		t.Errorf("MaxAttempts(0) = %d, want 8", got)
	}
	if got := p.MaxAttempts(-3); got != 8 {
		t.Errorf("MaxAttempts(-3) = %d, want 8", got)
	}
	if got := p.MaxAttempts(3); got != 3 {
		t.Errorf("MaxAttempts(3) = %d, want 3", got)
	}
	if got := p.MaxWait(); got != 10*time.Hour {
		t.Errorf("MaxWait = %v, want 10h", got)
	}
	if got := (Policy{Schedule: []time.Duration{0, time.Minute, time.Second}}).MaxWait(); got != time.Minute {
		t.Errorf("MaxWait of an unsorted schedule = %v, want 1m", got)
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    []time.Duration
		wantErr bool
	}{
		{in: "1s,1s,1s", want: []time.Duration{0, time.Second, time.Second, time.Second}},
		{in: "5s, 5m ,30m,2h,5h,10h,10h", want: DefaultSchedule},
		{in: "0s,250ms", want: []time.Duration{0, 0, 250 * time.Millisecond}},
		{in: "1h30m", want: []time.Duration{0, 90 * time.Minute}},
		{in: "", wantErr: true},
		{in: "1s,,1s", wantErr: true},
		{in: "1s,", wantErr: true},
		{in: "5", wantErr: true},
		{in: "-1s", wantErr: true},
		{in: "soon", wantErr: true},
	}
	for _, tc := range cases {
		got, err := ParseSchedule(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseSchedule(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseSchedule(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// "1s,1s,1s" is four attempts: at once and three retries.
	s, err := ParseSchedule("1s,1s,1s")
	if err != nil {
		t.Fatal(err)
	}
	if got := (Policy{Schedule: s}).MaxAttempts(0); got != 4 {
		t.Errorf("attempts for 1s,1s,1s = %d, want 4", got)
	}
}

func TestFromWaits(t *testing.T) {
	t.Parallel()
	if got := FromWaits(nil); got != nil {
		t.Errorf("FromWaits(nil) = %v, want nil (the default schedule)", got)
	}
	waits := []time.Duration{time.Second, time.Minute}
	got := FromWaits(waits)
	if !slices.Equal(got, []time.Duration{0, time.Second, time.Minute}) {
		t.Errorf("FromWaits = %v", got)
	}
	got[1] = time.Hour
	if waits[0] != time.Second {
		t.Error("FromWaits aliases its input")
	}
}
