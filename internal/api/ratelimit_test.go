package api

import (
	"testing"
	"time"
)

func TestTokenLimiter(t *testing.T) {
	t.Parallel()
	if newTokenLimiter(0, 10) != nil {
		t.Fatal("rate 0 must mean no limiter")
	}
	l := newTokenLimiter(10, 20) // 10 events/s, 20 saved up
	now := time.Unix(1_700_000_000, 0)
	if _, ok := l.take("a", 20, now); !ok {
		t.Fatal("a full bucket refused its burst")
	}
	wait, ok := l.take("a", 1, now)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("empty bucket: ok %v wait %s, want a refusal and 100ms", ok, wait)
	}
	if _, ok := l.take("b", 5, now); !ok {
		t.Fatal("another token shares the bucket of the first")
	}
	if _, ok := l.take("a", 1, now.Add(100*time.Millisecond)); !ok {
		t.Fatal("no refill after 100ms at 10/s")
	}
	// A batch larger than the burst costs the burst: it passes once full.
	wait, ok = l.take("a", 1000, now.Add(200*time.Millisecond))
	if ok || wait < time.Second {
		t.Fatalf("batch of 1000 on an almost empty bucket: ok %v wait %s", ok, wait)
	}
	if _, ok := l.take("a", 1000, now.Add(10*time.Second)); !ok {
		t.Fatal("a batch larger than the burst can never pass")
	}
	// A refusal charges nothing.
	l2 := newTokenLimiter(1, 3)
	l2.take("x", 2, now)
	if _, ok := l2.take("x", 3, now); ok {
		t.Fatal("3 taken from a bucket of 1")
	}
	if _, ok := l2.take("x", 1, now); !ok {
		t.Fatal("the refused request was charged")
	}
}

func TestTokenLimiterSweep(t *testing.T) {
	t.Parallel()
	l := newTokenLimiter(1000, 1)
	now := time.Unix(1_700_000_000, 0)
	for i := range maxBuckets + 10 {
		l.take(string(rune('a'+i%26))+time.Duration(i).String(), 1, now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept, at most %d", n, maxBuckets)
	}
}
