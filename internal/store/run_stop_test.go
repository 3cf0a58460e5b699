package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// stopTx is what the panel's "Interrompi" does in its transaction, the
// stop and the end of the run when nothing is copying, with the backend's
// pid sent first so the test can see it wait.
func stopTx(ctx context.Context, f runFixture, pid chan<- uint32) error {
	return pgx.BeginFunc(ctx, f.db, func(tx pgx.Tx) error {
		var p uint32
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
			return err
		}
		pid <- p
		r, _, err := store.RequestStop(ctx, tx, f.acme.ID, f.m.ID)
		if err != nil {
			return err
		}
		_, _, _, err = store.EndRunIfDone(ctx, tx, f.acme.ID, r.ID)
		return err
	})
}

// waitBlocked waits until the backend pid waits for a lock.
func waitBlocked(t *testing.T, f runFixture, pid uint32) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, "the stop waits for a lock", func() (bool, string) {
		var n int
		require.NoError(t, f.db.QueryRow(f.ctx, `SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted`, pid).Scan(&n))
		return n > 0, "not waiting yet"
	})
}

// requireConsistent checks the migration, the run and its mailboxes agree
// once both sides are done.
func requireConsistent(t *testing.T, f runFixture) {
	t.Helper()
	r, err := store.GetRun(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	m, err := store.GetMigration(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	mbs, err := store.ListRunMailboxes(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	open := 0
	for _, b := range mbs {
		if !b.Status.Ended() {
			open++
		}
	}
	if r.Status == store.RunRunning {
		require.Positive(t, open, "a running run has a mailbox going")
		require.Equal(t, store.MigrationRunning, m.Status)
		return
	}
	require.Zero(t, open, "an ended run (%s) has no mailbox going", r.Status)
	require.NotEqual(t, store.MigrationRunning, m.Status, "the run ended %s, the migration cannot run", r.Status)
	if r.Status == store.RunCancelled {
		require.Equal(t, store.MigrationCancelled, m.Status)
	}
	requireTotalsEqualSum(t, f.fixture, f.acme.ID, f.m.ID)
}

// TestStopCollidesWithTheLastMailboxEnding makes "Interrompi" meet, for
// real, the worker ending the run's last mailbox: the worker's transaction
// has ended the mailbox and holds the run's row (as EndRunIfDone takes it)
// when the stop begins; the stop waits; then the worker ends the run and
// the migration. Taken in the other order (migration, then run) the stop
// deadlocked with the worker and PostgreSQL aborted one of them: a 500 on
// the panel or a worker's retry. Now the stop either finds the run ended
// (ErrNotFound: "not running") or stops it, and everything agrees.
func TestStopCollidesWithTheLastMailboxEnding(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna, marco := f.boxes[0], f.boxes[1]
	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, marco.ID, store.MailboxCompleted, store.MailboxCounters{Done: 3, Total: 3, Copied: 3}, i18n.Msg{}))
	_, err := store.StartMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)

	worker, err := f.db.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = worker.Rollback(f.ctx) }()
	require.NoError(t, store.FinishMailboxRun(f.ctx, worker, f.acme.ID, anna.ID, store.MailboxCompleted, store.MailboxCounters{Done: 5, Total: 5, Copied: 5}, i18n.Msg{}))
	_, err = store.LockRun(f.ctx, worker, f.acme.ID, f.run.ID)
	require.NoError(t, err)

	pid := make(chan uint32, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- stopTx(f.ctx, f, pid) }()
	waitBlocked(t, f, <-pid)

	_, ended, last, err := store.EndRunIfDone(f.ctx, worker, f.acme.ID, f.run.ID)
	require.NoError(t, err, "the worker's end of the run")
	require.True(t, ended)
	require.True(t, last, "the migration's only run")
	require.NoError(t, worker.Commit(f.ctx))
	err = <-stopped
	require.True(t, err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrWrongState), "the stop: %v", err)
	requireConsistent(t, f)
	r, err := store.GetRun(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCompleted, r.Status, "the worker ended it first")
}

// TestStopCollidesWithAMailboxStarting makes the stop meet a worker taking
// up a pending mailbox (its row, then the run's counters, locked): the stop
// waits for it and then leaves that mailbox to end cancelled at its next
// checkpoint, cancelling the other pending one at once.
func TestStopCollidesWithAMailboxStarting(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna, marco := f.boxes[0], f.boxes[1]

	worker, err := f.db.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = worker.Rollback(f.ctx) }()
	_, err = store.StartMailboxRun(f.ctx, worker, f.acme.ID, anna.ID)
	require.NoError(t, err)

	pid := make(chan uint32, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- stopTx(f.ctx, f, pid) }()
	waitBlocked(t, f, <-pid)
	require.NoError(t, store.SetMailboxProgress(f.ctx, worker, f.acme.ID, anna.ID, store.MailboxCounters{Done: 1, Total: 5, Copied: 1}, "INBOX"))
	require.NoError(t, worker.Commit(f.ctx))
	require.NoError(t, <-stopped)

	stop, err := store.StopRequested(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.True(t, stop)
	got, err := store.GetMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxRunning, got.Status, "it sees the stop at its next checkpoint")
	got, err = store.GetMailboxRun(f.ctx, f.db, f.acme.ID, marco.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxCancelled, got.Status)
	requireConsistent(t, f)

	// The worker sees the stop and ends its mailbox cancelled: the run ends.
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		if err := store.FinishMailboxRun(f.ctx, tx, f.acme.ID, anna.ID, store.MailboxCancelled, store.MailboxCounters{Done: 1, Total: 5, Copied: 1}, i18n.Msg{}); err != nil {
			return err
		}
		_, _, _, err := store.EndRunIfDone(f.ctx, tx, f.acme.ID, f.run.ID)
		return err
	}))
	requireConsistent(t, f)
	r, err := store.GetRun(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCancelled, r.Status)
}
