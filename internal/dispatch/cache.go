package dispatch

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/signing"
)

// webhookCache keeps webhooks (with their signer, built once) for ttl, so the
// hot path does not read the webhook for every delivery. Changes on this node
// invalidate at once; changes on other nodes arrive within ttl.
type webhookCache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*cachedWebhook
}

type cachedWebhook struct {
	*herald.Webhook
	signer *signing.Signer
	// limiter spaces requests to rate_limit per second (burst rate_limit);
	// nil without rate_limit.
	limiter  *rate.Limiter
	loadedAt time.Time
}

func newWebhookCache(s Store, ttl time.Duration, now func() time.Time) *webhookCache {
	return &webhookCache{store: s, ttl: ttl, now: now, m: map[string]*cachedWebhook{}}
}

func (c *webhookCache) get(ctx context.Context, id string) (*cachedWebhook, error) {
	now := c.now()
	c.mu.Lock()
	e := c.m[id]
	fresh := e != nil && now.Sub(e.loadedAt) < c.ttl && !e.graceEnded(now)
	c.mu.Unlock()
	if fresh {
		return e, nil
	}
	w, err := c.store.GetWebhook(ctx, id)
	if err != nil {
		if herald.ErrorCode(err) == herald.ENotFound {
			c.mu.Lock()
			delete(c.m, id) // a deleted webhook leaves nothing behind
			c.mu.Unlock()
		}
		return nil, err
	}
	sg, err := signing.NewSigner(w.Secrets(now)...)
	if err != nil {
		return nil, err
	}
	e = &cachedWebhook{Webhook: w, signer: sg, loadedAt: now}
	c.mu.Lock()
	if w.RateLimit > 0 {
		// The bucket survives reloads of an unchanged limit, so a refresh
		// does not hand out a fresh burst.
		if old := c.m[id]; old != nil && old.limiter != nil && old.RateLimit == w.RateLimit {
			e.limiter = old.limiter
		} else {
			e.limiter = rate.NewLimiter(rate.Limit(w.RateLimit), w.RateLimit)
		}
	}
	c.m[id] = e
	c.mu.Unlock()
	return e, nil
}

// graceEnded reports whether the entry's signer still holds a previous
// signing secret whose rotation grace period is over: it must be rebuilt at
// once, not when the TTL runs out.
func (e *cachedWebhook) graceEnded(now time.Time) bool {
	return e.PreviousSecret.IsSet() && e.loadedAt.Before(e.PreviousSecretUntil) && !now.Before(e.PreviousSecretUntil)
}

func (c *webhookCache) invalidate(id string) {
	c.mu.Lock()
	if e := c.m[id]; e != nil {
		// Keep the rate bucket across the reload; only the config is stale.
		e.loadedAt = time.Time{}
	}
	c.mu.Unlock()
}
