package config

import (
	"fmt"
	"strconv"
	"strings"
)

// EnvHostLimits names the caps per remote host pattern.
const EnvHostLimits = "TRASLOCO_HOST_LIMITS"

// MaxHostLimit is the largest cap of one HostLimit count (a count's slots
// are 256 lock keys at most).
const MaxHostLimit = 255

// HostLimit caps the mailboxes copied at once, and the test logins, from
// the remote hosts whose name matches Pattern. Each count is held across
// every worker process; 0 means the count is not capped.
type HostLimit struct {
	// Pattern is a host name ("imap.gmail.com") or "*." and a domain
	// ("*.example.com", the domain's hosts, not the domain itself); lower
	// case.
	Pattern string
	// Host caps the mailboxes from one matching host, for the whole
	// service: the unit of TRASLOCO_PER_HOST_LIMIT, right for a
	// customer's own server.
	Host int
	// Account caps the mailboxes from one source account (the line's
	// remote user) on one matching host: the unit big providers limit
	// connections by.
	Account int
	// Tenant caps the mailboxes of one customer from one matching host.
	Tenant int
}

// DefaultHostLimits are the built-in caps of the big shared providers,
// after the operator's own (which win on the same host). Gmail allows 15
// simultaneous IMAP connections per account and Office 365 about 20 per
// mailbox; the account's own mail programs keep theirs, so the panel takes
// at most 10 and 16. A customer's mailboxes on one provider are bounded at
// 20 (and by TRASLOCO_PER_TENANT_LIMIT besides). There is no service-wide
// cap: every customer leaving Gmail would otherwise share one.
var DefaultHostLimits = []HostLimit{
	{Pattern: "imap.gmail.com", Account: 10, Tenant: 20},
	{Pattern: "imap.googlemail.com", Account: 10, Tenant: 20},
	{Pattern: "outlook.office365.com", Account: 16, Tenant: 20},
}

// Matches reports whether host (a name without port) matches the pattern.
func (h HostLimit) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if dom, ok := strings.CutPrefix(h.Pattern, "*."); ok {
		return strings.HasSuffix(host, "."+dom)
	}
	return host == h.Pattern
}

// String is the rule as TRASLOCO_HOST_LIMITS writes it.
func (h HostLimit) String() string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int
	}{{"host", h.Host}, {"account", h.Account}, {"tenant", h.Tenant}} {
		if c.n > 0 {
			parts = append(parts, c.name+":"+strconv.Itoa(c.n))
		}
	}
	return h.Pattern + "=" + strings.Join(parts, ",")
}

// ParseHostLimits reads TRASLOCO_HOST_LIMITS: rules separated by ";",
// each "pattern=count:n[,count:n…]" with the counts host, account and
// tenant, e.g. "imap.gmail.com=account:5,tenant:10; *.aruba.it=host:8".
// A count left out is not capped; a rule needs at least one.
func ParseHostLimits(v string) ([]HostLimit, error) {
	var out []HostLimit
	seen := map[string]bool{}
	for _, rule := range strings.Split(v, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		pat, counts, ok := strings.Cut(rule, "=")
		pat = strings.ToLower(strings.TrimSpace(pat))
		if !ok || !validPattern(pat) {
			return nil, fmt.Errorf("%q: want pattern=count:n, the pattern a host name or *.domain", rule)
		}
		if seen[pat] {
			return nil, fmt.Errorf("%q: %s is named twice", rule, pat)
		}
		seen[pat] = true
		h := HostLimit{Pattern: pat}
		for _, c := range strings.Split(counts, ",") {
			name, num, _ := strings.Cut(strings.TrimSpace(c), ":")
			n, err := strconv.Atoi(strings.TrimSpace(num))
			if err != nil || n < 1 || n > MaxHostLimit {
				return nil, fmt.Errorf("%q: want count:n with n from 1 to %d, got %q", rule, MaxHostLimit, strings.TrimSpace(c))
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "host":
				h.Host = n
			case "account":
				h.Account = n
			case "tenant":
				h.Tenant = n
			default:
				return nil, fmt.Errorf("%q: the counts are host, account and tenant, got %q", rule, strings.TrimSpace(name))
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// WithDefaultHostLimits is rules followed by the built-in ones they do not
// name: the operator's rule of a pattern replaces the built-in one.
func WithDefaultHostLimits(rules []HostLimit) []HostLimit {
	out := append([]HostLimit(nil), rules...)
	for _, d := range DefaultHostLimits {
		named := false
		for _, r := range rules {
			named = named || r.Pattern == d.Pattern
		}
		if !named {
			out = append(out, d)
		}
	}
	return out
}

func validPattern(p string) bool {
	p = strings.TrimPrefix(p, "*.")
	if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == ':') {
			return false
		}
	}
	return true
}
