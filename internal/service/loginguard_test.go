package service_test

import (
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

var (
	browser = netip.MustParseAddr("192.0.2.10")
	otherIP = netip.MustParseAddr("198.51.100.20")
)

// clock is a settable Now for throttle windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setupClock is setup with a service whose clock the test moves.
func setupClock(t *testing.T, users ...string) (*bundle, *clock) {
	t.Helper()
	b := setup(t)
	for _, name := range users {
		if _, err := b.svc.CreateUser(b.ctx, b.admin, service.UserInput{Username: name, Password: "correct horse battery", Role: herald.RoleViewer}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now()}
	b.svc = service.New(service.Options{Store: b.store, Now: clk.now})
	return b, clk
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if herald.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// Failed logins lock a username from one address only: the same user from
// another address, and other users from the first address, still log in.
// (The counting itself is tested without bcrypt in
// loginguard_internal_test.go.)
func TestLoginThrottlePerUserAndAddress(t *testing.T) {
	t.Parallel()
	b, clk := setupClock(t, "carol", "dave")
	for i := range service.LoginMaxFailures {
		_, _, err := b.svc.Login(b.ctx, "carol", "guess"+strconv.Itoa(i), browser)
		wantCode(t, "failure "+strconv.Itoa(i), err, herald.EUnauthorized)
	}
	_, _, err := b.svc.Login(b.ctx, " Carol ", "correct horse battery", browser)
	wantCode(t, "right password after the limit", err, herald.ERateLimited)
	if key, args := herald.ErrorKey(err); key != "login.throttled" || args["minutes"] != "15" {
		t.Fatalf("throttle error key %q args %v", key, args)
	}
	if _, _, err := b.svc.Login(b.ctx, "carol", "correct horse battery", otherIP); err != nil {
		t.Fatalf("carol from another address is locked out too: %v", err)
	}
	if _, _, err := b.svc.Login(b.ctx, "dave", "correct horse battery", browser); err != nil {
		t.Fatalf("another user from the same address is locked out too: %v", err)
	}

	// The lock ends LoginWindow after the last failure, not before.
	clk.advance(service.LoginWindow - time.Second)
	_, _, err = b.svc.Login(b.ctx, "carol", "correct horse battery", browser)
	wantCode(t, "just before the window ends", err, herald.ERateLimited)
	clk.advance(time.Second)
	if _, _, err := b.svc.Login(b.ctx, "carol", "correct horse battery", browser); err != nil {
		t.Fatalf("after the window: %v", err)
	}

}

// Failed token logins count against the address like failed passwords.
func TestLoginThrottleTokens(t *testing.T) {
	t.Parallel()
	b, _ := setupClock(t, "carol")
	for i := range service.LoginMaxAddrFailures {
		_, _, err := b.svc.LoginToken(b.ctx, "hrld_guess"+strconv.Itoa(i), browser)
		wantCode(t, "bad token", err, herald.EUnauthorized)
	}
	_, _, err := b.svc.LoginToken(b.ctx, "admin-value", browser)
	wantCode(t, "good token after the limit", err, herald.ERateLimited)
	_, _, err = b.svc.Login(b.ctx, "carol", "correct horse battery", browser)
	wantCode(t, "password after the token limit", err, herald.ERateLimited)
	if _, _, err := b.svc.LoginToken(b.ctx, "admin-value", otherIP); err != nil {
		t.Fatalf("token from another address: %v", err)
	}
}
