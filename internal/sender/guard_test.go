package sender

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"127.0.0.1":              "loopback",
		"127.8.9.10":             "loopback",
		"10.0.0.1":               "private",
		"172.16.0.1":             "private",
		"172.31.255.255":         "private",
		"172.32.0.1":             "",
		"192.168.1.1":            "private",
		"100.64.0.1":             "carrier-grade NAT",
		"100.127.255.255":        "carrier-grade NAT",
		"100.128.0.1":            "",
		"169.254.169.254":        "cloud metadata",
		"169.254.1.1":            "link-local",
		"0.0.0.0":                "unspecified",
		"0.1.2.3":                "unspecified",
		"224.0.0.1":              "multicast",
		"239.255.255.250":        "multicast",
		"255.255.255.255":        "reserved",
		"240.0.0.1":              "reserved",
		"192.0.0.192":            "reserved",
		"8.8.8.8":                "",
		"203.0.113.7":            "",
		"::1":                    "loopback",
		"::":                     "unspecified",
		"fc00::1":                "private",
		"fd12:3456::1":           "private",
		"fd00:ec2::254":          "cloud metadata",
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "link-local",
		"ff02::1":                "multicast",
		"ff05::1:3":              "multicast",
		"::ffff:127.0.0.1":       "loopback",
		"::ffff:10.0.0.1":        "private",
		"::ffff:169.254.169.254": "cloud metadata",
		"::ffff:8.8.8.8":         "",
		"64:ff9b::7f00:1":        "loopback", // NAT64 form of 127.0.0.1
		"64:ff9b::a9fe:a9fe":     "cloud metadata",
		"64:ff9b::808:808":       "",
		"2606:4700:4700::1111":   "",
	}
	for in, want := range cases {
		if got := classify(netip.MustParseAddr(in)); got != want {
			t.Errorf("classify(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestBlockedErrorText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  BlockedError
		want string
	}{
		{BlockedError{Host: "10.0.0.1", Addr: netip.MustParseAddr("10.0.0.1"), Kind: "private"},
			"destination 10.0.0.1 is a private address; allow it with HERALD_ALLOW_CIDRS=10.0.0.1/32 (or network.allow_cidrs in the config file) and restart herald serve"},
		{BlockedError{Host: "hooks.internal", Addr: netip.MustParseAddr("0.0.0.0"), Kind: "unspecified"},
			"destination hooks.internal (0.0.0.0) is an unspecified address; allow it with HERALD_ALLOW_CIDRS=0.0.0.0/32 (or network.allow_cidrs in the config file) and restart herald serve"},
		{BlockedError{Addr: netip.MustParseAddr("169.254.169.254"), Kind: "cloud metadata"},
			"destination 169.254.169.254 is a cloud metadata address; allow it with HERALD_ALLOW_CIDRS=169.254.169.254/32 (or network.allow_cidrs in the config file) and restart herald serve"},
		{BlockedError{Addr: netip.MustParseAddr("10.0.0.1")},
			"destination 10.0.0.1 is a non-public address; allow it with HERALD_ALLOW_CIDRS=10.0.0.1/32 (or network.allow_cidrs in the config file) and restart herald serve"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestAllowCIDRs(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.1.2.3/16"), // unmasked on purpose: New masks it
		netip.MustParsePrefix("fd00::/8"),
	}})
	cases := map[string]bool{
		"127.0.0.1":        true,
		"::ffff:127.0.0.1": true, // the mapped form of an allowed address
		"10.1.200.1":       true,
		"10.2.0.1":         false,
		"fd00::1":          true,
		"fc00::1":          false,
		"169.254.169.254":  false,
		"::1":              false, // 127.0.0.0/8 does not cover IPv6 loopback
		"8.8.8.8":          true,  // public: no allow needed
	}
	for in, want := range cases {
		err := s.check("", netip.MustParseAddr(in), 443)
		if (err == nil) != want {
			t.Errorf("check(%s) = %v, want allowed %v", in, err, want)
		}
	}
}

// TestControlHook checks the net.Dialer Control re-check on socket addresses.
func TestControlHook(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	var be *BlockedError
	if err := s.control("tcp4", "10.1.2.3:443", nil); !errors.As(err, &be) || be.Kind != "private" {
		t.Errorf("control(10.1.2.3) = %v, want a private refusal", err)
	}
	if err := s.control("tcp6", "[::ffff:127.0.0.1]:80", nil); !errors.As(err, &be) || be.Kind != "loopback" {
		t.Errorf("control(::ffff:127.0.0.1) = %v, want a loopback refusal", err)
	}
	if err := s.control("tcp4", "93.184.216.34:443", nil); err != nil {
		t.Errorf("control(public) = %v", err)
	}
	if err := s.control("tcp4", "not-an-address", nil); err == nil {
		t.Error("control accepts an unparsable address")
	}
	allowed := New(Options{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err := allowed.control("tcp4", "10.1.2.3:443", nil); err != nil {
		t.Errorf("control(10.1.2.3) with 10.0.0.0/8 allowed = %v", err)
	}
}

// fakeResolver answers from a list of answers, one per call (the last one
// repeats), as a hostile DNS server doing rebinding would.
type fakeResolver struct {
	mu      sync.Mutex
	answers [][]netip.Addr
	err     error
	calls   int
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := min(r.calls, len(r.answers)-1)
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	return r.answers[i], nil
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// dialSpy replaces the Sender's dialer: it records every address the guard
// let through, and either dials it for real or fails.
type dialSpy struct {
	mu     sync.Mutex
	dialed []string
}

func (d *dialSpy) install(s *Sender, real bool) {
	next := s.dial
	s.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		d.mu.Lock()
		d.dialed = append(d.dialed, address)
		d.mu.Unlock()
		if real {
			return next(ctx, network, address)
		}
		return nil, errors.New("spy: connection refused")
	}
}

func (d *dialSpy) addresses() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// hostURL returns the receiver's URL with its host replaced by host.
func hostURL(t *testing.T, r *receiver, host string) string {
	t.Helper()
	u, err := url.Parse(r.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort(host, u.Port())
	return u.String()
}

func TestGuardLoopback(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)

	t.Run("refused without allow", func(t *testing.T) {
		t.Parallel()
		s := New(Options{})
		var spy dialSpy
		spy.install(s, true)
		res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`))
		if res.Outcome != Retry || res.StatusCode != 0 {
			t.Fatalf("outcome %v status %d, want retry without status", res.Outcome, res.StatusCode)
		}
		want := "destination 127.0.0.1 is a loopback address; allow it with HERALD_ALLOW_CIDRS=127.0.0.0/8 (or network.allow_cidrs in the config file) and restart herald serve"
		if res.Err != want {
			t.Errorf("Err = %q, want %q", res.Err, want)
		}
		if got := spy.addresses(); len(got) != 0 {
			t.Errorf("dialled %v", got)
		}
	})
	t.Run("allowed with 127.0.0.0/8", func(t *testing.T) {
		t.Parallel()
		s := New(Options{AllowCIDRs: loopback})
		res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`))
		if res.Outcome != Success {
			t.Fatalf("outcome %v, err %q", res.Outcome, res.Err)
		}
	})
	t.Run("IPv4-mapped IPv6 refused", func(t *testing.T) {
		t.Parallel()
		s := New(Options{})
		var spy dialSpy
		spy.install(s, true)
		res := s.Send(context.Background(), newWebhook(hostURL(t, r, "::ffff:127.0.0.1")), newRequest(`{}`))
		if res.Outcome != Retry || !strings.Contains(res.Err, "::ffff:127.0.0.1 is a loopback address") {
			t.Fatalf("outcome %v, Err %q", res.Outcome, res.Err)
		}
		if got := spy.addresses(); len(got) != 0 {
			t.Errorf("dialled %v", got)
		}
	})
	t.Run("IPv4-mapped IPv6 allowed by the IPv4 prefix", func(t *testing.T) {
		t.Parallel()
		s := New(Options{AllowCIDRs: loopback})
		res := s.Send(context.Background(), newWebhook(hostURL(t, r, "::ffff:127.0.0.1")), newRequest(`{}`))
		if res.Outcome != Success {
			t.Fatalf("outcome %v, err %q", res.Outcome, res.Err)
		}
	})
	t.Run("localhost by name", func(t *testing.T) {
		t.Parallel()
		s := New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("::1", "127.0.0.1")}}})
		res := s.Send(context.Background(), newWebhook(hostURL(t, r, "localhost")), newRequest(`{}`))
		if !strings.Contains(res.Err, "destination localhost (::1) is a loopback address") {
			t.Fatalf("Err = %q", res.Err)
		}
	})
}

// TestGuardMixedAnswer: a name answering a public address first and a
// loopback one second is refused as a whole, at connect time, and the
// request never reaches the receiver.
func TestGuardMixedAnswer(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	res0 := &fakeResolver{answers: [][]netip.Addr{addrs("203.0.113.7", "127.0.0.1")}}
	s := New(Options{Resolver: res0})
	var spy dialSpy
	spy.install(s, true)
	res := s.Send(context.Background(), newWebhook(hostURL(t, r, "hooks.example.com")), newRequest(`{}`))
	if res.Outcome != Retry {
		t.Fatalf("outcome %v", res.Outcome)
	}
	if want := "destination hooks.example.com (127.0.0.1) is a loopback address; allow it with HERALD_ALLOW_CIDRS=127.0.0.0/8 (or network.allow_cidrs in the config file) and restart herald serve"; res.Err != want {
		t.Errorf("Err = %q, want %q", res.Err, want)
	}
	if got := spy.addresses(); len(got) != 0 {
		t.Errorf("dialled %v", got)
	}
	if r.count() != 0 {
		t.Errorf("the receiver got %d requests", r.count())
	}
	if res0.calls != 1 {
		t.Errorf("resolver called %d times, want 1", res0.calls)
	}
}

// TestGuardRebinding: a resolver that answers a public address, then
// loopback. Every connection resolves once and dials exactly the literal it
// checked, so the second answer is refused and the first is what is dialled.
func TestGuardRebinding(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("203.0.113.7"), addrs("127.0.0.1")}}})
	var spy dialSpy
	spy.install(s, false)
	w := newWebhook(hostURL(t, r, "rebind.example.com"))

	first := s.Send(context.Background(), w, newRequest(`{}`))
	if first.Outcome != Retry || !strings.Contains(first.Err, "spy: connection refused") {
		t.Fatalf("first send: outcome %v, Err %q", first.Outcome, first.Err)
	}
	second := s.Send(context.Background(), w, newRequest(`{}`))
	if second.Outcome != Retry || !strings.Contains(second.Err, "rebind.example.com (127.0.0.1) is a loopback address") {
		t.Fatalf("second send: outcome %v, Err %q", second.Outcome, second.Err)
	}
	got := spy.addresses()
	if len(got) != 1 || !strings.HasPrefix(got[0], "203.0.113.7:") {
		t.Errorf("dialled %v, want only the checked 203.0.113.7", got)
	}
	if r.count() != 0 {
		t.Errorf("the receiver got %d requests", r.count())
	}
}

// TestGuardMetadata: the cloud metadata address is refused before any dial,
// by name and as a literal.
func TestGuardMetadata(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"metadata.google.internal", "169.254.169.254"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			s := New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("169.254.169.254")}}})
			var spy dialSpy
			spy.install(s, false)
			w := newWebhook("http://" + host + "/computeMetadata/v1/")
			res := s.Send(context.Background(), w, newRequest(`{}`))
			if res.Outcome != Retry || !strings.Contains(res.Err, "169.254.169.254") || !strings.Contains(res.Err, "is a cloud metadata address") {
				t.Fatalf("outcome %v, Err %q", res.Outcome, res.Err)
			}
			if got := spy.addresses(); len(got) != 0 {
				t.Errorf("dialled %v", got)
			}
		})
	}
}

func TestGuardPrivateAndResolverErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		res     *fakeResolver
		wantErr string
	}{
		{"private", &fakeResolver{answers: [][]netip.Addr{addrs("10.0.0.1")}}, "hooks.example.com (10.0.0.1) is a private address"},
		{"CGNAT", &fakeResolver{answers: [][]netip.Addr{addrs("100.64.1.1")}}, "is a carrier-grade NAT address"},
		{"ULA", &fakeResolver{answers: [][]netip.Addr{addrs("fd00::5")}}, "is a private address"},
		{"link-local v6", &fakeResolver{answers: [][]netip.Addr{addrs("fe80::1")}}, "is a link-local address"},
		{"lookup failure", &fakeResolver{answers: [][]netip.Addr{nil}, err: &net.DNSError{Err: "no such host", Name: "hooks.example.com", IsNotFound: true}}, "no such host"},
		{"empty answer", &fakeResolver{answers: [][]netip.Addr{nil}}, "no addresses"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(Options{Resolver: tc.res})
			var spy dialSpy
			spy.install(s, false)
			res := s.Send(context.Background(), newWebhook("https://hooks.example.com/in"), newRequest(`{}`))
			if res.Outcome != Retry || !strings.Contains(res.Err, tc.wantErr) {
				t.Fatalf("outcome %v, Err %q, want it to contain %q", res.Outcome, res.Err, tc.wantErr)
			}
			if got := spy.addresses(); len(got) != 0 {
				t.Errorf("dialled %v", got)
			}
		})
	}
}

// TestGuardDialsInOrder: a public multi-address answer is dialled address by
// address until one connects.
func TestGuardDialsInOrder(t *testing.T) {
	t.Parallel()
	s := New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("203.0.113.7", "2001:db8::7")}}})
	var spy dialSpy
	spy.install(s, false)
	res := s.Send(context.Background(), newWebhook("http://hooks.example.com:8080/"), newRequest(`{}`))
	if res.Outcome != Retry {
		t.Fatalf("outcome %v", res.Outcome)
	}
	got := spy.addresses()
	want := []string{"203.0.113.7:8080", "[2001:db8::7]:8080"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dialled %v, want %v", got, want)
	}
}
