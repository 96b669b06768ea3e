package service

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-hq/herald"
)

// Login throttling: after loginMaxFailures failed password logins for one
// username within loginWindow, further attempts for that username are
// refused (429) until the window has passed since the last failure. Per
// node, in memory: it slows online guessing; bcrypt slows the rest.
const (
	loginMaxFailures = 5
	loginWindow      = 15 * time.Minute
)

type loginGuard struct {
	mu       sync.Mutex
	failures map[string]*loginFailures
}

type loginFailures struct {
	n    int
	last time.Time
}

func (g *loginGuard) key(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

// check refuses a username that has failed too often recently.
func (g *loginGuard) check(username string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.failures[g.key(username)]
	if f == nil || now.Sub(f.last) >= loginWindow {
		return nil
	}
	if f.n >= loginMaxFailures {
		wait := loginWindow - now.Sub(f.last)
		return herald.ErrorfKey(herald.ERateLimited, "login.throttled", herald.Args{"minutes": strconv.Itoa(int(wait.Minutes()) + 1)}, "too many failed logins for this user; try again in %d minutes", int(wait.Minutes())+1)
	}
	return nil
}

func (g *loginGuard) fail(username string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures == nil {
		g.failures = map[string]*loginFailures{}
	}
	if len(g.failures) > 100000 {
		clear(g.failures) // bounded memory under a spray of usernames
	}
	k := g.key(username)
	f := g.failures[k]
	if f == nil || now.Sub(f.last) >= loginWindow {
		f = &loginFailures{}
		g.failures[k] = f
	}
	f.n++
	f.last = now
}

func (g *loginGuard) succeed(username string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.failures, g.key(username))
}
