package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// The pg_locks pre-check sees exactly the slot locks tryLock takes.
func TestHostSlotFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.NewTestDB(t)
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
	require.NoError(t, err)
	defer conn.Close(ctx)

	// Locks of another database on the same cluster do not count.
	other := testenv.NewTestDB(t)
	otherConn, err := pgx.ConnectConfig(ctx, other.Config().ConnConfig)
	require.NoError(t, err)
	defer otherConn.Close(ctx)
	for slot := range 2 {
		ok, err := tryLock(ctx, otherConn, hostLockKey("imap.old.test", slot))
		require.NoError(t, err)
		require.True(t, ok)
	}
	free, err := hostSlotFree(ctx, pool, "imap.old.test", 2)
	require.NoError(t, err)
	require.True(t, free)
	for slot := range 2 {
		ok, err := tryLock(ctx, conn, hostLockKey("imap.old.test", slot))
		require.NoError(t, err)
		require.True(t, ok)
	}
	free, err = hostSlotFree(ctx, pool, "imap.old.test", 2)
	require.NoError(t, err)
	require.False(t, free, "both slots held")
	free, err = hostSlotFree(ctx, pool, "imap.old.test", 3)
	require.NoError(t, err)
	require.True(t, free, "a third slot is free")
	free, err = hostSlotFree(ctx, pool, "imap.other.test", 1)
	require.NoError(t, err)
	require.True(t, free, "another host's slots are its own")
	_, err = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, hostLockKey("imap.old.test", 1))
	require.NoError(t, err)
	free, err = hostSlotFree(ctx, pool, "imap.old.test", 2)
	require.NoError(t, err)
	require.True(t, free)
}

func TestWaitAgainGrowsWithSnoozes(t *testing.T) {
	t.Parallel()
	poll := 10 * time.Second
	job := func(md string) *river.Job[MailboxArgs] {
		return &river.Job[MailboxArgs]{JobRow: &rivertype.JobRow{Metadata: []byte(md)}}
	}
	for range 20 {
		d := waitAgain(job(`{}`), poll)
		require.GreaterOrEqual(t, d, poll)
		require.LessOrEqual(t, d, poll+poll/2)
		d = waitAgain(job(`{"snoozes": 12}`), poll)
		require.GreaterOrEqual(t, d, 3*poll)
		require.LessOrEqual(t, d, 3*poll+poll/2)
		d = waitAgain(job(`{"snoozes": 500}`), poll)
		require.GreaterOrEqual(t, d, 6*poll)
		require.LessOrEqual(t, d, 6*poll+poll/2)
	}
}

// hostSlotFree is the pre-check of a plain host's count, limit slots.
func hostSlotFree(ctx context.Context, db store.DBTX, host string, limit int) (bool, error) {
	counts := Deps{PerHostLimit: limit}.remoteCounts(1, host, "anyone")
	return slotsFree(ctx, db, counts[0].keys)
}
