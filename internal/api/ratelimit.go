package api

import (
	"math"
	"sync"
	"time"
)

// maxBuckets bounds the limiter's memory: past it, buckets that have
// refilled completely (the same as no bucket) are dropped.
const maxBuckets = 10000

// tokenLimiter is a token bucket per API token ID: rate events per second,
// at most burst saved up. A batch costs one per event, capped at burst so
// the largest batch can always pass once the bucket is full.
type tokenLimiter struct {
	rate  float64
	burst int

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	at     time.Time
}

// newTokenLimiter returns nil (no limit) when rate is not positive. burst
// defaults to max(2×rate, 1).
func newTokenLimiter(rate float64, burst int) *tokenLimiter {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return nil
	}
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(2*rate)))
	}
	return &tokenLimiter{rate: rate, burst: burst, buckets: make(map[string]*tokenBucket)}
}

// take charges n (at least 1, at most burst) to key's bucket at now. When
// the bucket holds too little it charges nothing and returns how long until
// it would hold enough.
func (l *tokenLimiter) take(key string, n int, now time.Time) (time.Duration, bool) {
	cost := float64(min(max(n, 1), l.burst))
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
		}
		b = &tokenBucket{tokens: float64(l.burst), at: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(float64(l.burst), b.tokens+elapsed.Seconds()*l.rate)
		b.at = now
	}
	if b.tokens >= cost {
		b.tokens -= cost
		return 0, true
	}
	wait := time.Duration((cost - b.tokens) / l.rate * float64(time.Second))
	return wait, false
}

// sweepLocked drops the buckets that are full by now.
func (l *tokenLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}
