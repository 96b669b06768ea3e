package dispatch

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
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
	if limit, burst := rateOf(w); burst > 0 {
		// The bucket survives reloads of an unchanged limit, so a refresh
		// does not hand out a fresh burst.
		if old := c.m[id]; old != nil && old.limiter != nil && old.limiter.Limit() == limit && old.limiter.Burst() == burst {
			e.limiter = old.limiter
		} else {
			e.limiter = rate.NewLimiter(limit, burst)
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

// rateOf is the token bucket of w's rate_limit: rate_limit per second with a
// burst of rate_limit. A chat robot whose platform limits it per minute
// (DingTalk, WeCom 20, Feishu 100: format.ChatPerMinute) and whose rate_limit
// is the platform default (1/s, the least rate_limit can say) is spaced so
// that no 60 s window holds more than the platform allows: a burst of one and
// perMinute-1 more per minute. burst 0: no limit.
func rateOf(w *herald.Webhook) (rate.Limit, int) {
	if pm := format.ChatPerMinute(w.Format); pm > 1 && w.RateLimit <= 1 {
		return rate.Limit(float64(pm-1) / 60), 1
	}
	if w.RateLimit > 0 {
		return rate.Limit(w.RateLimit), w.RateLimit
	}
	return 0, 0
}
