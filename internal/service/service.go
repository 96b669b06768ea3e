// Package service holds Herald's application rules: who may do what, how
// webhooks are validated and normalized, how events are published, how
// deliveries are retried. The JSON API and the web console are two thin
// front ends over it, so the rules exist once.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/dispatch"
	"github.com/herald-hq/herald/internal/store"
)

// Engine is what the service needs of the delivery engine.
type Engine interface {
	// SendTest sends sample (herald.test when nil) to w now.
	SendTest(ctx context.Context, w *herald.Webhook, sample *herald.Event, record bool) (*dispatch.TestResult, error)
	Wake()
	InvalidateWebhook(id string)
}

// Ingester stores events durably.
type Ingester interface {
	Ingest(ctx context.Context, events []*herald.Event) ([]store.IngestItemResult, error)
}

// Options configure a Service.
type Options struct {
	Store    store.Store
	Ingester Ingester
	Engine   Engine
	// Challenger runs the ownership challenge of webhooks with a
	// challenge_secret on create, update and verify.
	Challenger Challenger
	// Targets checks webhook URLs against the SSRF guard when saved: this
	// node's own address is refused, other refused targets get a warning.
	// Optional.
	Targets TargetChecker
	// OnWebhookChange is called after a webhook is created, changed or
	// deleted (the router recompiles its matchers).
	OnWebhookChange func(id string)
	Now             func() time.Time
	// LoginLimits override the console sign-in throttle (tests).
	LoginLimits LoginLimits
	// AlertmanagerExternalURL is the externalURL of Alertmanager
	// notifications that carry none.
	AlertmanagerExternalURL string
}

// Service is the application layer.
type Service struct {
	o      Options
	tokens tokenCache
	logins *loginGuard
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnWebhookChange == nil {
		o.OnWebhookChange = func(string) {}
	}
	return &Service{o: o, tokens: tokenCache{m: map[string]cachedToken{}}, logins: newLoginGuard(o.LoginLimits)}
}

// Store gives read access for front ends that show plain data.
func (s *Service) Store() store.Store { return s.o.Store }

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// HashToken is how tokens are stored: hex SHA-256 of the bearer value.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// NewTokenValue returns a new bearer token value ("hrld_" + 32 random bytes).
func NewTokenValue() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "hrld_" + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate returns the principal of a bearer token value; EUnauthorized
// when it is unknown or revoked.
func (s *Service) Authenticate(ctx context.Context, tok string) (*Principal, error) {
	hash := HashToken(tok)
	now := s.o.Now()
	if t := s.tokens.get(hash, now); t != nil {
		return &Principal{Token: t}, nil
	}
	t, err := s.o.Store.TokenByHash(ctx, hash)
	if err != nil {
		if herald.ErrorCode(err) == herald.ENotFound {
			return nil, herald.ErrorfKey(herald.EUnauthorized, "token.invalid", nil, "invalid or revoked token")
		}
		return nil, err
	}
	s.tokens.put(hash, t, now)
	return &Principal{Token: t}, nil
}

// tokenCache avoids a database read per request. Entries live 10s; deleting
// a token on this node evicts it at once.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	t   *herald.Token
	exp time.Time
}

func (c *tokenCache) get(hash string, now time.Time) *herald.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.After(e.exp) {
		return nil
	}
	return e.t
}

func (c *tokenCache) put(hash string, t *herald.Token, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[hash] = cachedToken{t: t, exp: now.Add(10 * time.Second)}
}

func (c *tokenCache) evict(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.t.ID == id {
			delete(c.m, h)
		}
	}
}
