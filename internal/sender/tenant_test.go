package sender

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

// IPv6 forms that carry an IPv4 address are judged by it, and the IPv4
// ranges the first guard missed are refused.
func TestClassifyEmbeddedAndReserved(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		// IPv4-compatible IPv6 (::a.b.c.d).
		"::127.0.0.1":       "loopback",
		"::10.0.0.1":        "private",
		"::169.254.169.254": "cloud metadata",
		"::8.8.8.8":         "",
		"::2":               "unspecified", // ::0.0.0.2, in 0.0.0.0/8
		// Well-known NAT64 (RFC 6052).
		"64:ff9b::10.1.2.3":    "private",
		"64:ff9b::192.168.0.1": "private",
		"64:ff9b::198.18.0.1":  "benchmarking",
		"64:ff9b::8.8.8.8":     "",
		// Local-use NAT64 (RFC 8215): the embedded address when it says
		// more, else refused as not global.
		"64:ff9b:1::7f00:1":     "loopback",
		"64:ff9b:1::a9fe:a9fe":  "cloud metadata",
		"64:ff9b:1::808:808":    "local-use NAT64",
		"64:ff9b:1:ab::808:808": "local-use NAT64",
		// 6to4: bits 16-47.
		"2002:7f00:1::1":    "loopback",
		"2002:a00:1::1":     "private",
		"2002:a9fe:a9fe::1": "cloud metadata",
		"2002:c0a8:101::":   "private",
		"2002:808:808::1":   "",
		// IPv4 ranges.
		"198.18.0.1":        "benchmarking",
		"198.19.255.255":    "benchmarking",
		"198.20.0.1":        "",
		"240.1.2.3":         "reserved",
		"250.0.0.1":         "reserved",
		"0.0.0.1":           "unspecified",
		"0.255.255.255":     "unspecified",
		"::ffff:198.18.5.5": "benchmarking",
		// Others that must not be dialed.
		"fec0::1":              "private", // deprecated site-local
		"100::1":               "reserved",
		"::1":                  "loopback",
		"::":                   "unspecified",
		"2001:4860:4860::8888": "",
	}
	for in, want := range cases {
		if got := classify(netip.MustParseAddr(in)); got != want {
			t.Errorf("classify(%s) = %q, want %q", in, got, want)
		}
	}
}

// The dialer refuses the embedded forms end to end: nothing is connected,
// even with 127.0.0.0/8 allowed (the allowance covers 127.0.0.1, not the
// IPv6 addresses that route elsewhere).
func TestSendRefusesEmbeddedForms(t *testing.T) {
	t.Parallel()
	dialed := false
	s := New(Options{AllowCIDRs: loopback})
	s.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		dialed = true
		return nil, errors.New("dial not expected")
	}
	for _, host := range []string{"[::127.0.0.1]", "[64:ff9b:1::7f00:1]", "[2002:a00:1::1]", "198.18.0.1", "240.0.0.1", "0.0.0.0"} {
		res := s.Send(context.Background(), newWebhook("http://"+host+":8080/"), newRequest(`{}`))
		if res.Outcome != Retry || !strings.Contains(res.Err, "allow it with HERALD_ALLOW_CIDRS=") {
			t.Errorf("%s: %+v", host, res)
		}
	}
	if dialed {
		t.Fatal("a refused address was dialed")
	}
}

// A target that is this node's listen address is refused when connecting,
// even when network.allow_cidrs allows it; an unspecified listener stands
// for every local address; other ports pass.
func TestSelfAddressRefused(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	u, _ := url.Parse(r.srv.URL)
	self := netip.MustParseAddrPort(u.Host)
	s := New(Options{AllowCIDRs: loopback})
	if res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`)); res.Outcome != Success {
		t.Fatalf("before SetSelfAddrs: %+v", res)
	}
	s.SetSelfAddrs([]netip.AddrPort{self})
	before := r.count()
	res := s.Send(context.Background(), newWebhook(r.srv.URL), newRequest(`{}`))
	if res.Outcome != Retry || !strings.Contains(res.Err, "own listen address") || r.count() != before {
		t.Fatalf("to self: %+v (requests %d → %d)", res, before, r.count())
	}
	var be *BlockedError
	if err := s.CheckTarget(context.Background(), r.srv.URL+"/api/v1/events"); !errors.As(err, &be) || be.Kind != KindSelf {
		t.Fatalf("CheckTarget(self) = %v", err)
	}

	port := self.Port()
	for _, tc := range []struct {
		listen, target string
		self           bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false}, // a specific listener takes only its address
		{"127.0.0.1", "0.0.0.0", true},    // connecting to 0.0.0.0 reaches loopback
		{"10.1.2.3", "0.0.0.0", false},
		{"0.0.0.0", "127.0.0.2", true},
		{"0.0.0.0", "0.0.0.0", true},
		{"0.0.0.0", "::1", false}, // 0.0.0.0 is IPv4 only
		{"::", "::1", true},
		{"::", "127.0.0.1", true}, // dual stack
		{"::", "::ffff:127.0.0.1", true},
		{"::", "8.8.8.8", false},
	} {
		s := New(Options{})
		s.SetSelfAddrs([]netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr(tc.listen), port)})
		if got := s.isSelf(netip.MustParseAddr(tc.target), port); got != tc.self {
			t.Errorf("listen %s, target %s: self %v, want %v", tc.listen, tc.target, got, tc.self)
		}
		if s.isSelf(netip.MustParseAddr(tc.target), port+1) {
			t.Errorf("listen %s, target %s: another port counts as self", tc.listen, tc.target)
		}
	}
	// Every interface address of this host is "self" for 0.0.0.0.
	s2 := New(Options{})
	s2.SetSelfAddrs([]netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), port)})
	s2.local.has(netip.Addr{}) // load the interface list
	for a := range s2.local.addrs {
		if a.Is4() && !s2.isSelf(a, port) {
			t.Errorf("interface address %s is not self for 0.0.0.0", a)
		}
	}
}

// CheckTarget reports what the dialer would refuse, without connecting.
func TestCheckTarget(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback, Resolver: &fakeResolver{answers: [][]netip.Addr{addrs("10.0.0.7")}}})
	var be *BlockedError
	for target, kind := range map[string]string{
		"http://10.1.2.3/":            "private",
		"https://internal.example/":   "private", // resolved by the fake resolver
		"http://[64:ff9b::a9fe:a9fe]": "cloud metadata",
		"http://127.0.0.1:9/":         "",
		"http://8.8.8.8/":             "",
	} {
		err := s.CheckTarget(context.Background(), target)
		switch {
		case kind == "" && err != nil:
			t.Errorf("%s: %v", target, err)
		case kind != "" && (!errors.As(err, &be) || be.Kind != kind):
			t.Errorf("%s: %v, want %s", target, err, kind)
		}
	}
	failing := New(Options{Resolver: &fakeResolver{answers: [][]netip.Addr{nil}, err: errors.New("no such host")}})
	if err := failing.CheckTarget(context.Background(), "https://nowhere.example/"); err != nil {
		t.Errorf("a name that does not resolve now: %v", err)
	}
}

// Every request carries Herald-Hops (the event's count plus one, at least 1),
// which extra headers cannot override.
func TestHopsHeader(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.Headers = map[string]string{"Herald-Hops": "0"}
	for _, tc := range []struct {
		hops int
		want string
	}{{0, "1"}, {1, "1"}, {3, "3"}} {
		req := newRequest(`{}`)
		req.Hops = tc.hops
		if res := s.Send(context.Background(), w, req); res.Outcome != Success {
			t.Fatalf("send: %+v", res)
		}
		if got := r.last(t).header.Values(herald.HopsHeader); len(got) != 1 || got[0] != tc.want {
			t.Errorf("hops %d: header %v, want %s", tc.hops, got, tc.want)
		}
	}
}

// Secret headers are sent, redacted in the request record, and scrubbed
// from an echoing answer; plain headers stay readable.
func TestSecretHeadersSentRedactedScrubbed(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-Echo", req.Header.Get("X-Custom")+" "+req.Header.Get("X-Api-Key"))
		w.Write([]byte("got " + req.Header.Get("X-Custom") + " and " + req.Header.Get("X-Api-Key") + " and " + req.Header.Get("X-Team")))
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL)
	w.Headers = map[string]string{"X-Team": "platform"}
	w.SecretHeaders = map[string]herald.Secret{"X-Custom": "custom-secret-1", "X-Api-Key": "api-key-secret-2"}
	res := s.Send(context.Background(), w, newRequest(`{}`))
	if res.Outcome != Success {
		t.Fatalf("send: %+v", res)
	}
	got := r.last(t).header
	if got.Get("X-Custom") != "custom-secret-1" || got.Get("X-Api-Key") != "api-key-secret-2" || got.Get("X-Team") != "platform" {
		t.Fatalf("sent %v", got)
	}
	for _, k := range []string{"X-Custom", "X-Api-Key"} {
		if v := res.RequestHeaders.Get(k); v != redacted {
			t.Errorf("request record %s = %q", k, v)
		}
	}
	if res.RequestHeaders.Get("X-Team") != "platform" {
		t.Errorf("request record %v", res.RequestHeaders)
	}
	for _, sec := range []string{"custom-secret-1", "api-key-secret-2"} {
		if strings.Contains(res.ResponseBody, sec) || strings.Contains(res.ResponseHeaders.Get("X-Echo"), sec) {
			t.Errorf("%s recorded: %q %v", sec, res.ResponseBody, res.ResponseHeaders)
		}
	}
	if !strings.Contains(res.ResponseBody, "got "+redacted+" and "+redacted+" and platform") {
		t.Errorf("body %q", res.ResponseBody)
	}
}
