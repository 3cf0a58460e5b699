package store_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// runFixture is an acme migration of two valid lines with run 1 started.
type runFixture struct {
	fixture
	m     store.Migration
	run   store.Run
	boxes []store.MailboxRun
}

func setupRun(t *testing.T) runFixture {
	t.Helper()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"), line(2, "marco@acme.test"))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		require.NoError(t, store.SetLineResult(f.ctx, f.db, f.acme.ID, l.ID, store.LineResult{Status: store.LineOK}))
	}
	require.NoError(t, store.SetMigrationStatus(f.ctx, f.db, f.acme.ID, m.ID, store.MigrationScheduled, store.MigrationValidating))
	r, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt})
	require.NoError(t, err)
	rf := runFixture{fixture: f, m: m}
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		rf.run, err = store.StartRun(f.ctx, tx, f.acme.ID, r.ID)
		if err != nil {
			return err
		}
		rf.boxes, err = store.CreateMailboxRuns(f.ctx, tx, f.acme.ID, r.ID)
		return err
	}))
	require.Len(t, rf.boxes, 2)
	return rf
}

func (f runFixture) endRunIfDone(t *testing.T, tenantID int64) (ended, last bool) {
	t.Helper()
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		var err error
		_, ended, last, err = store.EndRunIfDone(f.ctx, tx, tenantID, f.run.ID)
		return err
	}))
	return ended, last
}

func TestMailboxRunLifecycle(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna, marco := f.boxes[0], f.boxes[1]
	require.Equal(t, "anna@acme.test", anna.LocalUser)
	require.Equal(t, store.MailboxPending, anna.Status)
	require.Equal(t, store.RunRunning, f.run.Status)
	m, err := store.GetMigration(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationRunning, m.Status)

	// Creating them again adds nothing.
	again, err := store.CreateMailboxRuns(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.Len(t, again, 2)

	got, err := store.StartMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxRunning, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.NoError(t, store.SetMailboxProgress(f.ctx, f.db, f.acme.ID, anna.ID, store.MailboxCounters{Copied: 5, Gone: 1, Done: 5, Total: 10}, "INBOX"))
	got, err = store.GetMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, 5, got.Copied)
	require.Equal(t, 1, got.Gone)
	require.Equal(t, "INBOX", got.CurrentFolder)

	// One mailbox still to go: the run does not end.
	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID, store.MailboxCompleted, store.MailboxCounters{Copied: 10, Gone: 2, Done: 10, Total: 10}, i18n.Msg{}))
	got, err = store.GetMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Gone, "the final counters")
	ended, _ := f.endRunIfDone(t, f.acme.ID)
	require.False(t, ended)
	// Ending a mailbox twice is refused, so only one caller goes on.
	err = store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("log.text", "late"))
	require.ErrorIs(t, err, store.ErrWrongState)
	_, err = store.StartMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.ErrorIs(t, err, store.ErrWrongState)

	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, marco.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("log.text", "utente o password errati")))
	ended, last := f.endRunIfDone(t, f.acme.ID)
	require.True(t, ended)
	require.True(t, last)
	ended, _ = f.endRunIfDone(t, f.acme.ID)
	require.False(t, ended, "a run ends once")
	r, err := store.GetRun(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCompletedWithErrors, r.Status)
	m, err = store.GetMigration(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompletedWithErrors, m.Status)

	// The failed line keeps its password for a retry; the other loses it.
	require.NoError(t, store.EraseFinishedPasswords(f.ctx, f.db, f.acme.ID, f.m.ID))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Nil(t, lines[0].RemotePasswordEnc)
	require.NotNil(t, lines[1].RemotePasswordEnc)

	// Retrying reopens only the failed mailbox, the run and the migration.
	var reopened []store.MailboxRun
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		reopened, err = store.ReopenFailedMailboxes(f.ctx, tx, f.acme.ID, f.run.ID)
		return err
	}))
	require.Len(t, reopened, 1)
	require.Equal(t, marco.ID, reopened[0].ID)
	require.Equal(t, store.MailboxPending, reopened[0].Status)
	r, err = store.GetRun(f.ctx, f.db, f.acme.ID, f.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunRunning, r.Status)
	require.Nil(t, r.EndedAt)

	// The stale-password purge erases what a long-ended migration kept.
	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, marco.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("log.text", "still wrong")))
	ended, _ = f.endRunIfDone(t, f.acme.ID)
	require.True(t, ended)
	n, err := store.PurgeStalePasswords(f.ctx, f.db, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "ended just now: kept")
	_, err = store.PurgeStalePasswords(f.ctx, f.db, time.Now().Add(time.Hour))
	require.NoError(t, err)
	lines, err = store.ListLines(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Nil(t, lines[1].RemotePasswordEnc)
}

func TestMailboxLogsAndSkipped(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna := f.boxes[0]
	at := time.Now().Truncate(time.Microsecond)
	require.NoError(t, store.AppendMailboxLogs(f.ctx, f.db, f.acme.ID, anna.ID, []store.LogLine{
		{At: at, Level: "info", Message: "first"},
		{At: at, Level: "warn", Folder: "INBOX", Message: "second"},
	}))
	logs, err := store.ListMailboxLogs(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Len(t, logs, 2)
	require.Equal(t, "first", logs[0].Message)
	require.Equal(t, "INBOX", logs[1].Folder)

	s := store.SkippedMessage{MailboxRunID: anna.ID, Folder: "INBOX", UID: 7, Size: 40 << 20, Subject: "Tavole"}
	require.NoError(t, store.AddSkippedMessage(f.ctx, f.db, f.acme.ID, s))
	require.NoError(t, store.AddSkippedMessage(f.ctx, f.db, f.acme.ID, s), "reported again by a later attempt")
	sk, err := store.ListSkippedMessages(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Len(t, sk, 1)
	require.Equal(t, "too_large", sk[0].Reason)
}

// Tenant beta reaches none of acme's mailbox runs, logs or skipped
// messages, by guessing ids or otherwise, and changes nothing.
func TestMailboxRunsTenantIsolation(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna := f.boxes[0]
	b := f.beta.ID
	_, err := store.GetMailboxRun(f.ctx, f.db, b, anna.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.StartMailboxRun(f.ctx, f.db, b, anna.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, store.FinishMailboxRun(f.ctx, f.db, b, anna.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("log.text", "x")), store.ErrNotFound)
	require.ErrorIs(t, store.AppendMailboxLogs(f.ctx, f.db, b, anna.ID, []store.LogLine{{At: time.Now(), Level: "info", Message: "x"}}), store.ErrNotFound)
	require.ErrorIs(t, store.AddSkippedMessage(f.ctx, f.db, b, store.SkippedMessage{MailboxRunID: anna.ID, Folder: "x", UID: 1}), store.ErrNotFound)
	require.NoError(t, store.SetMailboxProgress(f.ctx, f.db, b, anna.ID, store.MailboxCounters{Copied: 99}, "x"))
	require.NoError(t, store.SetMailboxError(f.ctx, f.db, b, anna.ID, i18n.New("log.text", "x")))
	for _, list := range []func() (int, error){
		func() (int, error) { l, err := store.ListRunMailboxes(f.ctx, f.db, b, f.run.ID); return len(l), err },
		func() (int, error) {
			l, err := store.ListMigrationMailboxes(f.ctx, f.db, b, f.m.ID)
			return len(l), err
		},
		func() (int, error) { l, err := store.ListMailboxLogs(f.ctx, f.db, b, anna.ID); return len(l), err },
		func() (int, error) { l, err := store.ListSkippedMessages(f.ctx, f.db, b, anna.ID); return len(l), err },
		func() (int, error) { l, err := store.CreateMailboxRuns(f.ctx, f.db, b, f.run.ID); return len(l), err },
	} {
		n, err := list()
		require.NoError(t, err)
		require.Zero(t, n)
	}
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		_, err := store.StartRun(f.ctx, tx, b, f.run.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, _, err = store.EndRunIfDone(f.ctx, tx, b, f.run.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = store.ReopenFailedMailboxes(f.ctx, tx, b, f.run.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = store.LockRun(f.ctx, tx, b, f.run.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = store.LockMailboxRun(f.ctx, tx, b, anna.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}))
	require.NoError(t, store.EraseFinishedPasswords(f.ctx, f.db, b, f.m.ID))

	// acme's rows are as they were.
	got, err := store.GetMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxPending, got.Status)
	require.Zero(t, got.Copied)
	require.Empty(t, got.Reason(i18n.Italian))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		require.NotNil(t, l.RemotePasswordEnc)
	}
	logs, err := store.ListMailboxLogs(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.Empty(t, logs)
}

// A mailbox completed with messages that failed (the old server did not
// deliver them) keeps its password and is retried like a failed one; one
// completed with only messages over 30 MB is done.
func TestMailboxWithFailedMessagesIsRetryable(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna, marco := f.boxes[0], f.boxes[1]
	for _, b := range f.boxes {
		_, err := store.StartMailboxRun(f.ctx, f.db, f.acme.ID, b.ID)
		require.NoError(t, err)
	}
	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID, store.MailboxCompletedWithErrors,
		store.MailboxCounters{Found: 6, Copied: 5, Failed: 1, Done: 6, Total: 6}, i18n.New("run.some_failed", 1)))
	require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, marco.ID, store.MailboxCompleted,
		store.MailboxCounters{Found: 6, Copied: 5, TooLarge: 1, Done: 5, Total: 5}, i18n.Msg{}))
	ended, _ := f.endRunIfDone(t, f.acme.ID)
	require.True(t, ended)
	got, err := store.GetMailboxRun(f.ctx, f.db, f.acme.ID, anna.ID)
	require.NoError(t, err)
	require.True(t, got.Retryable())

	require.NoError(t, store.EraseFinishedPasswords(f.ctx, f.db, f.acme.ID, f.m.ID))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.NotNil(t, lines[0].RemotePasswordEnc, "anna's password is kept for Riprova")
	require.Nil(t, lines[1].RemotePasswordEnc, "marco is done")

	var reopened []store.MailboxRun
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		reopened, err = store.ReopenFailedMailboxes(f.ctx, tx, f.acme.ID, f.run.ID)
		return err
	}))
	require.Len(t, reopened, 1)
	require.Equal(t, anna.ID, reopened[0].ID)
	require.Equal(t, store.MailboxPending, reopened[0].Status)
}
