package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// A migration left validating without a validation job (discarded, or
// cancelled by an operator) would keep its passwords for ever: the purge
// turns it red, without them. One whose job is still waiting is left alone.
func TestPurgeEndsStuckValidations(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	stuck := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	waiting := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	ins, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{})
	require.NoError(t, err)
	_, err = ins.Insert(f.ctx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: waiting.ID}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE migrations SET updated_at = now() - interval '2 hours'`)
	require.NoError(t, err)

	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewPurgePasswordsWorker(f.deps))
	tx, err := f.pool.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(f.ctx) }()
	_, err = w.Work(f.ctx, t, tx, jobs.PurgePasswordsArgs{}, nil)
	require.NoError(t, err)

	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, stuck.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationRed, got.Status)
	require.Equal(t, "La verifica si è interrotta: carica di nuovo il CSV per ripeterla.", got.Reason(i18n.Italian))
	var sealed int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(remote_password_enc) FROM migration_lines WHERE migration_id = $1`, stuck.ID).Scan(&sealed))
	require.Zero(t, sealed)

	got, err = store.GetMigration(f.ctx, f.pool, f.tenant.ID, waiting.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, got.Status, "its validation job is still to run")
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(remote_password_enc) FROM migration_lines WHERE migration_id = $1`, waiting.ID).Scan(&sealed))
	require.Equal(t, 1, sealed)
}

// The purge prunes the panel's sign-in attempts and password-reset
// requests older than a day, and keeps the recent ones the throttles count.
func TestPurgePrunesThrottleRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	who := testenv.UniqueUser(t, "prune.test")
	for _, age := range []time.Duration{48 * time.Hour, time.Minute} {
		_, err := f.pool.Exec(f.ctx, `INSERT INTO login_attempts (email, ip, at) VALUES ($1, '192.0.2.1', now() - $2::interval)`, who, age.String())
		require.NoError(t, err)
		_, err = f.pool.Exec(f.ctx, `INSERT INTO password_reset_requests (email, ip, at) VALUES ($1, '192.0.2.1', now() - $2::interval)`, who, age.String())
		require.NoError(t, err)
	}
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewPurgePasswordsWorker(f.deps))
	tx, err := f.pool.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(f.ctx) }()
	_, err = w.Work(f.ctx, t, tx, jobs.PurgePasswordsArgs{}, nil)
	require.NoError(t, err)
	for _, table := range []string{"login_attempts", "password_reset_requests"} {
		var n int
		require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM `+table+` WHERE email = $1`, who).Scan(&n))
		require.Equal(t, 1, n, "%s: the recent row stays, the old one goes", table)
	}
}
