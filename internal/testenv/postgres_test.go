package testenv_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestNewTestDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testenv.NewTestDB(t)
	b := testenv.NewTestDB(t)

	var nameA, nameB string
	require.NoError(t, a.QueryRow(ctx, "SELECT current_database()").Scan(&nameA))
	require.NoError(t, b.QueryRow(ctx, "SELECT current_database()").Scan(&nameB))
	require.NotEqual(t, nameA, nameB)

	// The schema is there, current, and each database is private.
	require.NoError(t, database.CheckCurrent(ctx, a))
	_, err := a.Exec(ctx, "INSERT INTO tenants (name, notify_email) VALUES ('acme', 'it@acme.test')")
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM tenants").Scan(&n))
	require.Zero(t, n)

	// Listening on loopback only.
	require.Contains(t, testenv.SharedPostgres(t).URL(), "127.0.0.1")
}

func TestNewTestDBDroppedAfterTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var name string
	t.Run("inner", func(t *testing.T) {
		pool := testenv.NewTestDB(t)
		require.NoError(t, pool.QueryRow(ctx, "SELECT current_database()").Scan(&name))
	})
	admin := testenv.NewTestDB(t)
	var exists bool
	require.NoError(t, admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	require.False(t, exists, "database %s still exists", name)
}
