package sender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
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
	// "reserved".
	Kind string
}

func (e *BlockedError) Error() string {
	dest := e.Addr.String()
	if e.Host != "" && e.Host != dest {
		dest = e.Host + " (" + dest + ")"
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
	return fmt.Sprintf("destination %s is %s %s address; allow it with network.allow_cidrs", dest, article, kind)
}

var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
	ietf       = netip.MustParsePrefix("192.0.0.0/24") // IETF protocol assignments, incl. 192.0.0.192 (old OCI metadata)
	reserved4  = netip.MustParsePrefix("240.0.0.0/4")  // incl. 255.255.255.255
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	metadata4  = netip.MustParseAddr("169.254.169.254")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254") // AWS IMDS over IPv6
)

// classify returns what kind of non-public address a is, or "" for an
// address the guard lets through. IPv4-mapped IPv6 (::ffff:10.0.0.1) and
// NAT64 (64:ff9b::10.0.0.1) forms are judged by the IPv4 address they carry.
func classify(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if nat64.Contains(a) {
		b := a.As16()
		return classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
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
	case a.IsPrivate(): // 10/8, 172.16/12, 192.168/16, fc00::/7
		return "private"
	case cgnat.Contains(a):
		return "carrier-grade NAT"
	case ietf.Contains(a) || reserved4.Contains(a):
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

// check returns a *BlockedError if the guard refuses a.
func (s *Sender) check(host string, a netip.Addr) error {
	if s.allowed(a) {
		return nil
	}
	if kind := classify(a); kind != "" {
		return &BlockedError{Host: host, Addr: a, Kind: kind}
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
	addrs, err := s.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := s.check(host, a); err != nil {
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
	return s.check("", ap.Addr())
}
