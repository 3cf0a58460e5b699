package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// editForm is the change form as a browser sends it.
func editForm(name, first, second string) url.Values {
	return url.Values{"name": {name}, "preset": {"standard-ssl"}, "first_run_at": {first}, "second_run_at": {second}}
}

func (p *panel) runsOf(tenantID, id int64) []store.Run {
	p.t.Helper()
	runs, err := store.ListRuns(context.Background(), p.pool, tenantID, id)
	require.NoError(p.t, err)
	return runs
}

func (p *panel) migration(tenantID, id int64) store.Migration {
	p.t.Helper()
	m, err := store.GetMigration(context.Background(), p.pool, tenantID, id)
	require.NoError(p.t, err)
	return m
}

func (p *panel) requireJobGone(jobID int64) {
	p.t.Helper()
	_, err := p.river.JobGet(context.Background(), jobID)
	require.ErrorIs(p.t, err, river.ErrNotFound, "job %d", jobID)
}

func (p *panel) requireJobAt(jobID int64, at time.Time) {
	p.t.Helper()
	j, err := p.river.JobGet(context.Background(), jobID)
	require.NoError(p.t, err)
	require.True(p.t, j.ScheduledAt.Equal(at), "job %d at %s, want %s", jobID, j.ScheduledAt, at)
}

func TestMigrationEditSchedule(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	require.Len(t, runs, 2)
	path := "/migrations/" + itoa(id)

	doc := b.get(path).doc(t)
	require.Equal(t, path+"/edit", doc.Find(`[data-testid="edit-link"]`).AttrOr("href", ""))
	require.Equal(t, 1, doc.Find(`[data-testid="start-form"]`).Length())
	require.Equal(t, 0, doc.Find(`[data-testid="delete-link"]`).Length(), "a scheduled migration is cancelled, not deleted")
	res := b.get(path + "/edit")
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, "Ufficio Milano", doc.Find(`#name`).AttrOr("value", ""))
	require.Equal(t, "2030-02-01T22:00", doc.Find(`#first_run_at`).AttrOr("value", ""))
	require.Equal(t, "2030-02-02T06:00", doc.Find(`#second_run_at`).AttrOr("value", ""))

	// Another tenant: 404, nothing changed.
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.get(path+"/edit").status)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/edit", editForm("Rubata", "2030-03-01T22:00", "")).status)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/start", nil).status)
	require.Equal(t, "Ufficio Milano", p.migration(tn.ID, id).Name)

	// A time in the past is refused, as at creation; nothing changes.
	res = b.post(path+"/edit", editForm("Ufficio Milano", "2030-01-09T22:00", ""))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="error-first_run_at"]`).Length())
	// So is a second run more than 23 hours after the first.
	res = b.post(path+"/edit", editForm("Ufficio Milano", "2030-02-01T22:00", "2030-02-03T22:00"))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="error-second_run_at"]`).Length())
	require.Len(t, p.runsOf(tn.ID, id), 2)

	// New name, run 1 two days later, no run 2: run 1 and its job move, run
	// 2 and its job go, in one go.
	res = b.post(path+"/edit", editForm("Sede Milano", "2030-02-03T21:30", ""))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	m := p.migration(tn.ID, id)
	require.Equal(t, "Sede Milano", m.Name)
	require.Equal(t, store.MigrationScheduled, m.Status)
	first := time.Date(2030, 2, 3, 21, 30, 0, 0, rome)
	require.True(t, m.FirstRunAt.Equal(first))
	require.Nil(t, m.SecondRunAt)
	after := p.runsOf(tn.ID, id)
	require.Len(t, after, 1)
	require.Equal(t, runs[0].ID, after[0].ID, "run 1 is the same run, moved")
	require.True(t, after[0].ScheduledAt.Equal(first))
	require.NotEqual(t, runs[0].RiverJobID, after[0].RiverJobID)
	p.requireJobGone(runs[0].RiverJobID)
	p.requireJobGone(runs[1].RiverJobID)
	p.requireJobAt(after[0].RiverJobID, first)

	// Run 2 comes back, with its job.
	res = b.post(path+"/edit", editForm("Sede Milano", "2030-02-03T21:30", "2030-02-04T07:00"))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	after2 := p.runsOf(tn.ID, id)
	require.Len(t, after2, 2)
	require.Equal(t, after[0].RiverJobID, after2[0].RiverJobID, "run 1 did not move")
	second := time.Date(2030, 2, 4, 7, 0, 0, 0, rome)
	require.True(t, after2[1].ScheduledAt.Equal(second))
	p.requireJobAt(after2[1].RiverJobID, second)

	// The same form again changes nothing.
	res = b.post(path+"/edit", editForm("Sede Milano", "2030-02-03T21:30", "2030-02-04T07:00"))
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "Nessuna modifica")

	// The history: who, what, newest first.
	doc = b.get(path).doc(t)
	whats := doc.Find(`[data-testid="history-what"]`)
	require.Equal(t, 3, whats.Length())
	require.Equal(t, "Ha modificato: seconda esecuzione", whats.Eq(0).Text())
	require.Equal(t, "Ha modificato: nome, prima esecuzione, seconda esecuzione", whats.Eq(1).Text())
	require.Equal(t, "Ha creato la migrazione", whats.Eq(2).Text())
	require.Equal(t, email, doc.Find(`[data-testid="history-who"]`).First().Text())
	p.requireAudited(tn.ID, store.AuditMigrationEdited)
}

func TestMigrationEditRechecks(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	p.validationsDone()
	path := "/migrations/" + itoa(id)

	// Another server type (and a Master User): every line is checked
	// again; the runs and their jobs go until the check schedules anew.
	form := editForm("Ufficio Milano", "2030-02-01T22:00", "2030-02-02T06:00")
	form.Set("preset", "standard-nossl")
	form.Set("master_user", "admin@old.test")
	res := b.post(path+"/edit", form)
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "a new Master User needs its password")
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="error-master_password"]`).Length())
	form.Set("master_password", "Master-Segreto-1")
	res = b.post(path+"/edit", form)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	m := p.migration(tn.ID, id)
	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, "standard-nossl", m.Preset)
	require.Equal(t, "admin@old.test", m.MasterUser)
	require.NotNil(t, m.MasterPasswordEnc)
	require.Zero(t, m.ValidatedCount)
	require.Empty(t, p.runsOf(tn.ID, id))
	for _, r := range runs {
		p.requireJobGone(r.RiverJobID)
	}
	require.Equal(t, 2, p.validateJobs(id), "the creation's and the new one")
	lines, err := store.ListLines(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	for _, ln := range lines {
		require.Equal(t, store.LinePending, ln.Status)
	}
	// Validating: no change until the check ends.
	res = b.get(path + "/edit")
	require.Equal(t, http.StatusSeeOther, res.status)
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, "Master-Segreto-1", "a page")
	}
}

// TestMigrationTimePassed: a red migration whose first run's time has gone
// by never starts at the moment a corrected CSV passes: the CSV is refused
// until a new time is chosen, and a red migration whose lines all passed
// (red because the time passed during the check) is checked and scheduled
// again once the time is new.
func TestMigrationTimePassed(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	past := testNow.Add(-time.Hour)
	m, err := store.CreateMigration(ctx, p.pool, tn.ID, store.NewMigration{Name: "In ritardo", Preset: "standard-ssl", Status: store.MigrationRed,
		FirstRunAt: past, Lines: []store.NewLine{{LineNo: 1, Status: store.LineFailed, Error: i18n.New("log.text", "Riga 1: test di migrazione fallito")}}})
	require.NoError(t, err)
	path := "/migrations/" + itoa(m.ID)

	res := b.postFile(path+"/lines", nil, goodCSV())
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="file-problem"]`).Text(), "già passato")
	require.Equal(t, store.MigrationRed, p.migration(tn.ID, m.ID).Status)
	require.Zero(t, p.validateJobs(m.ID))

	doc := b.get(path + "/edit").doc(t)
	require.Contains(t, doc.Find(`[data-testid="time-passed"]`).Text(), "già passato")
	res = b.post(path+"/edit", editForm("In ritardo", "2030-01-10T22:00", ""))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, store.MigrationRed, p.migration(tn.ID, m.ID).Status, "its line still fails: the CSV is what to correct")
	res = b.postFile(path+"/lines", nil, goodCSV())
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, store.MigrationValidating, p.migration(tn.ID, m.ID).Status)

	// Red only because the time passed: every line good.
	m2, err := store.CreateMigration(ctx, p.pool, tn.ID, store.NewMigration{Name: "Passata", Preset: "standard-ssl", Status: store.MigrationValidating,
		FirstRunAt: past, Lines: []store.NewLine{{LineNo: 1, LocalUser: "anna@acme.test", RemoteHost: "mail.old.test", RemoteUser: "anna"}}})
	require.NoError(t, err)
	lines, err := store.ListLines(ctx, p.pool, tn.ID, m2.ID)
	require.NoError(t, err)
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[0].ID, store.LineResult{Status: store.LineOK}))
	require.NoError(t, store.SetMigrationError(ctx, p.pool, tn.ID, m2.ID, i18n.New("log.text", "L'orario della prima esecuzione è passato")))
	res = b.post("/migrations/"+itoa(m2.ID)+"/edit", editForm("Passata", "2030-01-10T22:00", ""))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	got := p.migration(tn.ID, m2.ID)
	require.Equal(t, store.MigrationValidating, got.Status)
	require.Empty(t, got.Reason(i18n.Italian))
	require.Equal(t, 1, p.validateJobs(m2.ID))
}

func TestMigrationStartNow(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	path := "/migrations/" + itoa(id)

	// Run 2 (2 February) would be weeks after a run 1 started now.
	res := b.post(path+"/start", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "più di 23 ore")
	p.requireJobAt(runs[0].RiverJobID, runs[0].ScheduledAt)

	form := migrationForm()
	form.Del("second_run_at")
	require.Equal(t, http.StatusSeeOther, b.post(path+"/edit", form).status)
	res = b.post(path+"/start", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	m := p.migration(tn.ID, id)
	require.True(t, m.FirstRunAt.Equal(testNow))
	after := p.runsOf(tn.ID, id)
	require.Len(t, after, 1)
	require.True(t, after[0].ScheduledAt.Equal(testNow))
	p.requireJobGone(runs[0].RiverJobID)
	j, err := p.river.JobGet(context.Background(), after[0].RiverJobID)
	require.NoError(t, err)
	require.Equal(t, "available", string(j.State), "the job can start at once")
	doc := b.get(path).doc(t)
	require.Contains(t, doc.Find(`[data-testid="flash"]`).Text(), "parte ora")
	require.Equal(t, "Ha avviato la prima esecuzione subito", doc.Find(`[data-testid="history-what"]`).First().Text())

	// Once started, nothing is changed.
	p.startRun(tn.ID, after[0])
	require.Equal(t, http.StatusSeeOther, b.post(path+"/start", nil).status)
	res = b.post(path+"/edit", editForm("Altro", "2030-03-01T22:00", ""))
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "Ufficio Milano", p.migration(tn.ID, id).Name)
	doc = b.get(path).doc(t)
	require.Equal(t, 0, doc.Find(`[data-testid="edit-link"]`).Length())
	require.Equal(t, 0, doc.Find(`[data-testid="line-remove"]`).Length())
	p.requireAudited(tn.ID, store.AuditMigrationStarted)
}

// validationsDone marks the validation jobs completed, as the worker
// leaves them, so a new one can be inserted (they are unique while waiting).
func (p *panel) validationsDone() {
	p.t.Helper()
	_, err := p.pool.Exec(context.Background(), `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE kind = 'validate_migration'`)
	require.NoError(p.t, err)
}

func (p *panel) count(sql string, args ...any) int {
	p.t.Helper()
	var n int
	require.NoError(p.t, p.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestMigrationDelete(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	path := "/migrations/" + itoa(id)

	// Scheduled: not deletable (cancel first).
	res := b.get(path + "/delete")
	require.Equal(t, http.StatusSeeOther, res.status)
	res = b.post(path+"/delete", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "Si può eliminare solo")

	// Completed with errors, with logs, skipped messages and checkpoints.
	p.endFirstRun(tn.ID, runs[0])
	_, err := p.pool.Exec(context.Background(), `UPDATE runs SET status = 'completed', ended_at = now() WHERE id = $1`, runs[1].ID)
	require.NoError(t, err)
	_, err = p.pool.Exec(context.Background(), `UPDATE migrations SET status = 'completed_with_errors' WHERE id = $1`, id)
	require.NoError(t, err)
	_, err = p.pool.Exec(context.Background(), `INSERT INTO checkpoints (line_id, tenant_id, folder, uid_validity, dest_folder, last_uid)
		SELECT id, tenant_id, 'INBOX', 1, 'INBOX', 9 FROM migration_lines WHERE migration_id = $1`, id)
	require.NoError(t, err)
	doc := b.get(path).doc(t)
	require.Equal(t, path+"/delete", doc.Find(`[data-testid="delete-link"]`).AttrOr("href", ""))

	// Another tenant: 404, nothing deleted.
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.get(path+"/delete").status)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/delete", url.Values{"confirm": {"1"}}).status)

	// The confirmation says what goes; a post without it deletes nothing.
	res = b.get(path + "/delete")
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Contains(t, doc.Find(`[data-testid="confirm"]`).Text(), "le sue 2 caselle")
	require.Contains(t, doc.Find(`[data-testid="confirm"]`).Text(), "resta nelle caselle")
	require.Equal(t, path+"/delete", doc.Find(`[data-testid="confirm-form"]`).AttrOr("action", ""))
	res = b.post(path+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, path+"/delete", res.header.Get("Location"))
	require.Equal(t, 1, p.count(`SELECT count(*) FROM migrations WHERE id = $1`, id))

	res = b.post(path+"/delete", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/migrations", res.header.Get("Location"))
	require.Equal(t, http.StatusNotFound, b.get(path).status)
	for _, table := range []string{"migrations", "migration_lines", "runs", "mailbox_runs", "mailbox_logs", "skipped_messages", "checkpoints", "migration_events"} {
		require.Zero(t, p.count(`SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, tn.ID), table)
	}
	p.requireAudited(tn.ID, store.AuditMigrationDeleted)
}

func TestMigrationLinesChange(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	p.validationsDone()
	path := "/migrations/" + itoa(id)
	doc := b.get(path).doc(t)
	require.Equal(t, 2, doc.Find(`[data-testid="line-remove"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="add-lines-form"]`).Length())

	// Another tenant: 404, nothing changed.
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/lines/2/delete", nil).status)
	require.Equal(t, http.StatusNotFound, ob.postFile(path+"/lines/add", nil, "luca@acme.test;mail.old.test;luca;pw\n").status)
	require.Equal(t, 2, p.migration(tn.ID, id).LineCount)
	require.Equal(t, http.StatusNotFound, b.post(path+"/lines/9/delete", nil).status)

	// Remove marco: the runs stay as they are.
	res := b.post(path+"/lines/2/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	m := p.migration(tn.ID, id)
	require.Equal(t, 1, m.LineCount)
	require.Equal(t, store.MigrationScheduled, m.Status)
	require.Len(t, p.runsOf(tn.ID, id), 2)
	// The last one stays.
	require.Equal(t, http.StatusSeeOther, b.post(path+"/lines/1/delete", nil).status)
	require.Equal(t, 1, p.migration(tn.ID, id).LineCount)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "unica casella")

	// A mailbox already there, or a bad line, refuses the whole file.
	res = b.postFile(path+"/lines/add", nil, "luca@acme.test;mail.old.test;luca;pw\r\nanna@acme.test;mail.old.test;anna2;pw\r\n")
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="add-problem"]`).Text(), "Riga 2: la casella anna@acme.test è già in questa migrazione")
	res = b.postFile(path+"/lines/add", nil, "luca@acme.test;mail.old.test;luca;pw\r\nnot a line\r\n")
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="add-problem"]`).Text(), "Riga 2")
	require.Equal(t, 1, p.migration(tn.ID, id).LineCount)

	// Luca and Sara join: checked, the runs go until the check schedules them.
	res = b.postFile(path+"/lines/add", nil, "luca@acme.test;mail.old.test;luca;pw-luca\r\nsara@acme.test;mail.old.test;sara;pw-sara\r\n")
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	m = p.migration(tn.ID, id)
	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, 3, m.LineCount)
	require.Equal(t, 1, m.ValidatedCount, "anna was checked already")
	require.Empty(t, p.runsOf(tn.ID, id))
	for _, r := range runs {
		p.requireJobGone(r.RiverJobID)
	}
	require.Equal(t, 2, p.validateJobs(id))
	lines, err := store.ListLines(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	// Marco's number 2 is never given again: Luca and Sara continue after
	// it (they were 2 and 3 before, so "riga 2" named two mailboxes).
	require.Equal(t, []int{1, 3, 4}, []int{lines[0].LineNo, lines[1].LineNo, lines[2].LineNo})
	require.Equal(t, "luca@acme.test", lines[1].LocalUser)
	require.Equal(t, "sara@acme.test", lines[2].LocalUser)
	doc = b.get(path).doc(t)
	whats := doc.Find(`[data-testid="history-what"]`)
	require.Equal(t, "Ha aggiunto 2 caselle", whats.Eq(0).Text())
	require.Equal(t, "Ha tolto la riga 2 (marco@acme.test)", whats.Eq(1).Text())
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, "pw-sara", "a page")
	}
	p.requireAudited(tn.ID, store.AuditLineRemoved, store.AuditLinesAdded)
}

// TestMigrationRedLineRemoved: removing a red migration's only failed
// line sends it to the check, which schedules what passed.
func TestMigrationRedLineRemoved(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	id := b.createMigration(migrationForm(), goodCSV()+"bad line\r\n")
	require.NoError(t, store.SetMigrationStatus(context.Background(), p.pool, tn.ID, id, store.MigrationRed, store.MigrationValidating))
	res := b.post("/migrations/"+itoa(id)+"/lines/3/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	m := p.migration(tn.ID, id)
	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, 2, m.LineCount)
	require.Zero(t, m.FailedCount)
}

func TestMigrationStopAndResume(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	path := "/migrations/" + itoa(id)
	mbs := p.startRun(tn.ID, runs[0])
	_, err := store.StartMailboxRun(ctx, p.pool, tn.ID, mbs[0].ID)
	require.NoError(t, err)

	doc := b.get(path).doc(t)
	require.Equal(t, path+"/stop", doc.Find(`[data-testid="stop-link"]`).AttrOr("href", ""))
	res := b.get(path + "/stop")
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="confirm"]`).Text(), "salva il punto a cui è arrivata")

	// Another tenant: 404, nothing stopped.
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.get(path+"/stop").status)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/stop", url.Values{"confirm": {"1"}}).status)
	require.Equal(t, http.StatusNotFound, ob.post(path+"/resume", nil).status)
	// Without the confirmation: back to it.
	res = b.post(path+"/stop", nil)
	require.Equal(t, path+"/stop", res.header.Get("Location"))
	stop, err := store.StopRequested(ctx, p.pool, tn.ID, runs[0].ID)
	require.NoError(t, err)
	require.False(t, stop)

	// Anna is copying: she is asked to stop; marco, not started, is
	// cancelled at once; run 2 is cancelled with its job.
	res = b.post(path+"/stop", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	stop, err = store.StopRequested(ctx, p.pool, tn.ID, runs[0].ID)
	require.NoError(t, err)
	require.True(t, stop)
	after, err := store.ListRunMailboxes(ctx, p.pool, tn.ID, runs[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxRunning, after[0].Status)
	require.Equal(t, store.MailboxCancelled, after[1].Status)
	rs := p.runsOf(tn.ID, id)
	require.Equal(t, store.RunRunning, rs[0].Status, "anna has not stopped yet")
	require.Equal(t, store.RunCancelled, rs[1].Status)
	p.requireJobGone(runs[1].RiverJobID)
	doc = b.get(path).doc(t)
	require.Equal(t, "Ha interrotto l'esecuzione in corso", doc.Find(`[data-testid="history-what"]`).First().Text())

	// Anna stops (as her job does); the run ends cancelled, with its email.
	tx, err := p.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, store.FinishMailboxRun(ctx, tx, tn.ID, after[0].ID, store.MailboxCancelled, store.MailboxCounters{Copied: 7}, i18n.Msg{}))
	_, ended, last, err := store.EndRunIfDone(ctx, tx, tn.ID, runs[0].ID)
	require.NoError(t, err)
	require.True(t, ended)
	require.True(t, last)
	require.NoError(t, tx.Commit(ctx))
	m := p.migration(tn.ID, id)
	require.Equal(t, store.MigrationCancelled, m.Status)
	require.Equal(t, store.RunCancelled, p.runsOf(tn.ID, id)[0].Status)

	// Resume: both go back to work.
	doc = b.get(path).doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="resume-form"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="delete-link"]`).Length())
	res = b.post(path+"/resume", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "Copia ripresa per 2 caselle")
	require.Equal(t, store.MigrationRunning, p.migration(tn.ID, id).Status)
	after, err = store.ListRunMailboxes(ctx, p.pool, tn.ID, runs[0].ID)
	require.NoError(t, err)
	for _, mb := range after {
		require.Equal(t, store.MailboxPending, mb.Status)
	}
	require.Equal(t, 7, after[0].Copied, "what was copied stays counted")
	require.Equal(t, 2, p.count(`SELECT count(*) FROM river_job WHERE kind = 'mailbox_copy'`))
	// Resuming again: nothing to resume.
	res = b.post(path+"/resume", nil)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "niente da riprendere")
	p.requireAudited(tn.ID, store.AuditMigrationStopped, store.AuditMigrationResumed)
}

// TestMigrationStopNothingCopying: a stop with no mailbox copying ends the
// run at once, cancelled, with its email queued.
func TestMigrationStopNothingCopying(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	form := migrationForm()
	form.Del("second_run_at")
	id, runs := p.scheduleMigration(b, tn, form)
	p.startRun(tn.ID, runs[0])
	res := b.post("/migrations/"+itoa(id)+"/stop", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, store.MigrationCancelled, p.migration(tn.ID, id).Status)
	require.Equal(t, store.RunCancelled, p.runsOf(tn.ID, id)[0].Status)
	require.Equal(t, 1, p.count(`SELECT count(*) FROM river_job WHERE kind = 'run_email'`))
}

func TestMigrationAddRun(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	form := migrationForm()
	form.Del("second_run_at")
	id, runs := p.scheduleMigration(b, tn, form)
	path := "/migrations/" + itoa(id)
	p.endFirstRun(tn.ID, runs[0])
	require.Equal(t, store.MigrationCompletedWithErrors, p.migration(tn.ID, id).Status)
	// The passwords are gone after the last run.
	_, err := p.pool.Exec(ctx, `UPDATE migration_lines SET remote_password_enc = NULL WHERE migration_id = $1`, id)
	require.NoError(t, err)
	doc := b.get(path).doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="add-run-form"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="add-run-csv-needed"]`).Length())

	at := url.Values{"run_at": {"2030-01-17T22:00"}}
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.postFile(path+"/runs/add", at, goodCSV()).status)
	// Without the CSV: no mailbox can log in.
	res := b.postFile(path+"/runs/add", at, "")
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "carica di nuovo il CSV")
	// A time gone by is refused.
	res = b.postFile(path+"/runs/add", url.Values{"run_at": {"2030-01-09T22:00"}}, goodCSV())
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Len(t, p.runsOf(tn.ID, id), 1)
	// With the CSV again: run 2, a week later, with its job.
	res = b.postFile(path+"/runs/add", at, goodCSV())
	require.Equal(t, http.StatusSeeOther, res.status)
	rs := p.runsOf(tn.ID, id)
	require.Len(t, rs, 2)
	when := time.Date(2030, 1, 17, 22, 0, 0, 0, rome)
	require.Equal(t, 2, rs[1].RunNo)
	require.True(t, rs[1].ScheduledAt.Equal(when))
	p.requireJobAt(rs[1].RiverJobID, when)
	require.Equal(t, store.MigrationScheduled, p.migration(tn.ID, id).Status)
	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	for _, ln := range lines {
		require.NotNil(t, ln.RemotePasswordEnc, ln.LocalUser)
	}
	doc = b.get(path).doc(t)
	require.Equal(t, "Ha aggiunto l'esecuzione 2", doc.Find(`[data-testid="history-what"]`).First().Text())
	require.Equal(t, 0, doc.Find(`[data-testid="add-run-form"]`).Length())
	// Not ended any more: no other run now.
	res = b.postFile(path+"/runs/add", at, goodCSV())
	require.Contains(t, b.get(path).doc(t).Find(`[data-testid="flash"]`).Text(), "solo a una migrazione terminata")
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, remotePW1, "a page")
	}
	p.requireAudited(tn.ID, store.AuditRunAdded)
}
