// Package netguard keeps connections to customer-supplied hosts away from
// the provider's own networks: loopback, private, link-local and every
// other address that is not a public unicast address of the Internet is
// refused, unless the operator allows its network
// (TRASLOCO_ALLOW_REMOTE_NETS). The check runs on the address actually
// dialled, after DNS resolution, so a name that resolves (or is rebound)
// to an internal address is refused as well.
package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/trasloco/trasloco/internal/transfer"
)

// Guard decides which addresses a remote connection may reach. The zero
// Guard allows only public unicast addresses.
type Guard struct {
	// Allow lists networks that are reachable although not public (for
	// example 127.0.0.0/8 in tests and development). Default none.
	Allow []netip.Prefix
}

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
// Control receives it.
func (g Guard) CheckAddr(address string) error {
	if ap, err := netip.ParseAddrPort(address); err == nil {
		return g.Check(ap.Addr())
	}
	if ip, err := netip.ParseAddr(address); err == nil {
		return g.Check(ip)
	}
	return fmt.Errorf("%w: cannot parse %q", transfer.ErrForbiddenAddress, address)
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
