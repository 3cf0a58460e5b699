package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestListAllMigrationsAndTheirTenants(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"))
	b := f.newMigration(t, f.beta.ID, line(1, "bob@beta.test"))

	all, err := store.ListAllMigrations(f.ctx, f.db)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, b.ID, all[0].ID, "newest first")
	require.Equal(t, "beta", all[0].TenantName)
	require.Equal(t, f.beta.ID, all[0].TenantID)
	require.Equal(t, a.ID, all[1].ID)
	require.Equal(t, "acme", all[1].TenantName)
	require.Equal(t, a.Name, all[1].Name)
	require.Equal(t, 1, all[1].LineCount)

	tid, err := store.MigrationTenantID(f.ctx, f.db, b.ID)
	require.NoError(t, err)
	require.Equal(t, f.beta.ID, tid)
	_, err = store.MigrationTenantID(f.ctx, f.db, b.ID+1000)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestCountJobs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.db.Exec(f.ctx, `INSERT INTO river_job (kind, args, max_attempts, queue, state)
		VALUES ('mailbox_copy', '{}', 5, 'transfer', 'available'), ('mailbox_copy', '{}', 5, 'transfer', 'available'),
			('mailbox_copy', '{}', 5, 'transfer', 'retryable'), ('validate_migration', '{}', 5, 'validate', 'running')`)
	require.NoError(t, err)
	counts, err := store.CountJobs(f.ctx, f.db)
	require.NoError(t, err)
	require.Equal(t, []store.JobCount{
		{Kind: "mailbox_copy", State: "available", Count: 2},
		{Kind: "mailbox_copy", State: "retryable", Count: 1},
		{Kind: "validate_migration", State: "running", Count: 1},
	}, counts)
}
