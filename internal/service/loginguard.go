package service

import (
	"container/list"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-hq/herald"
)

// Console sign-in throttling. Failed logins are counted in two places:
//
//   - per (username, client address): after LoginMaxFailures failures the
//     username is refused from that address, even with the right password.
//     Other addresses are not affected, so nobody can lock a user out from
//     everywhere by guessing wrong on purpose.
//   - per client address: after LoginMaxAddrFailures failures (any usernames,
//     and failed token logins) every login from that address is refused.
//     This stops one password being sprayed over many usernames.
//
// A counter starts with a failure and grows with each further failure that
// comes within LoginWindow of the previous one; once at its limit, logins
// are refused until LoginWindow has passed since the last failure. A
// successful login clears its (username, address) counter but not the
// address's: knowing one account's password must not reset a spray.
//
// IPv6 clients are counted per /64 (one host usually holds a whole /64), and
// IPv4-mapped addresses as IPv4. The counters live in memory on each node:
// they slow online guessing; bcrypt slows the rest. Each table holds at most
// LoginMaxEntries counters; expired ones are dropped first, then the least
// recently failed.
const (
	LoginMaxFailures     = 5
	LoginMaxAddrFailures = 50
	LoginWindow          = 15 * time.Minute
	LoginMaxEntries      = 50000
)

// LoginLimits override the sign-in throttle's limits (tests); a zero field
// keeps its default (LoginMaxFailures, LoginMaxAddrFailures).
type LoginLimits struct {
	MaxFailures     int
	MaxAddrFailures int
}

type loginGuard struct {
	limits LoginLimits
	mu     sync.Mutex
	pairs  failureTable // username "\x00" address → failures
	addrs  failureTable // address → failures
}

func newLoginGuard(l LoginLimits) *loginGuard {
	if l.MaxFailures <= 0 {
		l.MaxFailures = LoginMaxFailures
	}
	if l.MaxAddrFailures <= 0 {
		l.MaxAddrFailures = LoginMaxAddrFailures
	}
	return &loginGuard{limits: l}
}

// clientKey is how a client address is counted: IPv4 as is, IPv6 by its
// /64, and an unknown address as "unknown" (all such clients share a counter).
func clientKey(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}

func pairKey(username string, from netip.Addr) string {
	return strings.ToLower(strings.TrimSpace(username)) + "\x00" + clientKey(from)
}

// checkAddr refuses a client address that has failed too often recently.
func (g *loginGuard) checkAddr(from netip.Addr, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait, locked := g.addrs.locked(clientKey(from), g.limits.MaxAddrFailures, now); locked {
		m := minutes(wait)
		return herald.ErrorfKey(herald.ERateLimited, "login.throttled_address", herald.Args{"minutes": strconv.Itoa(m)},
			"too many failed logins from this address; try again in %d minutes", m)
	}
	return nil
}

// check refuses a login from a client address that has failed too often, or
// for a username that has failed too often from that address.
func (g *loginGuard) check(username string, from netip.Addr, now time.Time) error {
	if err := g.checkAddr(from, now); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait, locked := g.pairs.locked(pairKey(username, from), g.limits.MaxFailures, now); locked {
		m := minutes(wait)
		return herald.ErrorfKey(herald.ERateLimited, "login.throttled", herald.Args{"minutes": strconv.Itoa(m)},
			"too many failed logins for this user; try again in %d minutes", m)
	}
	return nil
}

// fail counts a failed password login.
func (g *loginGuard) fail(username string, from netip.Addr, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pairs.fail(pairKey(username, from), now)
	g.addrs.fail(clientKey(from), now)
}

// failAddr counts a failed login that has no username (a token login).
func (g *loginGuard) failAddr(from netip.Addr, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addrs.fail(clientKey(from), now)
}

// succeed clears the (username, address) counter after a good password.
func (g *loginGuard) succeed(username string, from netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pairs.remove(pairKey(username, from))
}

// minutes rounds a wait up to whole minutes for the message.
func minutes(wait time.Duration) int { return int((wait + time.Minute - 1) / time.Minute) }

// failureTable counts failures per key with bounded memory: a map into a
// list ordered by last failure, most recent first, so that expired and
// least recently failed counters are dropped from the back in O(1).
// The zero value is ready; the caller holds the lock.
type failureTable struct {
	m     map[string]*list.Element
	order list.List // of *failures
	// max overrides LoginMaxEntries (tests).
	max int
}

type failures struct {
	key  string
	n    int
	last time.Time
}

// locked reports whether key has at least limit failures in its current
// window, and how long until the window ends.
func (t *failureTable) locked(key string, limit int, now time.Time) (time.Duration, bool) {
	e := t.m[key]
	if e == nil {
		return 0, false
	}
	f := e.Value.(*failures)
	since := now.Sub(f.last)
	if since >= LoginWindow || f.n < limit {
		return 0, false
	}
	return LoginWindow - since, true
}

func (t *failureTable) fail(key string, now time.Time) {
	t.expire(now)
	if e := t.m[key]; e != nil {
		f := e.Value.(*failures)
		if now.Sub(f.last) >= LoginWindow {
			f.n = 0
		}
		f.n++
		f.last = now
		t.order.MoveToFront(e)
		return
	}
	if t.m == nil {
		t.m = map[string]*list.Element{}
	}
	max := t.max
	if max <= 0 {
		max = LoginMaxEntries
	}
	for len(t.m) >= max {
		t.drop(t.order.Back())
	}
	t.m[key] = t.order.PushFront(&failures{key: key, n: 1, last: now})
}

// expire drops the counters whose window has ended.
func (t *failureTable) expire(now time.Time) {
	for e := t.order.Back(); e != nil && now.Sub(e.Value.(*failures).last) >= LoginWindow; e = t.order.Back() {
		t.drop(e)
	}
}

func (t *failureTable) remove(key string) {
	if e := t.m[key]; e != nil {
		t.drop(e)
	}
}

func (t *failureTable) drop(e *list.Element) {
	delete(t.m, e.Value.(*failures).key)
	t.order.Remove(e)
}

func (t *failureTable) len() int { return len(t.m) }
