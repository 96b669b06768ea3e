package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// client is what the console knows of the browser's connection: its
// address (failed logins are counted by it) and whether it reached Herald
// over HTTPS (cookies are then Secure).
//
// Both come from the TCP connection, unless its peer is one of the trusted
// proxies (server.trusted_proxies): then X-Forwarded-For names the client,
// walked from the right past every trusted proxy, and X-Forwarded-Proto
// says whether the proxy was reached over HTTPS. From anyone else those
// headers are ignored, since any client can send them.
type client struct {
	addr  netip.Addr // zero when unknown
	https bool
}

type clientKey struct{}

// withClient resolves the client once per request for the handlers below.
func (c *Console) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := resolveClient(r, c.trusted)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, cl)))
	})
}

// clientOf returns the request's client; outside withClient (a handler
// called directly) it is resolved with no trusted proxies.
func clientOf(r *http.Request) client {
	if cl, ok := r.Context().Value(clientKey{}).(client); ok {
		return cl
	}
	return resolveClient(r, nil)
}

func resolveClient(r *http.Request, trusted []netip.Prefix) client {
	cl := client{addr: remoteAddr(r.RemoteAddr), https: r.TLS != nil}
	if !cl.addr.IsValid() || !isTrusted(cl.addr, trusted) {
		return cl
	}
	if proto := lastListItem(r.Header.Values("X-Forwarded-Proto")); proto != "" {
		cl.https = strings.EqualFold(proto, "https")
	}
	hops := listItems(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// Garbage where a proxy should have written an address: the
			// nearest hop that can be trusted is as far as we can go.
			break
		}
		cl.addr = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return cl
}

// remoteAddr parses http.Request.RemoteAddr ("ip:port"); zero when it
// cannot (a listener that is not TCP).
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// parseHop parses one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711") as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap().WithZone("")
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// listItems splits the comma-separated values of a repeated header, in
// order, dropping empty items.
func listItems(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// lastListItem is the value the nearest proxy set.
func lastListItem(values []string) string {
	items := listItems(values)
	if len(items) == 0 {
		return ""
	}
	return items[len(items)-1]
}
