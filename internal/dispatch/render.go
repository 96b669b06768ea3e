package dispatch

import (
	"sync"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// renderCacheSize bounds renderCache: about one claim's worth of events in
// a few languages (a 1 KiB event's envelope is about 1.2 KiB).
const renderCacheSize = 1024

// renderCache keeps the standard envelope of recently sent events, by event
// and language: the deliveries of one event to webhooks of the standard
// format get the same body (it depends on nothing else of the webhook), and
// encoding it (its data compacted and escaped again) was most of what
// rendering cost. The deliveries of a claim share their *herald.Event, which
// is what the key holds; bodies are read-only once made.
type renderCache struct {
	mu sync.Mutex
	m  map[renderKey]format.Rendered
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
	r, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := format.Render(w, ev)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= renderCacheSize {
		// Full: start over rather than track age; the entries of the
		// claims in flight come back on their next use.
		c.m = make(map[renderKey]format.Rendered, renderCacheSize)
	}
	c.m[k] = r
	c.mu.Unlock()
	return r, nil
}
