package retention

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeStore struct {
	mu     sync.Mutex
	left   int
	calls  int
	before []time.Time
}

func (f *fakeStore) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.before = append(f.before, before)
	n := min(limit, f.left)
	f.left -= n
	return n, nil
}

func TestRunOnceBatchesUntilShort(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	f := &fakeStore{left: 2500}
	w := New(Options{Store: f, Retention: 48 * time.Hour, Batch: 1000, Pause: time.Millisecond, Now: func() time.Time { return now }})
	if n := w.RunOnce(context.Background()); n != 2500 {
		t.Fatalf("pruned %d, want 2500", n)
	}
	if f.calls != 3 {
		t.Fatalf("%d batches, want 3 (1000, 1000, 500)", f.calls)
	}
	if !f.before[0].Equal(now.Add(-48 * time.Hour)) {
		t.Fatalf("cut-off %v", f.before[0])
	}
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	f := &fakeStore{left: 10}
	w := New(Options{Store: f, Every: time.Hour})
	w.Start(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		c := f.calls
		f.mu.Unlock()
		if c > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pruning run at start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.Stop()
}
