package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// requireTotalsEqualSum checks that the run totals the pages read (the
// counters of migration 101 plus the mailboxes being copied) equal the sum
// over every mailbox of the migration, after what real workers did.
func (f *fixture) requireTotalsEqualSum(t *testing.T, migrationID int64) map[int64]store.RunTotals {
	t.Helper()
	got, err := store.MigrationRunTotals(f.ctx, f.pool, f.tenant.ID, migrationID)
	require.NoError(t, err)
	want, err := store.SumRunTotals(f.ctx, f.pool, f.tenant.ID, migrationID)
	require.NoError(t, err)
	require.NotEmpty(t, want)
	require.Equal(t, want, got)
	return got
}
