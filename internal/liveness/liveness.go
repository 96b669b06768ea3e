// Package liveness keeps a node's liveness record and takes over the work of
// nodes that died.
//
// Nodes sharing a PostgreSQL database each write a heartbeat every few
// seconds (store.Heartbeat). A node whose heartbeat is older than DeadAfter
// is dead: any live node releases its leases (store.ReleaseDeadNodes), so
// its claimed deliveries are sent again within seconds instead of when their
// leases expire. A node's leases are recognised by their token, which starts
// with the node's identity (see store.LeaseNode).
//
// A live node is never taken for dead as long as it can reach the database:
// the timeout is five heartbeats. And a node only judges others once its own
// heartbeats have succeeded for a whole DeadAfter window: after an outage of
// the database every node gets the time to beat again before anyone decides.
package liveness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-hq/herald/internal/store"
)

// Store is what the worker needs of the store.
type Store interface {
	Heartbeat(ctx context.Context, node, instance string, now time.Time) (prev string, err error)
	ReleaseDeadNodes(ctx context.Context, deadBefore, now time.Time) ([]store.ReleasedNode, error)
}

// Options configure a Worker.
type Options struct {
	Store Store
	// Node is this node's identity (config node_id). Required.
	Node string
	// Instance identifies this process among the starts of Node. Defaults to
	// a random value.
	Instance string
	// Every is the heartbeat interval. Defaults to 2s.
	Every time.Duration
	// DeadAfter is how old a heartbeat must be for its node to count as dead.
	// Defaults to 10s; at least 3 heartbeats.
	DeadAfter time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// Worker beats and watches. Start runs it, Stop ends it.
type Worker struct {
	o      Options
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// healthySince is when the current run of successful heartbeats began
	// (zero after a failure).
	healthySince time.Time
	// warnedDup is when a second process with this identity was last
	// reported.
	warnedDup time.Time
}

// New returns a Worker.
func New(o Options) *Worker {
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.DeadAfter <= 0 {
		o.DeadAfter = 10 * time.Second
	}
	o.DeadAfter = max(o.DeadAfter, 3*o.Every)
	if o.Instance == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Instance = hex.EncodeToString(b[:])
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Worker{o: o}
}

// Start writes the first heartbeat, so that a node that cannot reach the
// database fails to start, then beats and watches in the background until
// Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) error {
	if w.o.Node == "" {
		return errors.New("liveness: Options.Node is required")
	}
	if err := w.beat(ctx, true); err != nil {
		return err
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.loop(ctx)
	return nil
}

// Stop ends the worker and waits for it. The liveness record stays: it ages
// out, and a live node removes it after DeadAfter (releasing nothing, since
// a node that stops cleanly releases its own leases).
func (w *Worker) Stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	<-w.done
}

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.o.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.beat(ctx, false); err != nil {
			if ctx.Err() == nil {
				w.o.Logger.Warn("liveness: heartbeat failed", "node", w.o.Node, "err", err)
			}
			continue
		}
		w.releaseDead(ctx)
	}
}

// beat writes the heartbeat, bounded by the interval.
func (w *Worker) beat(ctx context.Context, first bool) error {
	ctx, cancel := context.WithTimeout(ctx, w.o.Every)
	defer cancel()
	now := w.o.Now().UTC()
	prev, err := w.o.Store.Heartbeat(ctx, w.o.Node, w.o.Instance, now)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.healthySince = time.Time{}
		return err
	}
	if w.healthySince.IsZero() {
		w.healthySince = now
	}
	if !first && prev != w.o.Instance && now.Sub(w.warnedDup) >= time.Minute {
		// Another process wrote this node's record since our last beat.
		w.warnedDup = now
		w.o.Logger.Error("liveness: another Herald process uses the same node_id; give each node its own (HERALD_NODE_ID), or they release each other's deliveries when they start",
			"node", w.o.Node, "other_instance", prev)
	}
	return nil
}

// releaseDead releases the leases of nodes whose heartbeat is older than
// DeadAfter, once this node has itself been beating for that long.
func (w *Worker) releaseDead(ctx context.Context) {
	now := w.o.Now().UTC()
	w.mu.Lock()
	since := w.healthySince
	w.mu.Unlock()
	if since.IsZero() || now.Sub(since) < w.o.DeadAfter {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.o.Every)
	defer cancel()
	rel, err := w.o.Store.ReleaseDeadNodes(ctx, now.Add(-w.o.DeadAfter), now)
	if err != nil {
		if ctx.Err() == nil {
			w.o.Logger.Warn("liveness: checking for dead nodes failed", "err", err)
		}
		return
	}
	for _, r := range rel {
		lvl := slog.LevelInfo
		if r.Leases == 0 {
			lvl = slog.LevelDebug // stopped cleanly: nothing to take over
		}
		w.o.Logger.Log(ctx, lvl, "liveness: node stopped beating; its deliveries are released to every node",
			"node", r.ID, "last_heartbeat", r.LastHeartbeat, "released", r.Leases)
	}
}
