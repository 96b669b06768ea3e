package sender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BlockedError is the SSRF guard's refusal: the destination resolved to an
// address Herald does not call unless network.allow_cidrs lets it.
type BlockedError struct {
	// Host is the host of the URL, a name or an IP literal.
	Host string
	// Addr is the refused address.
	Addr netip.Addr
	// Kind says what the address is: "loopback", "private", "link-local",
	// "cloud metadata", "multicast", "unspecified", "carrier-grade NAT",
	// "reserved", or KindSelf.
	Kind string
	// Port is the refused port; set for KindSelf.
	Port uint16
}

// KindSelf is the BlockedError kind of a destination that is one of this
// Herald node's own listen addresses: a webhook pointing there would feed
// Herald its own deliveries. network.allow_cidrs cannot allow it.
const KindSelf = "self"

func (e *BlockedError) Error() string {
	dest := e.Addr.String()
	if e.Host != "" && e.Host != dest {
		dest = e.Host + " (" + dest + ")"
	}
	if e.Kind == KindSelf {
		return fmt.Sprintf("destination %s port %d is this Herald's own listen address: Herald does not deliver to itself", dest, e.Port)
	}
	kind := e.Kind
	if kind == "" {
		kind = "non-public"
	}
	article := "a"
	switch kind[0] {
	case 'a', 'e', 'i', 'o', 'u':
		article = "an"
	}
	return fmt.Sprintf("destination %s is %s %s address; %s", dest, article, kind, AllowHint(e.Addr))
}

// AllowHint is what the guard's refusal tells the operator to do: the
// environment variable (with an example CIDR covering a) and the config key
// that let the address through, and that the server reads them only at
// start.
func AllowHint(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	example := "127.0.0.0/8"
	switch {
	case a == loopback6:
		example = "::1/128"
	case a.IsValid() && !a.IsLoopback():
		example = netip.PrefixFrom(a, a.BitLen()).String()
	}
	return "allow it with HERALD_ALLOW_CIDRS=" + example + " (or network.allow_cidrs in the config file) and restart herald serve"
}

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNet     = netip.MustParsePrefix("0.0.0.0/8")
	ietf        = netip.MustParsePrefix("192.0.0.0/24")   // IETF protocol assignments, incl. 192.0.0.192 (old OCI metadata)
	benchmark   = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544 benchmarking: not global, often routed internally
	reserved4   = netip.MustParsePrefix("240.0.0.0/4")    // incl. 255.255.255.255
	compat      = netip.MustParsePrefix("::/96")          // IPv4-compatible IPv6 (::a.b.c.d), deprecated
	nat64       = netip.MustParsePrefix("64:ff9b::/96")   // well-known NAT64 prefix (RFC 6052)
	nat64Local  = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64 (RFC 8215): not global
	sixToFour   = netip.MustParsePrefix("2002::/16")      // 6to4: the IPv4 address is bits 16-47
	siteLocal   = netip.MustParsePrefix("fec0::/10")      // deprecated site-local
	discard6    = netip.MustParsePrefix("100::/64")       // discard-only (RFC 6666)
	metadata4   = netip.MustParseAddr("169.254.169.254")
	metadataV6  = netip.MustParseAddr("fd00:ec2::254") // AWS IMDS over IPv6
	unspecified = netip.IPv6Unspecified()
	loopback6   = netip.IPv6Loopback()
)

// embedded4 returns the IPv4 address an IPv6 address carries in one of the
// forms that reach an IPv4 host: IPv4-mapped (::ffff:a.b.c.d),
// IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d, and the /96 form
// of the local-use prefix) and 6to4 (2002:aabb:ccdd::/48).
func embedded4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case a.Is4In6():
		return a.Unmap(), true
	case compat.Contains(a) && a != unspecified && a != loopback6:
		return last, true
	case nat64.Contains(a), nat64Local.Contains(a):
		return last, true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// classify returns what kind of non-public address a is, or "" for an
// address the guard lets through. IPv6 forms that carry an IPv4 address
// (see embedded4) are judged by that address. The local-use NAT64 prefix
// 64:ff9b:1::/48 is refused whatever it carries: its address layout is the
// operator's choice and it is not global by definition.
func classify(a netip.Addr) string {
	a = a.WithZone("")
	if v4, ok := embedded4(a); ok {
		if kind := classify(v4); kind != "" {
			return kind
		}
		if nat64Local.Contains(a) {
			return "local-use NAT64"
		}
		return ""
	}
	switch {
	case !a.IsValid():
		return "unspecified"
	case a == metadata4 || a == metadataV6:
		return "cloud metadata"
	case a.IsUnspecified() || thisNet.Contains(a):
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast(): // includes link- and interface-local multicast
		return "multicast"
	case a.IsPrivate() || siteLocal.Contains(a): // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10
		return "private"
	case cgnat.Contains(a):
		return "carrier-grade NAT"
	case benchmark.Contains(a):
		return "benchmarking"
	case ietf.Contains(a) || reserved4.Contains(a) || discard6.Contains(a):
		return "reserved"
	}
	return ""
}

// allowed reports whether a is inside Options.AllowCIDRs, in its own form or
// as the IPv4 address an IPv4-mapped form carries.
func (s *Sender) allowed(a netip.Addr) bool {
	a = a.WithZone("")
	u := a.Unmap()
	for _, p := range s.allow {
		if p.Contains(a) || p.Contains(u) {
			return true
		}
	}
	return false
}

// check returns a *BlockedError if the guard refuses a:port: this node's
// own listen address always, a non-public address unless allowed.
func (s *Sender) check(host string, a netip.Addr, port uint16) error {
	if s.isSelf(a, port) {
		return &BlockedError{Host: host, Addr: a, Kind: KindSelf, Port: port}
	}
	if s.allowed(a) {
		return nil
	}
	if kind := classify(a); kind != "" {
		return &BlockedError{Host: host, Addr: a, Kind: kind}
	}
	return nil
}

// SetSelfAddrs tells the guard the addresses this node listens on (the app
// calls it once listening). An unspecified address (0.0.0.0, ::) stands for
// every local address: loopback and the addresses of every interface (:: in
// both families, as a dual-stack listener accepts both). Safe to call at any
// time; nil forgets them.
func (s *Sender) SetSelfAddrs(addrs []netip.AddrPort) {
	c := slices.Clone(addrs)
	s.self.Store(&c)
}

// isSelf reports whether a:port reaches one of the listen addresses given to
// SetSelfAddrs.
func (s *Sender) isSelf(a netip.Addr, port uint16) bool {
	p := s.self.Load()
	if p == nil {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, ap := range *p {
		if ap.Port() != port {
			continue
		}
		la := ap.Addr().WithZone("").Unmap()
		switch {
		case !la.IsUnspecified():
			// Connecting to 0.0.0.0 or :: reaches the loopback listener.
			if la == a || a.IsUnspecified() && la.IsLoopback() {
				return true
			}
		case la.Is4() && !a.Is4():
			// 0.0.0.0 accepts IPv4 only.
		case a.IsUnspecified() || a.IsLoopback() || s.local.has(a):
			return true
		}
	}
	return false
}

// localAddrs caches the addresses of this host's interfaces for isSelf.
type localAddrs struct {
	mu    sync.Mutex
	at    time.Time
	addrs map[netip.Addr]bool
}

// localAddrsTTL is how long the interface list is reused.
const localAddrsTTL = 30 * time.Second

func (l *localAddrs) has(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil || time.Since(l.at) > localAddrsTTL {
		l.addrs, l.at = map[netip.Addr]bool{}, time.Now()
		if ifs, err := net.InterfaceAddrs(); err == nil {
			for _, ia := range ifs {
				if n, ok := ia.(*net.IPNet); ok {
					if x, ok := netip.AddrFromSlice(n.IP); ok {
						l.addrs[x.Unmap()] = true
					}
				}
			}
		}
	}
	return l.addrs[a]
}

// CheckTarget runs the guard on a webhook URL as a delivery would, without
// connecting: it resolves the host (bounded by 2s; a name that does not
// resolve now is not refused, it may resolve later) and returns the
// *BlockedError of the first refused address, or nil. The service calls it
// when a webhook is saved: KindSelf refuses the save, other kinds become a
// warning.
func (s *Sender) CheckTarget(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	port := uint16(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return nil
		}
		port = uint16(n)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := s.resolve(ctx, "tcp", u.Hostname())
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := s.check(u.Hostname(), a, port); err != nil {
			return err
		}
	}
	return nil
}

// dialGuarded is the transport's DialContext. It resolves the host with
// Options.Resolver, refuses the connection if ANY answer is refused (a name
// that mixes public and internal addresses is treated as hostile), then
// dials the checked IP literals in order. Because the address dialled is the
// one checked, a DNS answer that changes between check and connect (DNS
// rebinding) cannot reach an internal address. The net.Dialer's Control
// hook checks the socket address once more, as a second line of defence.
func (s *Sender) dialGuarded(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("guard: bad port %q", port)
	}
	addrs, err := s.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := s.check(host, a, uint16(pn)); err != nil {
			return nil, err
		}
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := s.dial(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// resolve returns the addresses of host: itself for an IP literal, else the
// resolver's answer for the network's address family.
func (s *Sender) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	family := "ip"
	switch network {
	case "tcp4":
		family = "ip4"
	case "tcp6":
		family = "ip6"
	}
	addrs, err := s.resolver.LookupNetIP(ctx, family, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// control is the net.Dialer Control hook: the last check, on the address
// the socket is about to connect to.
func (s *Sender) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("guard: unexpected dial address %q: %w", address, errors.ErrUnsupported)
	}
	return s.check("", ap.Addr(), ap.Port())
}
