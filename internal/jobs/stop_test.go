package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// TestStopRunThenResume stops a run mid-copy as "Interrompi" does: the
// copying mailbox writes its checkpoint and ends cancelled with what it
// copied, the one waiting for the host is cancelled at once, run 2 is
// cancelled with its job, the run ends cancelled with an email saying so;
// "Riprendi" then copies only what is missing, nothing twice.
func TestStopRunThenResume(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mailer := f.runDeps()
	f.deps.StopPoll = 100 * time.Millisecond
	f.deps.PerHostLimit = 1
	anna := f.user(t, "pw-anna", true)
	bob := f.user(t, "pw-bob", true)
	c := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, c, "INBOX", msgList(290, 0, 120, 12000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgList(291, 0, 60, 12000)...)
	testenv.Append(t, f.src.Dial(t, bob, "pw-bob"), "INBOX", msgList(292, 0, 180, 12000)...)
	proxy := slowProxy(t, f.src.TLSAddr(), 400<<10)
	first := time.Now().Add(time.Hour)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, proxy, anna, bob, proxy, bob)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, second: true, first: first, secondAt: first.Add(2 * time.Hour)})
	rc := f.client(t, 2)
	runs := f.validate(t, rc, m)
	require.Len(t, runs, 2)
	f.startNow(t, rc, runs[0])
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	// One copies (the host's limit is 1), the other waits.
	var copying, waiting string
	var copyingLine int64
	waitFor(t, time.Minute, "part of a mailbox copied", func() (bool, string) {
		for i, u := range []string{anna, bob} {
			if n := countCopied(t, f, lines[i].ID); n >= 20 {
				copying, waiting, copyingLine = u, []string{bob, anna}[i], lines[i].ID
				return true, ""
			}
		}
		return false, "nothing yet"
	})
	require.Equal(t, store.MailboxPending, f.mailboxes(t, runs[0].ID)[waiting].Status, "waits for the host")
	folders := map[string]string{"INBOX": "INBOX"}
	if copying == anna {
		folders["INBOX.Clienti"] = "Clienti"
	}
	pw := map[string]string{anna: "pw-anna", bob: "pw-bob"}

	// The stop, as the panel asks it.
	require.NoError(t, pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		rn, jobIDs, err := store.RequestStop(f.ctx, tx, f.tenant.ID, m.ID)
		if err != nil {
			return err
		}
		require.Equal(t, runs[0].ID, rn.ID)
		require.Equal(t, []int64{runs[1].RiverJobID}, jobIDs)
		for _, id := range jobIDs {
			if _, err := rc.JobDeleteTx(f.ctx, tx, id); err != nil {
				return err
			}
		}
		return jobs.EndRunIfDone(f.ctx, tx, f.deps, f.tenant.ID, rn.ID)
	}))
	waitFor(t, 30*time.Second, "run 1 stopped", func() (bool, string) {
		r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
		require.NoError(t, err)
		return r.Status == store.RunCancelled, string(r.Status)
	})
	mbs := f.mailboxes(t, runs[0].ID)
	stoppedAt := countCopied(t, f, copyingLine)
	require.Equal(t, store.MailboxCancelled, mbs[copying].Status)
	require.Less(t, stoppedAt, 180, "stopped before the end")
	require.Equal(t, stoppedAt, mbs[copying].Copied, "what was copied is counted and checkpointed")
	require.Contains(t, f.logText(t, mbs[copying].ID), "Interrotta su richiesta")
	require.Equal(t, store.MailboxCancelled, mbs[waiting].Status)
	require.Zero(t, mbs[waiting].Copied)
	require.Equal(t, 2, f.requireTotalsEqualSum(t, m.ID)[runs[0].ID].Ended)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCancelled, got.Status)
	run2, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[1].ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCancelled, run2.Status)
	_, err = rc.JobGet(f.ctx, runs[1].RiverJobID)
	require.ErrorIs(t, err, river.ErrNotFound)
	waitFor(t, 30*time.Second, "the stop's email", func() (bool, string) {
		return len(mailer.all()) == 1, fmt.Sprint(len(mailer.all()), " emails")
	})
	sent := mailer.all()[0]
	require.Equal(t, notify.StatusCancelled, sent.report.Status)
	// The passwords stay, for the resume.
	lines, err = store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.NotNil(t, lines[0].RemotePasswordEnc)

	// Resume at once: the jobs that saw their mailbox cancelled may still
	// be finishing; the new ones are not taken for them.
	n, err := jobs.ResumeStoppedRun(f.ctx, f.pool, rc, f.tenant.ID, m.ID, func(pgx.Tx) error { return nil })
	require.NoError(t, err)
	require.Equal(t, 2, n)
	r := f.waitRun(t, runs[0].ID, 2*time.Minute)
	mbs = f.mailboxes(t, runs[0].ID)
	require.Equal(t, store.RunCompleted, r.Status, "%+v\n%s\n%s", mbs, f.logText(t, mbs[copying].ID), f.logText(t, mbs[waiting].ID))
	require.Equal(t, store.MailboxCompleted, mbs[copying].Status)
	require.Equal(t, store.MailboxCompleted, mbs[waiting].Status)
	require.Equal(t, 180, countCopied(t, f, copyingLine))
	f.requireTotalsEqualSum(t, m.ID)
	require.Equal(t, 180, mbs[copying].Copied+mbs[copying].AlreadyThere, "the counters go on from the stop: every message once")
	sc := f.src.Dial(t, copying, pw[copying])
	dc := f.dst.Dial(t, copying+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, folders))
	got, err = store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompleted, got.Status)
}
