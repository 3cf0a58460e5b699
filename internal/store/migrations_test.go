package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

func TestCreateAndGetMigration(t *testing.T) {
	t.Parallel()
	f := setup(t)
	failed := store.NewLine{LineNo: 3, Status: store.LineFailed, Error: i18n.New("log.text", "Riga 3: formato non valido")}
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"), line(2, "bob@acme.test"), failed)

	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, 3, m.LineCount)
	require.Equal(t, 1, m.ValidatedCount)
	require.Equal(t, 1, m.FailedCount)
	require.NotNil(t, m.SecondRunAt)

	got, err := store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.Name, got.Name)
	require.True(t, m.FirstRunAt.Equal(got.FirstRunAt))

	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	require.Equal(t, "anna@acme.test", lines[0].LocalUser)
	require.Equal(t, []byte{1, 2, 3}, lines[0].RemotePasswordEnc)
	require.Equal(t, store.LinePending, lines[0].Status)
	require.Equal(t, store.LineFailed, lines[2].Status)
	require.Equal(t, "Riga 3: formato non valido", lines[2].Reason(i18n.Italian))
	require.NotNil(t, lines[2].ValidatedAt)

	// Results counted once.
	require.NoError(t, store.SetLineResult(f.ctx, f.db, f.acme.ID, lines[0].ID, store.LineResult{Status: store.LineOK, PinnedAddr: "192.0.2.7:993"}))
	require.ErrorIs(t, store.SetLineResult(f.ctx, f.db, f.acme.ID, lines[0].ID, store.LineResult{Status: store.LineOK}), store.ErrWrongState)
	require.NoError(t, store.SetLineResult(f.ctx, f.db, f.acme.ID, lines[1].ID, store.LineResult{Status: store.LineFailed, Error: i18n.New("log.text", "Riga 2: utente o password errati")}))
	got, err = store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.ValidatedCount)
	require.Equal(t, 2, got.FailedCount)
	l0, err := store.GetLine(f.ctx, f.db, f.acme.ID, lines[0].ID)
	require.NoError(t, err)
	require.Equal(t, "192.0.2.7:993", l0.PinnedAddr)
}

func TestCreateMigrationRefuses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := time.Now().Add(time.Hour)
	tooLate := first.Add(23*time.Hour + time.Minute)
	before := first.Add(-time.Minute)
	tests := []struct {
		name string
		nm   store.NewMigration
	}{
		{"second too late", store.NewMigration{Name: "x", Preset: "gmail", FirstRunAt: first, SecondRunAt: &tooLate}},
		{"second before first", store.NewMigration{Name: "x", Preset: "gmail", FirstRunAt: first, SecondRunAt: &before}},
		{"no first", store.NewMigration{Name: "x", Preset: "gmail"}},
		{"no name", store.NewMigration{Preset: "gmail", FirstRunAt: first}},
		{"duplicate line numbers", store.NewMigration{Name: "x", Preset: "gmail", FirstRunAt: first,
			Lines: []store.NewLine{line(1, "a@acme.test"), line(1, "b@acme.test")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.CreateMigration(f.ctx, f.db, f.acme.ID, tt.nm)
			require.ErrorIs(t, err, store.ErrInvalid)
		})
	}
	ms, err := store.ListMigrations(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Empty(t, ms)
}

func TestListMigrationsNewestFirst(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.newMigration(t, f.acme.ID)
	b := f.newMigration(t, f.acme.ID)
	f.newMigration(t, f.beta.ID)
	ms, err := store.ListMigrations(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, b.ID, ms[0].ID)
	require.Equal(t, a.ID, ms[1].ID)
}

func TestMigrationStatusAndCancel(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"))

	require.NoError(t, store.SetMigrationStatus(f.ctx, f.db, f.acme.ID, m.ID, store.MigrationScheduled, store.MigrationValidating))
	err := store.SetMigrationStatus(f.ctx, f.db, f.acme.ID, m.ID, store.MigrationScheduled, store.MigrationValidating)
	require.ErrorIs(t, err, store.ErrWrongState)

	r1, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt, RiverJobID: 41})
	require.NoError(t, err)
	require.Equal(t, store.RunScheduled, r1.Status)
	r2, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 2, ScheduledAt: *m.SecondRunAt})
	require.NoError(t, err)
	require.NoError(t, store.SetRunJob(f.ctx, f.db, f.acme.ID, r2.ID, 42))
	_, err = store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt})
	require.ErrorIs(t, err, store.ErrAlreadyExists)

	jobs, err := store.CancelMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{41, 42}, jobs)
	got, err := store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCancelled, got.Status)
	runs, err := store.ListRuns(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for _, r := range runs {
		require.Equal(t, store.RunCancelled, r.Status)
		require.NotNil(t, r.EndedAt)
	}

	// A running migration can't be cancelled.
	m2 := f.newMigration(t, f.acme.ID)
	require.NoError(t, store.SetMigrationStatus(f.ctx, f.db, f.acme.ID, m2.ID, store.MigrationRunning))
	_, err = store.CancelMigration(f.ctx, f.db, f.acme.ID, m2.ID)
	require.ErrorIs(t, err, store.ErrWrongState)
}

func TestRuns(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID)
	r, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt})
	require.NoError(t, err)
	_, err = store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: store.MaxRuns + 1, ScheduledAt: m.FirstRunAt})
	require.ErrorIs(t, err, store.ErrInvalid)

	require.NoError(t, store.SetRunStatus(f.ctx, f.db, f.acme.ID, r.ID, store.RunRunning))
	require.NoError(t, store.SetRunStatus(f.ctx, f.db, f.acme.ID, r.ID, store.RunCompleted))
	require.NoError(t, store.SetRunEmail(f.ctx, f.db, f.acme.ID, r.ID, nil))
	got, err := store.GetRun(f.ctx, f.db, f.acme.ID, r.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCompleted, got.Status)
	require.NotNil(t, got.StartedAt)
	require.NotNil(t, got.EndedAt)
	require.NotNil(t, got.EmailSentAt)
	require.Empty(t, got.EmailError)
}

func TestReplaceLinesAndErasePasswords(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"), line(2, "bob@acme.test"))

	// Only a red migration takes a corrected CSV.
	require.ErrorIs(t, store.ReplaceLines(f.ctx, f.db, f.acme.ID, m.ID, nil), store.ErrWrongState)
	require.NoError(t, store.SetMigrationError(f.ctx, f.db, f.acme.ID, m.ID, i18n.New("log.text", "il file non è testo")))
	require.NoError(t, store.ReplaceLines(f.ctx, f.db, f.acme.ID, m.ID, []store.NewLine{line(1, "carla@acme.test")}))
	got, err := store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, got.Status)
	require.Empty(t, got.Reason(i18n.Italian))
	require.Equal(t, 1, got.LineCount)
	require.Zero(t, got.ValidatedCount)
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	require.Equal(t, "carla@acme.test", lines[0].LocalUser)

	require.NoError(t, store.ErasePasswords(f.ctx, f.db, f.acme.ID, m.ID))
	lines, err = store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Nil(t, lines[0].RemotePasswordEnc)
}

// Tenant B must not read or change anything of tenant A's by id: every
// attempt is ErrNotFound (or empty) and A's rows stay as they were.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	run, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt})
	require.NoError(t, err)
	before, err := store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)

	b := f.beta.ID
	_, err = store.GetMigration(f.ctx, f.db, b, m.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	ms, err := store.ListMigrations(f.ctx, f.db, b)
	require.NoError(t, err)
	require.Empty(t, ms)
	ls, err := store.ListLines(f.ctx, f.db, b, m.ID)
	require.NoError(t, err)
	require.Empty(t, ls)
	_, err = store.GetLine(f.ctx, f.db, b, lines[0].ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, store.SetMigrationStatus(f.ctx, f.db, b, m.ID, store.MigrationCancelled), store.ErrNotFound)
	require.ErrorIs(t, store.SetMigrationError(f.ctx, f.db, b, m.ID, i18n.New("log.text", "x")), store.ErrNotFound)
	_, err = store.CancelMigration(f.ctx, f.db, b, m.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, store.ReplaceLines(f.ctx, f.db, b, m.ID, []store.NewLine{line(1, "evil@beta.test")}), store.ErrNotFound)
	require.ErrorIs(t, store.ErasePasswords(f.ctx, f.db, b, m.ID), store.ErrNotFound)
	require.ErrorIs(t, store.SetLineResult(f.ctx, f.db, b, lines[0].ID, store.LineResult{Status: store.LineOK}), store.ErrNotFound)
	_, err = store.CreateRun(f.ctx, f.db, b, store.NewRun{MigrationID: m.ID, RunNo: 2, ScheduledAt: m.FirstRunAt.Add(time.Hour)})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.GetRun(f.ctx, f.db, b, run.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	rs, err := store.ListRuns(f.ctx, f.db, b, m.ID)
	require.NoError(t, err)
	require.Empty(t, rs)
	require.ErrorIs(t, store.SetRunStatus(f.ctx, f.db, b, run.ID, store.RunCancelled), store.ErrNotFound)
	require.ErrorIs(t, store.SetRunJob(f.ctx, f.db, b, run.ID, 1), store.ErrNotFound)
	require.ErrorIs(t, store.SetRunEmail(f.ctx, f.db, b, run.ID, nil), store.ErrNotFound)

	// The database refuses a child row pointing at another tenant's parent.
	_, err = f.db.Exec(f.ctx, `INSERT INTO migration_lines (migration_id, tenant_id, line_no) VALUES ($1, $2, 9)`, m.ID, b)
	require.Error(t, err)

	after, err := store.GetMigration(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, before, after)
	afterLines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, lines, afterLines)
	afterRun, err := store.GetRun(f.ctx, f.db, f.acme.ID, run.ID)
	require.NoError(t, err)
	require.Equal(t, run, afterRun)
}
