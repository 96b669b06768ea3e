// Package retention prunes old delivery records: finished deliveries (and
// their attempts, and events nothing refers to any more) whose last change
// is older than the retention period. It works in bounded batches with a
// pause between them, so it never holds the database for long and delivery
// goes on meanwhile. On PostgreSQL the store lets one node prune at a time.
package retention

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Pruner is the store method this package needs.
type Pruner interface {
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Options configure a Worker.
type Options struct {
	Store Pruner
	// Retention is how long finished deliveries are kept. Defaults to 30 days.
	Retention time.Duration
	// Every is how often a pruning run starts. Defaults to 10m.
	Every time.Duration
	// Batch is the most deliveries deleted per transaction. Defaults to 1000.
	Batch int
	// Pause is the wait between batches of one run. Defaults to 50ms.
	Pause  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Worker runs pruning in the background.
type Worker struct {
	o      Options
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Worker; Start runs it.
func New(o Options) *Worker {
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Pause <= 0 {
		o.Pause = 50 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Worker{o: o}
}

// Start runs a pruning pass at once and then every Options.Every, until Stop.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.o.Every)
		defer t.Stop()
		for {
			w.RunOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the worker and waits for it.
func (w *Worker) Stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// RunOnce prunes in batches until a batch comes back short; it returns how
// many deliveries were deleted.
func (w *Worker) RunOnce(ctx context.Context) int {
	before := w.o.Now().Add(-w.o.Retention)
	total := 0
	for ctx.Err() == nil {
		n, err := w.o.Store.Prune(ctx, before, w.o.Batch)
		if err != nil {
			if ctx.Err() == nil {
				w.o.Logger.Error("prune old deliveries", "err", err)
			}
			break
		}
		total += n
		if n < w.o.Batch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.o.Pause):
		}
	}
	if total > 0 {
		w.o.Logger.Info("pruned old deliveries", "count", total, "older_than", before.UTC().Format(time.RFC3339))
	}
	return total
}
