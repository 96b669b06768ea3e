package service

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// The table never holds more than its cap: the least recently failed
// counter goes first, and expired counters are dropped as new ones come.
func TestFailureTableBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tb := failureTable{max: 3}
	for i := range 3 {
		tb.fail("k"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Second))
	}
	tb.fail("k0", now.Add(3*time.Second)) // k0 is now the most recent
	tb.fail("k3", now.Add(4*time.Second)) // evicts k1, the least recent
	if tb.len() != 3 {
		t.Fatalf("len %d, want 3", tb.len())
	}
	for key, want := range map[string]bool{"k0": true, "k1": false, "k2": true, "k3": true} {
		if _, ok := tb.m[key]; ok != want {
			t.Errorf("%s present %v, want %v", key, ok, want)
		}
	}
	if f := tb.m["k0"].Value.(*failures); f.n != 2 {
		t.Errorf("k0 count %d, want 2", f.n)
	}

	// Once their window has passed, old counters are dropped by the next failure.
	later := now.Add(4*time.Second + LoginWindow)
	tb.fail("k9", later)
	if tb.len() != 1 {
		t.Fatalf("after the window: len %d, want 1 (%v)", tb.len(), tb.m)
	}

	// Under a flood of keys the default cap holds.
	var big failureTable
	for i := range LoginMaxEntries + 1000 {
		big.fail(strconv.Itoa(i), now)
	}
	if big.len() != LoginMaxEntries || big.order.Len() != LoginMaxEntries {
		t.Fatalf("len %d/%d, want %d", big.len(), big.order.Len(), LoginMaxEntries)
	}
}

// A counter locks at its limit and unlocks LoginWindow after its last failure.
func TestFailureTableLocked(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tb failureTable
	for i := range 3 {
		if _, locked := tb.locked("k", 3, now); locked {
			t.Fatalf("locked after %d failures", i)
		}
		tb.fail("k", now.Add(time.Duration(i)*time.Minute))
	}
	last := now.Add(2 * time.Minute)
	if wait, locked := tb.locked("k", 3, last.Add(time.Minute)); !locked || wait != LoginWindow-time.Minute {
		t.Fatalf("locked %v wait %v", locked, wait)
	}
	if _, locked := tb.locked("k", 3, last.Add(LoginWindow)); locked {
		t.Fatal("still locked after the window")
	}
	// A failure after the window starts a new count.
	tb.fail("k", last.Add(LoginWindow))
	if f := tb.m["k"].Value.(*failures); f.n != 1 {
		t.Fatalf("count %d, want 1", f.n)
	}
}

func herr(t *testing.T, err error) string {
	t.Helper()
	key, _ := herald.ErrorKey(err)
	return key
}

// The guard's rules, without bcrypt: per (username, address), per address,
// what a success resets, and how addresses are grouped.
func TestLoginGuard(t *testing.T) {
	t.Parallel()
	a := netip.MustParseAddr("192.0.2.10")
	b := netip.MustParseAddr("198.51.100.20")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("per user and address", func(t *testing.T) {
		t.Parallel()
		g := newLoginGuard(LoginLimits{})
		for i := range LoginMaxFailures {
			if err := g.check("carol", a, now); err != nil {
				t.Fatalf("before failure %d: %v", i, err)
			}
			g.fail("carol", a, now)
		}
		if k := herr(t, g.check(" CAROL ", a, now)); k != "login.throttled" {
			t.Fatalf("carol from a after the limit: %q", k)
		}
		if err := g.check("carol", b, now); err != nil {
			t.Fatalf("carol from b: %v", err)
		}
		if err := g.check("dave", a, now); err != nil {
			t.Fatalf("dave from a: %v", err)
		}
		if err := g.checkAddr(a, now); err != nil {
			t.Fatalf("token login from a: %v", err)
		}
	})

	t.Run("spray", func(t *testing.T) {
		t.Parallel()
		g := newLoginGuard(LoginLimits{})
		for i := range LoginMaxAddrFailures {
			if err := g.check("user"+strconv.Itoa(i), a, now); err != nil {
				t.Fatalf("before failure %d: %v", i, err)
			}
			g.fail("user"+strconv.Itoa(i), a, now)
			if i == 10 {
				g.succeed("carol", a) // a good login does not reset the address
			}
		}
		err := g.check("another", a, now)
		if k := herr(t, err); k != "login.throttled_address" || herald.ErrorCode(err) != herald.ERateLimited {
			t.Fatalf("after the address limit: %v", err)
		}
		if _, args := herald.ErrorKey(err); args["minutes"] != "15" {
			t.Fatalf("minutes %q, want 15", args["minutes"])
		}
		if k := herr(t, g.checkAddr(a, now)); k != "login.throttled_address" {
			t.Fatalf("token login after the address limit: %q", k)
		}
		if err := g.check("another", b, now); err != nil {
			t.Fatalf("other address: %v", err)
		}
		if err := g.check("another", a, now.Add(LoginWindow)); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})

	t.Run("token failures count for the address", func(t *testing.T) {
		t.Parallel()
		g := newLoginGuard(LoginLimits{})
		for range LoginMaxAddrFailures {
			g.failAddr(a, now)
		}
		if k := herr(t, g.check("carol", a, now)); k != "login.throttled_address" {
			t.Fatalf("password login after token failures: %q", k)
		}
	})

	t.Run("success resets the pair", func(t *testing.T) {
		t.Parallel()
		g := newLoginGuard(LoginLimits{})
		for range LoginMaxFailures - 1 {
			g.fail("carol", a, now)
		}
		g.succeed("Carol", a)
		g.fail("carol", a, now)
		if err := g.check("carol", a, now); err != nil {
			t.Fatalf("one failure after a success: %v", err)
		}
	})

	t.Run("window", func(t *testing.T) {
		t.Parallel()
		g := newLoginGuard(LoginLimits{})
		for i := range LoginMaxFailures {
			g.fail("carol", a, now.Add(time.Duration(i)*time.Minute))
		}
		last := now.Add(time.Duration(LoginMaxFailures-1) * time.Minute)
		err := g.check("carol", a, last.Add(LoginWindow-time.Second))
		if k := herr(t, err); k != "login.throttled" {
			t.Fatalf("a second before the end: %v", err)
		}
		if _, args := herald.ErrorKey(err); args["minutes"] != "1" {
			t.Fatalf("minutes %q, want 1", args["minutes"])
		}
		if err := g.check("carol", a, last.Add(LoginWindow)); err != nil {
			t.Fatalf("at the end of the window: %v", err)
		}
	})

	t.Run("address keys", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			x, y string
			same bool
		}{
			{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
			{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
			{"fe80::1%eth0", "fe80::2%eth1", true},
			{"::ffff:192.0.2.7", "192.0.2.7", true},
			{"192.0.2.7", "192.0.2.8", false},
		} {
			same := clientKey(netip.MustParseAddr(tc.x)) == clientKey(netip.MustParseAddr(tc.y))
			if same != tc.same {
				t.Errorf("%s and %s counted together: %v, want %v", tc.x, tc.y, same, tc.same)
			}
		}
		if clientKey(netip.Addr{}) != "unknown" {
			t.Errorf("zero address key %q", clientKey(netip.Addr{}))
		}
	})
}

// Limits can be lowered (tests of the whole server do).
func TestLoginGuardLimits(t *testing.T) {
	t.Parallel()
	a := netip.MustParseAddr("192.0.2.10")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := newLoginGuard(LoginLimits{MaxFailures: 2, MaxAddrFailures: 3})
	g.fail("carol", a, now)
	g.fail("carol", a, now)
	if k := herr(t, g.check("carol", a, now)); k != "login.throttled" {
		t.Fatalf("after 2: %q", k)
	}
	g.fail("dave", a, now)
	if k := herr(t, g.check("erin", a, now)); k != "login.throttled_address" {
		t.Fatalf("after 3 from the address: %q", k)
	}
}
