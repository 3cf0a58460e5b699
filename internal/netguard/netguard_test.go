package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/transfer"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip      string
		allowed bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2a00:1450:4001:82a::200e", true},
		{"172.32.0.1", true},
		{"100.128.0.1", true},
		{"198.20.0.1", true},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"192.0.2.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"192.0.0.8", false},
		{"::", false},
		{"::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"ff02::1", false},
		{"2001:db8::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"::127.0.0.1", false},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::8.8.8.8", true},
		{"2002:c0a8:0101::1", false}, // 6to4 of 192.168.1.1
		{"2002:0808:0808::1", true},
	} {
		err := Guard{}.Check(netip.MustParseAddr(tc.ip))
		if tc.allowed {
			require.NoError(t, err, tc.ip)
			continue
		}
		require.ErrorIs(t, err, transfer.ErrForbiddenAddress, tc.ip)
	}
	require.ErrorIs(t, Guard{}.Check(netip.Addr{}), transfer.ErrForbiddenAddress)
}

func TestCheckAllow(t *testing.T) {
	t.Parallel()
	g := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00::/8")}}
	for _, ip := range []string{"127.0.0.1", "::ffff:127.0.0.1", "10.20.3.4", "fd00::5"} {
		require.NoError(t, g.Check(netip.MustParseAddr(ip)), ip)
	}
	for _, ip := range []string{"::1", "10.21.0.1", "192.168.0.1", "fc00::1"} {
		require.ErrorIs(t, g.Check(netip.MustParseAddr(ip)), transfer.ErrForbiddenAddress, ip)
	}
	err := Guard{}.Check(netip.MustParseAddr("192.168.0.1"))
	require.EqualError(t, err, "address not allowed: 192.168.0.1 is a private address")
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	require.NoError(t, Guard{}.CheckAddr("8.8.8.8:993"))
	require.NoError(t, Guard{}.CheckAddr("[2a00:1450::1]:993"))
	require.ErrorIs(t, Guard{}.CheckAddr("[::1]:993"), transfer.ErrForbiddenAddress)
	require.ErrorIs(t, Guard{}.CheckAddr("localhost:993"), transfer.ErrForbiddenAddress)
}

func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestDialer(t *testing.T) {
	t.Parallel()
	addr := listen(t)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Refused without an allowance, by IP and by a name that resolves to it.
	for _, a := range []string{addr, net.JoinHostPort("localhost", port)} {
		_, err := Guard{}.Dialer().DialContext(ctx, "tcp", a)
		require.ErrorIs(t, err, transfer.ErrForbiddenAddress, a)
	}

	g := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	_, err := g.Dialer().DialContext(ctx, "tcp", addr)
	require.ErrorIs(t, err, ErrPortNotAllowed, "only 143 and 993 by default")
	g.AllPorts = true
	c, err := g.Dialer().DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	c.Close()
}

// Ports outside the allowed ones, denied networks and our own IMAP
// server are refused before connecting: the listener never sees a
// connection.
func TestDialerRefusesWithoutConnecting(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	addr := l.Addr().String()
	ap := netip.MustParseAddrPort(addr)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	ctx := context.Background()
	for name, tc := range map[string]struct {
		g    Guard
		want error
	}{
		"port":       {Guard{Allow: loopback, Ports: []uint16{143, 993, ap.Port() + 1}}, ErrPortNotAllowed},
		"denied net": {Guard{Allow: loopback, AllPorts: true, Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, transfer.ErrForbiddenAddress},
		"own server": {Guard{Allow: loopback, AllPorts: true, DenyAddrs: []netip.AddrPort{ap}}, ErrOwnServer},
	} {
		_, err := tc.g.Dialer().DialContext(ctx, "tcp", addr)
		require.ErrorIs(t, err, tc.want, name)
		require.ErrorIs(t, err, transfer.ErrForbiddenAddress, name)
	}
	g := Guard{Allow: loopback, Ports: []uint16{ap.Port()}}
	c, err := g.Dialer().DialContext(ctx, "tcp", addr)
	require.NoError(t, err, "an allowed port")
	c.Close()
	require.Eventually(t, func() bool { return accepted.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 1, accepted.Load(), "only the allowed dial connected")
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	var g Guard
	g.OwnServer(context.Background(), nil, []string{"IMAP.Provider.Example.", "198.51.100.7:10993"}, nil)
	g.Allow = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	for _, tc := range []struct {
		host string
		want error
	}{
		{"imap.old.example", nil},
		{"imap.old.example:143", nil},
		{"imap.old.example:25", ErrPortNotAllowed},
		{"203.0.113.5:25", ErrPortNotAllowed},
		{"[2a00:1450::1]:8080", ErrPortNotAllowed},
		{"imap.provider.example", ErrOwnServer},
		{"imap.provider.example.:143", ErrOwnServer},
		{"198.51.100.7", ErrOwnServer},
		{"198.51.100.7:143", ErrOwnServer},
		{"198.51.100.8", nil},
		{"10.0.0.1", transfer.ErrForbiddenAddress},
	} {
		err := g.CheckHost(tc.host, 993)
		if tc.want == nil {
			require.NoError(t, err, tc.host)
		} else {
			require.ErrorIs(t, err, tc.want, tc.host)
		}
	}
	require.Contains(t, g.DenyAddrs, netip.MustParseAddrPort("198.51.100.7:10993"))
}

// TestDialerThroughTransfer shows the engine classifies a refusal of the
// guard as ReasonForbidden.
func TestDialerThroughTransfer(t *testing.T) {
	t.Parallel()
	addr := listen(t)
	_, err := transfer.Check(context.Background(), transfer.PresetStandardNoSSL, transfer.Endpoint{
		Host: addr, User: "u", Password: "p", Dialer: Guard{}.Dialer(),
	}, transfer.Timeouts{Dial: 5 * time.Second, Command: 5 * time.Second}, false)
	var ce *transfer.ConnError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Equal(t, transfer.ReasonForbidden, ce.Reason)
}
