package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// A back-off is the tenant's own, keeps the later of two, and is over at
// its time; the purge deletes the ones over.
func TestRemoteBackOffs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	look := func(tenantID int64, host, account string, now time.Time) (time.Time, bool) {
		t.Helper()
		until, ok, err := store.RemoteBackOff(f.ctx, f.db, tenantID, host, account, now)
		require.NoError(t, err)
		return until, ok
	}
	require.NoError(t, store.BackOffRemote(f.ctx, f.db, f.acme.ID, "imap.gmail.com", "Anna@Gmail.com", t0.Add(time.Hour)))
	until, ok := look(f.acme.ID, "IMAP.gmail.com", "anna@gmail.com", t0)
	require.True(t, ok)
	require.True(t, until.Equal(t0.Add(time.Hour)))
	_, ok = look(f.beta.ID, "imap.gmail.com", "anna@gmail.com", t0)
	require.False(t, ok, "another tenant's back-off")
	_, ok = look(f.acme.ID, "imap.gmail.com", "bob@gmail.com", t0)
	require.False(t, ok, "another account's")

	// An earlier one does not shorten it; a later one lengthens it.
	require.NoError(t, store.BackOffRemote(f.ctx, f.db, f.acme.ID, "imap.gmail.com", "anna@gmail.com", t0.Add(time.Minute)))
	until, _ = look(f.acme.ID, "imap.gmail.com", "anna@gmail.com", t0)
	require.True(t, until.Equal(t0.Add(time.Hour)))
	require.NoError(t, store.BackOffRemote(f.ctx, f.db, f.acme.ID, "imap.gmail.com", "anna@gmail.com", t0.Add(2*time.Hour)))
	until, _ = look(f.acme.ID, "imap.gmail.com", "anna@gmail.com", t0)
	require.True(t, until.Equal(t0.Add(2*time.Hour)))
	_, ok = look(f.acme.ID, "imap.gmail.com", "anna@gmail.com", t0.Add(2*time.Hour))
	require.False(t, ok, "over at its time")

	require.NoError(t, store.BackOffRemote(f.ctx, f.db, f.beta.ID, "outlook.office365.com", "x@beta.test", t0.Add(3*time.Hour)))
	n, err := store.PruneRemoteBackOffs(f.ctx, f.db, t0.Add(150*time.Minute))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, ok = look(f.beta.ID, "outlook.office365.com", "x@beta.test", t0)
	require.True(t, ok, "not over yet: kept")
}
