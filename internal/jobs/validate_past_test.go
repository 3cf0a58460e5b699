package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// TestValidateFirstRunPassed: every line passes, but the first run's time
// went by (a corrected CSV the next morning, or a slow check): nothing is
// scheduled, the migration is red and asks for a new time, in the tenant's
// language and time zone.
func TestValidateFirstRunPassed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	first := time.Now().Add(-time.Minute).Truncate(time.Minute)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true, first: first})

	res := f.work(t, m)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationRed, got.Status)
	require.Zero(t, got.FailedCount, "the lines passed")
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	require.Contains(t, got.Reason(i18n.Italian), first.In(rome).Format("02/01/2006 15:04"))
	require.Contains(t, got.Reason(i18n.Italian), "non è partita")
	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Empty(t, runs)
	require.Zero(t, f.runJobs(t))
}
