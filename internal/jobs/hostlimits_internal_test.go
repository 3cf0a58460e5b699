package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
)

// The counts a mailbox takes a slot in: a plain host's own, service-wide;
// Gmail's and Office 365's per customer and per account, out of the box.
func TestRemoteCounts(t *testing.T) {
	t.Parallel()
	d := Deps{PerHostLimit: 4, HostLimits: config.WithDefaultHostLimits(nil)}
	plainA := d.remoteCounts(1, "IMAP.Old.test:993", "anna@old.test")
	require.Len(t, plainA, 1)
	require.Equal(t, "host", plainA[0].count)
	require.Len(t, plainA[0].keys, 4)
	require.Equal(t, plainA, d.remoteCounts(2, "imap.old.test", "bob@old.test"), "a plain host's 4 are the whole service's")
	for i, k := range plainA[0].keys {
		require.Equal(t, hostLockKey("imap.old.test", i), k, "the keys of the host's slots are unchanged")
	}

	for _, host := range []string{"imap.gmail.com:993", "outlook.office365.com"} {
		a1 := d.remoteCounts(1, host, "anna@acme.test")
		require.Len(t, a1, 2, host)
		require.Equal(t, "account", a1[0].count)
		require.Equal(t, "tenant", a1[1].count)
		a2 := d.remoteCounts(1, host, "ANNA@acme.test")
		require.Equal(t, a1, a2, "%s: one account, whatever its case", host)
		b1 := d.remoteCounts(1, host, "bea@acme.test")
		require.Equal(t, a1[1], b1[1], "%s: one customer's count", host)
		require.NotEqual(t, a1[0].keys, b1[0].keys, "%s: each account its own", host)
		other := d.remoteCounts(2, host, "anna@acme.test")
		require.NotEqual(t, a1[1].keys, other[1].keys, "%s: each customer its own", host)
	}
	require.Len(t, d.remoteCounts(1, "imap.gmail.com", "x")[0].keys, 10)
	require.Len(t, d.remoteCounts(1, "outlook.office365.com", "x")[0].keys, 16)

	// An operator's rule: host and account counts on a domain's hosts.
	d.HostLimits = config.WithDefaultHostLimits([]config.HostLimit{{Pattern: "*.aruba.it", Host: 8, Account: 2}})
	c := d.remoteCounts(1, "imaps.aruba.it", "anna@acme.test")
	require.Len(t, c, 2)
	require.Equal(t, "host", c[0].count)
	require.Len(t, c[0].keys, 8)
	require.Equal(t, "account", c[1].count)
	require.Len(t, c[1].keys, 2)

	// No two counts share a lock key.
	seen := map[int64]string{}
	for _, cs := range [][]remoteCount{plainA, c, d.remoteCounts(1, "imap.gmail.com", "anna@acme.test"), d.remoteCounts(2, "imap.gmail.com", "anna@acme.test")} {
		for _, rc := range cs {
			for _, k := range rc.keys {
				if id, dup := seen[k]; dup {
					require.Equal(t, id, rc.id, "key %x", k)
				}
				seen[k] = rc.id
			}
		}
	}
}
