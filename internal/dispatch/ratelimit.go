package dispatch

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, holding at most burst.
// reserve takes one token and says how long to wait until it is really
// available, so callers space requests evenly instead of bursting.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(perSecond int) *bucket {
	r := float64(perSecond)
	return &bucket{rate: r, burst: max(1, r), tokens: max(1, r)}
}

func (b *bucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
