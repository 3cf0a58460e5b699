// Package netguard keeps connections to customer-supplied hosts away from
// the provider's own networks: loopback, private, link-local and every
// other address that is not a public unicast address of the Internet is
// refused, unless the operator allows its network
// (TRASLOCO_ALLOW_REMOTE_NETS). The check runs on the address actually
// dialled, after DNS resolution, so a name that resolves (or is rebound)
// to an internal address is refused as well.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/trasloco/trasloco/internal/transfer"
)

// Guard decides which addresses a remote connection may reach. The zero
// Guard allows only public unicast addresses, on the IMAP ports 143 and
// 993.
type Guard struct {
	// Allow lists networks that are reachable although not public (for
	// example 127.0.0.0/8 in tests and development). Default none.
	Allow []netip.Prefix
	// Ports are the remote ports allowed (TRASLOCO_ALLOW_REMOTE_PORTS).
	// Default DefaultPorts: 143 and 993.
	Ports []uint16
	// AllPorts allows every port: for tests, whose servers listen on
	// random ports. Default false.
	AllPorts bool
	// Deny lists networks never reached, even when public or allowed: the
	// provider's own (TRASLOCO_DENY_REMOTE_NETS). Default none.
	Deny []netip.Prefix
	// DenyAddrs are the addresses of our own IMAP server (see
	// OwnServer): a customer's line must not log in to our own customers'
	// mailboxes. Default none.
	DenyAddrs []netip.AddrPort
	// DenyHosts are the host names of our own IMAP server, lower case,
	// refused by CheckHost before any lookup. Default none.
	DenyHosts []string
}

// DefaultPorts are the remote ports a Guard allows unless told otherwise:
// IMAP and IMAPS.
var DefaultPorts = []uint16{143, 993}

// Errors of CheckHost, besides transfer.ErrForbiddenAddress.
var (
	// ErrPortNotAllowed is a remote port outside Guard.Ports.
	ErrPortNotAllowed = errors.New("remote port not allowed")
	// ErrOwnServer is a remote host that is our own IMAP server.
	ErrOwnServer = errors.New("remote host is our own server")
)

type blocked struct {
	prefix netip.Prefix
	kind   string
}

// blockedNets are the special-purpose ranges of the IANA IPv4 and IPv6
// registries that must not be reached from a customer's input.
var blockedNets = func() []blocked {
	var out []blocked
	for _, b := range []struct{ cidr, kind string }{
		{"0.0.0.0/8", "\"this network\""},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"}, // includes the broadcast 255.255.255.255
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible"},
		{"64:ff9b:1::/48", "local NAT64"},
		{"100::/64", "discard"},
		{"::ffff:0:0:0/96", "IPv4-translated"},
		{"2001::/32", "Teredo"},
		{"2001:db8::/32", "documentation"},
		{"3fff::/20", "documentation"},
		{"fc00::/7", "unique local"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	} {
		out = append(out, blocked{netip.MustParsePrefix(b.cidr), b.kind})
	}
	return out
}()

// Prefixes of IPv6 ranges that embed an IPv4 address, which is checked too.
var (
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	sixTo = netip.MustParsePrefix("2002::/16")
)

// Check returns nil when ip may be dialled, else an error wrapping
// transfer.ErrForbiddenAddress that says what kind of address it is.
func (g Guard) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", transfer.ErrForbiddenAddress)
	}
	ip = ip.WithZone("")
	if g.allowed(ip) {
		return nil
	}
	addr := ip.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if g.allowed(addr) {
		return nil
	}
	if kind := blockedKind(addr); kind != "" {
		return fmt.Errorf("%w: %s is a %s address", transfer.ErrForbiddenAddress, ip, kind)
	}
	if embedded, ok := embeddedIPv4(addr); ok {
		if g.allowed(embedded) {
			return nil
		}
		if kind := blockedKind(embedded); kind != "" {
			return fmt.Errorf("%w: %s embeds %s, a %s address", transfer.ErrForbiddenAddress, ip, embedded, kind)
		}
	}
	return nil
}

func (g Guard) allowed(ip netip.Addr) bool {
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func blockedKind(ip netip.Addr) string {
	for _, b := range blockedNets {
		if b.prefix.Contains(ip) {
			return b.kind
		}
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address inside a NAT64 (64:ff9b::/96) or
// 6to4 (2002::/16) address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case !ip.Is6():
		return netip.Addr{}, false
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// CheckAddr checks an "ip:port" (or a bare IP) string, as a dialer's
// Control receives it: the port must be allowed, the address neither our
// own server's nor in a denied network, and it must pass Check.
func (g Guard) CheckAddr(address string) error {
	if ap, err := netip.ParseAddrPort(address); err == nil {
		if err := g.checkPort(ap.Port()); err != nil {
			return fmt.Errorf("%w: %w", transfer.ErrForbiddenAddress, err)
		}
		if err := g.checkDenied(ap); err != nil {
			return err
		}
		return g.Check(ap.Addr())
	}
	if ip, err := netip.ParseAddr(address); err == nil {
		return g.Check(ip)
	}
	return fmt.Errorf("%w: cannot parse %q", transfer.ErrForbiddenAddress, address)
}

// PortList is the allowed ports for a message: "143, 993".
func (g Guard) PortList() string {
	if g.AllPorts {
		return "*"
	}
	ports := g.Ports
	if len(ports) == 0 {
		ports = DefaultPorts
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}

func (g Guard) checkPort(p uint16) error {
	ports := g.Ports
	if len(ports) == 0 {
		ports = DefaultPorts
	}
	if g.AllPorts || slices.Contains(ports, p) {
		return nil
	}
	return fmt.Errorf("%w: %d", ErrPortNotAllowed, p)
}

func (g Guard) checkDenied(ap netip.AddrPort) error {
	ip := ap.Addr().WithZone("").Unmap()
	for _, d := range g.DenyAddrs {
		if d.Addr().Unmap() == ip && d.Port() == ap.Port() {
			return fmt.Errorf("%w: %w: %s", transfer.ErrForbiddenAddress, ErrOwnServer, ap)
		}
	}
	for _, p := range g.Deny {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in the denied network %s", transfer.ErrForbiddenAddress, ip, p)
		}
	}
	return nil
}

// CheckHost checks a remote host as a CSV line gives it ("host",
// "host:port", "ip", "[ipv6]:port"; defaultPort when it has none) before
// anything is dialled: ErrPortNotAllowed for a port outside Ports,
// ErrOwnServer for one of DenyHosts or DenyAddrs, and for an IP literal
// whatever CheckAddr says. A host name's addresses are checked when it is
// dialled (Dialer).
func (g Guard) CheckHost(hostport string, defaultPort int) error {
	host, port := hostport, defaultPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: %q", ErrPortNotAllowed, p)
		}
		host, port = h, n
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("%w: %d", ErrPortNotAllowed, port)
	}
	if err := g.checkPort(uint16(port)); err != nil {
		return err
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if slices.Contains(g.DenyHosts, name) {
		return fmt.Errorf("%w: %s", ErrOwnServer, name)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		err := g.CheckAddr(netip.AddrPortFrom(ip, uint16(port)).String())
		if errors.Is(err, ErrOwnServer) {
			return fmt.Errorf("%w: %s", ErrOwnServer, ip)
		}
		return err
	}
	return nil
}

// OwnServer adds our own IMAP server to the guard: its host names (the
// destination's, and those customers know it by) in DenyHosts, and every
// address they resolve to now in DenyAddrs, on the ports given and the
// IMAP ports. A name that does not resolve is kept in DenyHosts only.
func (g *Guard) OwnServer(ctx context.Context, r *net.Resolver, names []string, ports []uint16) {
	ports = append(slices.Clone(ports), 143, 993)
	var addrs []netip.Addr
	for _, n := range names {
		host := n
		if h, p, err := net.SplitHostPort(n); err == nil {
			host = h
			if v, err := strconv.Atoi(p); err == nil && v > 0 && v < 65536 {
				ports = append(ports, uint16(v))
			}
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		switch ip, err := netip.ParseAddr(host); {
		case host == "":
		case err == nil:
			// An address: only its IMAP ports are ours (a test's or a
			// development's other servers may share it).
			addrs = append(addrs, ip)
		default:
			if !slices.Contains(g.DenyHosts, host) {
				g.DenyHosts = append(g.DenyHosts, host)
			}
			if r != nil {
				found, _ := r.LookupNetIP(ctx, "ip", host)
				addrs = append(addrs, found...)
			}
		}
	}
	for _, a := range addrs {
		for _, p := range ports {
			ap := netip.AddrPortFrom(a.Unmap(), p)
			if !slices.Contains(g.DenyAddrs, ap) {
				g.DenyAddrs = append(g.DenyAddrs, ap)
			}
		}
	}
}

// Dialer returns a dialer whose Control refuses, just before connecting,
// any address Check refuses: the address actually dialled after DNS
// resolution, so DNS rebinding cannot get around the guard. Pass it as
// transfer.Endpoint.Dialer.
func (g Guard) Dialer() *net.Dialer {
	return &net.Dialer{
		Control: func(network, address string, _ syscall.RawConn) error {
			return g.CheckAddr(address)
		},
	}
}
