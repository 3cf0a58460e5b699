package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, tc := range []struct {
		name, peer, xff string
		trusted         []netip.Prefix
		want            string
	}{
		{"no proxy trusted: the header is ignored", "203.0.113.7:5000", "198.51.100.1", nil, "203.0.113.7"},
		{"untrusted peer cannot spoof", "203.0.113.7:5000", "198.51.100.1", proxies, "203.0.113.7"},
		{"trusted proxy names the client", "127.0.0.1:5000", "198.51.100.1", proxies, "198.51.100.1"},
		{"a forged left part is skipped", "127.0.0.1:5000", "6.6.6.6, 198.51.100.1", proxies, "198.51.100.1"},
		{"chained trusted proxies", "127.0.0.1:5000", "198.51.100.1, 10.1.2.3", proxies, "198.51.100.1"},
		{"only proxies: the farthest", "127.0.0.1:5000", "10.1.2.3", proxies, "10.1.2.3"},
		{"no header", "127.0.0.1:5000", "", proxies, "127.0.0.1"},
		{"garbage stops the walk", "127.0.0.1:5000", "198.51.100.1, not-an-ip", proxies, "127.0.0.1"},
		{"IPv6 client", "[::1]:5000", "2001:db8::5", []netip.Prefix{netip.MustParsePrefix("::1/128")}, "2001:db8::5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			require.Equal(t, tc.want, clientIP(r, tc.trusted))
		})
	}
}

// Behind a trusted proxy, one client's wrong passwords throttle that
// client, not everyone the proxy forwards; without the setting they
// throttle everyone (the proxy's address is all the panel sees).
func TestLoginThrottlingBehindAProxy(t *testing.T) {
	t.Parallel()
	login := func(b *browser, email, password, client string) int {
		return b.post("/login", url.Values{"email": {email}, "password": {password}}, "X-Forwarded-For", client).status
	}
	for _, trusted := range []bool{true, false} {
		o := panelOpts{maxFailures: 100, maxFailuresPerIP: 2}
		if trusted {
			o.trustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		}
		p := setup(t, o)
		_, email := p.tenant("acme", "acme.test")
		attacker, customer := p.browser(), p.browser()
		require.Equal(t, http.StatusUnauthorized, login(attacker, "x1@acme.test", "wrong", "198.51.100.1"))
		require.Equal(t, http.StatusUnauthorized, login(attacker, "x2@acme.test", "wrong", "198.51.100.1"))
		require.Equal(t, http.StatusTooManyRequests, login(attacker, email, userPassword, "198.51.100.1"), "trusted=%v", trusted)
		want := http.StatusSeeOther
		if !trusted {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, login(customer, email, userPassword, "198.51.100.2"), "trusted=%v", trusted)
	}
}
