package dispatch

import (
	"sync"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// renderCacheSize bounds each of renderCache's two generations: an event
// is rendered once while its deliveries wait in memory (at most capacity
// rows, most of a handoff's events fanned out to several webhooks) in a few
// languages (a 1 KiB event's envelope is about 1.2 KiB).
const renderCacheSize = 2048

// renderCache keeps the standard envelope of recently sent events, by event
// and language: the deliveries of one event to webhooks of the standard
// format get the same body (it depends on nothing else of the webhook), and
// encoding it (its data compacted and escaped again) was most of what
// rendering cost. The deliveries of a claim share their *herald.Event, which
// is what the key holds; bodies are read-only once made. Entries live in two
// generations: when the current one is full it becomes the old one and the
// one before is dropped, so an entry in use is found again (moved back to
// the current one) however often the cache turns over, and memory stays
// bounded by two generations.
type renderCache struct {
	mu       sync.Mutex
	cur, old map[renderKey]format.Rendered
}

type renderKey struct {
	ev   *herald.Event
	lang string
}

// render is format.Render, from the cache for the standard format.
func (c *renderCache) render(w *herald.Webhook, ev *herald.Event) (format.Rendered, error) {
	if w.Format != "" && w.Format != herald.FormatStandard {
		return format.Render(w, ev)
	}
	k := renderKey{ev, w.Language}
	c.mu.Lock()
	r, ok := c.cur[k]
	if !ok {
		if r, ok = c.old[k]; ok {
			c.putLocked(k, r)
		}
	}
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := format.Render(w, ev)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	c.putLocked(k, r)
	c.mu.Unlock()
	return r, nil
}

func (c *renderCache) putLocked(k renderKey, r format.Rendered) {
	if c.cur == nil || len(c.cur) >= renderCacheSize {
		c.old, c.cur = c.cur, make(map[renderKey]format.Rendered, renderCacheSize)
	}
	c.cur[k] = r
}
