package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

// A completion email never waits behind validations: with the only
// validation slot held by a slow one (a remote host that never answers),
// a run ends and its email is sent while that validation is still going.
func TestEmailDoesNotWaitBehindValidations(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mailer := f.runDeps()
	f.deps.CheckTimeout = 5 * time.Minute
	rc, err := jobs.NewClient(f.deps, jobs.ClientOptions{Workers: 2, ValidateWorkers: 1, FetchPollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, rc.Start(f.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.StopAndCancel(ctx)
	})

	anna := f.user(t, "pw-anna", true)
	f.seedMailbox(t, anna, "pw-anna", 40, false)
	b := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, b)

	// Another migration's validation takes the only slot and hangs.
	slow := newSilentServer(t)
	u := f.user(t, "pw", true)
	a := f.migration(t, fmt.Sprintf("%s;%s;%s;pw", u, slow.addr, u), migrationOpts{insecureTLS: true})
	res, err := rc.Insert(f.ctx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: a.ID}, nil)
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "the slow validation holds its slot", func() (bool, string) {
		slow.mu.Lock()
		defer slow.mu.Unlock()
		return slow.open > 0, "no connection yet"
	})

	f.startNow(t, rc, runs[0])
	f.waitRun(t, runs[0].ID, 2*time.Minute)
	waitFor(t, time.Minute, "the completion email", func() (bool, string) {
		return len(mailer.all()) == 1, fmt.Sprintf("%d emails", len(mailer.all()))
	})
	j, err := rc.JobGet(f.ctx, res.Job.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateRunning, j.State, "the email went out while the validation was still running")
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, got.Status)
}
