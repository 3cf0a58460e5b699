package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestReserveResetRequest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	reserve := func(email, ip string, at time.Time) bool {
		t.Helper()
		ok, err := store.ReserveResetRequest(f.ctx, f.db, email, ip, at, at.Add(-time.Hour), 2, 3)
		require.NoError(t, err)
		return ok
	}
	// Per address, from any client, case-insensitively.
	require.True(t, reserve("anna@acme.test", "192.0.2.1", t0))
	require.True(t, reserve("ANNA@acme.test", "192.0.2.2", t0.Add(time.Minute)))
	require.False(t, reserve("anna@acme.test", "192.0.2.3", t0.Add(2*time.Minute)))
	// A refused request is not recorded: once the first leaves the window, one more.
	require.True(t, reserve("anna@acme.test", "192.0.2.3", t0.Add(time.Hour+time.Second)))
	require.False(t, reserve("anna@acme.test", "192.0.2.3", t0.Add(time.Hour+2*time.Second)))

	// Per client, for any address.
	require.True(t, reserve("a@acme.test", "198.51.100.9", t0))
	require.True(t, reserve("b@acme.test", "198.51.100.9", t0))
	require.True(t, reserve("c@acme.test", "198.51.100.9", t0))
	require.False(t, reserve("d@acme.test", "198.51.100.9", t0))
	require.True(t, reserve("d@acme.test", "198.51.100.10", t0))

	n, err := store.PruneResetRequests(f.ctx, f.db, t0.Add(time.Minute))
	require.NoError(t, err)
	require.EqualValues(t, 5, n)
}
