package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// Disabling a tenant stops it: its copying mailbox ends at the next check
// (cancelled, as Interrompi leaves it), its run ends cancelled, a run that
// comes due does not start and a validation checks no line.
func TestDisabledTenantStops(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.StopPoll = 100 * time.Millisecond
	anna := f.user(t, "pw-anna", true)
	testenv.Append(t, f.src.Dial(t, anna, "pw-anna"), "INBOX", msgList(310, 0, 150, 12000)...)
	slow := slowProxy(t, f.src.TLSAddr(), 200<<10)
	first := time.Now().Add(time.Hour)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, slow, anna), migrationOpts{insecureTLS: true, first: first})
	rc := f.client(t, 2)
	runs := f.validate(t, rc, m)
	bob := f.user(t, "pw-bob", true)
	later := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-bob", bob, f.src.TLSAddr(), bob), migrationOpts{insecureTLS: true, first: first})
	laterRuns := f.validate(t, rc, later)

	f.startNow(t, rc, runs[0])
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	waitFor(t, time.Minute, "copying", func() (bool, string) { return countCopied(t, f, lines[0].ID) >= 10, "not yet" })

	require.NoError(t, store.SetTenantDisabled(f.ctx, f.pool, f.tenant.Name, true))
	waitFor(t, time.Minute, "run 1 stopped", func() (bool, string) {
		r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
		require.NoError(t, err)
		return r.Status == store.RunCancelled, string(r.Status)
	})
	mb := f.mailboxes(t, runs[0].ID)[anna]
	require.Equal(t, store.MailboxCancelled, mb.Status)
	require.Less(t, mb.Copied, 150, "stopped before the end")

	// A run due now does not start; a validation checks nothing.
	f.startNow(t, rc, laterRuns[0])
	third := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-bob", f.user(t, "pw-c", true), f.src.TLSAddr(), bob), migrationOpts{insecureTLS: true})
	res, err := rc.Insert(f.ctx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: third.ID}, nil)
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "the validation job done", func() (bool, string) {
		j, err := rc.JobGet(f.ctx, res.Job.ID)
		require.NoError(t, err)
		return j.FinalizedAt != nil, string(j.State)
	})
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, third.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, got.Status)
	require.Zero(t, got.ValidatedCount, "no line checked while disabled")
	r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, laterRuns[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.RunScheduled, r.Status, "a disabled tenant's run does not start")
}
