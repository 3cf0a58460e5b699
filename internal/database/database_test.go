package database_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func setup(t *testing.T) (context.Context, *pgxpool.Pool) {
	t.Helper()
	return context.Background(), testenv.NewEmptyTestDB(t)
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx, pool := setup(t)

	err := database.CheckCurrent(ctx, pool)
	require.ErrorIs(t, err, database.ErrSchemaBehind)
	require.ErrorContains(t, err, "schema is behind: run trasloco migrate")

	require.NoError(t, database.Migrate(ctx, pool))
	require.NoError(t, database.CheckCurrent(ctx, pool))
	// Idempotent.
	require.NoError(t, database.Migrate(ctx, pool))
	require.NoError(t, database.CheckCurrent(ctx, pool))

	ms, err := database.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n))
	require.Equal(t, len(ms), n)
	for _, table := range []string{"tenants", "users", "sessions", "migrations", "migration_lines", "runs",
		"mailbox_runs", "mailbox_logs", "skipped_messages", "checkpoints", "copied_messages", "river_job"} {
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok))
		require.True(t, ok, "table %s missing", table)
	}
}

func TestCheckCurrentNoticesMissingMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remove string
	}{
		{"ours", "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"},
		{"river", "DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := testenv.NewTestDB(t)
			require.NoError(t, database.CheckCurrent(ctx, pool))
			_, err := pool.Exec(ctx, tt.remove)
			require.NoError(t, err)
			require.ErrorIs(t, database.CheckCurrent(ctx, pool), database.ErrSchemaBehind)
		})
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx, pool := setup(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = database.Migrate(ctx, pool) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, database.CheckCurrent(ctx, pool))
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.NewTestDB(t)
	p, err := database.Open(ctx, pool.Config().ConnString())
	require.NoError(t, err)
	p.Close()

	_, err = database.Open(ctx, "postgres://u:hunter2@127.0.0.1:notaport/x")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}
