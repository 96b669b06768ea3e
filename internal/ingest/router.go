package ingest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/match"
	"github.com/herald-hq/herald/internal/store"
)

// Router holds the compiled matchers of every enabled webhook. It is rebuilt
// from the store when a webhook changes on this node (Invalidate) and every
// RefreshEvery, so that changes made on other nodes arrive too. Matching is
// compiled once per change, never per event.
type Router struct {
	store        store.Store
	refreshEvery time.Duration

	mu       sync.Mutex // serializes reloads
	current  atomic.Pointer[routes]
	dirty    atomic.Bool
	loadedAt atomic.Int64
}

type routes struct {
	matchers []*match.Matcher
}

// NewRouter returns a router over s. refreshEvery defaults to 2s.
func NewRouter(s store.Store, refreshEvery time.Duration) *Router {
	if refreshEvery <= 0 {
		refreshEvery = 2 * time.Second
	}
	r := &Router{store: s, refreshEvery: refreshEvery}
	r.dirty.Store(true)
	return r
}

// Invalidate makes the next Match reload the webhooks.
func (r *Router) Invalidate() { r.dirty.Store(true) }

// Match returns the IDs of the enabled webhooks that get ev.
func (r *Router) Match(ctx context.Context, ev *herald.Event) ([]string, error) {
	rt, err := r.routes(ctx)
	if err != nil {
		return nil, err
	}
	in := &match.Input{Event: ev}
	var ids []string
	for _, m := range rt.matchers {
		if m.Match(in) {
			ids = append(ids, m.WebhookID)
		}
	}
	return ids, nil
}

func (r *Router) routes(ctx context.Context) (*routes, error) {
	rt := r.current.Load()
	stale := time.Since(time.Unix(0, r.loadedAt.Load())) > r.refreshEvery
	if rt != nil && !r.dirty.Load() && !stale {
		return rt, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rt = r.current.Load()
	stale = time.Since(time.Unix(0, r.loadedAt.Load())) > r.refreshEvery
	if rt != nil && !r.dirty.Load() && !stale {
		return rt, nil
	}
	r.dirty.Store(false)
	ws, err := r.store.ListWebhooks(ctx, store.WebhookFilter{EnabledOnly: true})
	if err != nil {
		r.dirty.Store(true)
		if rt != nil {
			return rt, nil // keep routing with the last known set while the store hiccups
		}
		return nil, err
	}
	nrt := &routes{matchers: make([]*match.Matcher, 0, len(ws))}
	for _, w := range ws {
		nrt.matchers = append(nrt.matchers, match.Compile(w))
	}
	r.current.Store(nrt)
	r.loadedAt.Store(time.Now().UnixNano())
	return nrt, nil
}
