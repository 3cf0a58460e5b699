package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address login throttling counts failures by. It is the
// TCP peer, unless the peer is one of the trusted reverse proxies: then it
// is the nearest address in X-Forwarded-For that is not a trusted proxy
// itself (read from the right, since a client can put anything on the
// left). A header from anyone else is ignored.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !inPrefixes(addr, trusted) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last hop we could read
		}
		client = a.Unmap().String()
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return client
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
