package cli_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/cli"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	db := testenv.NewEmptyTestDB(t)
	r := runner{t: t, db: db, env: map[string]string{"DATABASE_URL": db.Config().ConnString()}}

	code, _, errs := r.run("migrate", "--check")
	require.Equal(t, cli.ExitPartial, code)
	require.Contains(t, errs, "schema is behind: run trasloco migrate")

	// Admin refuses to work on a schema that is behind.
	code, _, errs = r.run("admin", "tenant", "list")
	require.Equal(t, cli.ExitPartial, code)
	require.Contains(t, errs, "run trasloco migrate")

	code, out, errs := r.run("migrate")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "schema is current")
	require.NoError(t, database.CheckCurrent(context.Background(), db))

	code, out, errs = r.run("migrate")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "schema is current")
	code, _, _ = r.run("migrate", "--check")
	require.Equal(t, cli.ExitOK, code)
}

func TestMigrateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no database url", map[string]string{}, nil, cli.ExitUsage, "DATABASE_URL: is required"},
		{"bad flag", map[string]string{"DATABASE_URL": "postgres:///x"}, []string{"--force"}, cli.ExitUsage, "-force"},
		{"stray argument", map[string]string{"DATABASE_URL": "postgres:///x"}, []string{"up"}, cli.ExitUsage, `unexpected argument "up"`},
		{"unreachable", map[string]string{"DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2"}, nil, cli.ExitPartial, "open database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runner{t: t, env: tt.env}
			code, _, errs := r.run(append([]string{"migrate"}, tt.args...)...)
			require.Equal(t, tt.wantCode, code, errs)
			require.Contains(t, errs, tt.wantErr)
			require.NotContains(t, errs, "hunter2")
		})
	}
}
