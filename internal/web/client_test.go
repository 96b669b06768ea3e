package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The client address and scheme come from X-Forwarded-* only when the TCP
// peer is a trusted proxy, walking X-Forwarded-For from the right.
func TestResolveClientProxyHeaders(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		proto  []string
		tls    bool
		want   string
		https  bool
	}{
		{name: "no proxy", remote: "192.0.2.1:5000", want: "192.0.2.1"},
		{name: "untrusted peer's headers are ignored", remote: "192.0.2.1:5000", xff: []string{"203.0.113.9"}, proto: []string{"https"}, want: "192.0.2.1"},
		{name: "trusted proxy", remote: "10.1.1.1:5000", xff: []string{"203.0.113.9"}, proto: []string{"https"}, want: "203.0.113.9", https: true},
		{name: "forged left entries are skipped", remote: "10.1.1.1:5000", xff: []string{"1.1.1.1, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "chain of trusted proxies", remote: "10.1.1.1:5000", xff: []string{"6.6.6.6, 203.0.113.9, 10.2.2.2", "10.3.3.3"}, want: "203.0.113.9"},
		{name: "all hops trusted", remote: "10.1.1.1:5000", xff: []string{"10.2.2.2, 10.3.3.3"}, want: "10.2.2.2"},
		{name: "no header from a trusted proxy", remote: "10.1.1.1:5000", want: "10.1.1.1"},
		{name: "garbage stops the walk", remote: "10.1.1.1:5000", xff: []string{"203.0.113.9, unknown, 10.2.2.2"}, want: "10.2.2.2"},
		{name: "entries with ports", remote: "10.1.1.1:5000", xff: []string{"[2001:db8::7]:4711, 203.0.113.9:80"}, want: "203.0.113.9"},
		{name: "IPv6 proxy and client", remote: "[2001:db8:ff::1]:443", xff: []string{"2001:db8:1::5"}, want: "2001:db8:1::5"},
		{name: "mapped IPv4 peer", remote: "[::ffff:10.1.1.1]:5000", xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
		{name: "http from a trusted proxy", remote: "127.0.0.1:5000", proto: []string{"http"}, want: "127.0.0.1"},
		{name: "nearest proxy's proto wins", remote: "127.0.0.1:5000", proto: []string{"https, http"}, want: "127.0.0.1"},
		{name: "proto is case-insensitive", remote: "127.0.0.1:5000", proto: []string{"HTTPS"}, want: "127.0.0.1", https: true},
		{name: "direct TLS", remote: "192.0.2.1:5000", proto: []string{"http"}, tls: true, want: "192.0.2.1", https: true},
		{name: "unparsable remote", remote: "@", xff: []string{"203.0.113.9"}, want: "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if !tc.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			got := resolveClient(r, trusted)
			if got.addr.String() != tc.want || got.https != tc.https {
				t.Fatalf("got %v https=%v, want %s https=%v", got.addr, got.https, tc.want, tc.https)
			}
		})
	}
}

// Handlers see the client that the console resolved for the request.
func TestClientOfRequest(t *testing.T) {
	t.Parallel()
	c := &Console{trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	var got client
	h := c.withClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientOf(r) }))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:9"
	r.Header.Set("X-Forwarded-For", "192.0.2.44")
	r.Header.Set("X-Forwarded-Proto", "https")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got.addr != netip.MustParseAddr("192.0.2.44") || !got.https {
		t.Fatalf("client %+v", got)
	}
	// Without the middleware, nothing is trusted.
	if cl := clientOf(r); cl.addr != netip.MustParseAddr("127.0.0.1") || cl.https {
		t.Fatalf("client outside the middleware %+v", cl)
	}
}
