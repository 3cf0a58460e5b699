package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

func TestMigrationPages(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	b.createMigration(migrationForm(), goodCSV())
	form := migrationForm()
	form.Set("name", "Sede Roma")
	form.Set("preset", "gmail")
	form.Del("second_run_at")
	newer := b.createMigration(form, goodCSV()+"bad line without fields\n")

	// The newer one: line 1 passes (pinned), line 2 fails, line 3 was
	// refused by the parser; the validation turns it red.
	lines, err := store.ListLines(ctx, p.pool, tn.ID, newer)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[0].ID, store.LineResult{Status: store.LineOK, PinnedAddr: "192.0.2.7:993"}))
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[1].ID, store.LineResult{Status: store.LineFailed,
		Error: i18n.New("log.text", "Riga 2: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato")}))
	require.NoError(t, store.SetMigrationStatus(ctx, p.pool, tn.ID, newer, store.MigrationRed, store.MigrationValidating))

	res := b.get("/migrations")
	require.Equal(t, http.StatusOK, res.status)
	doc := res.doc(t)
	rows := doc.Find(`[data-testid="migration-row"]`)
	require.Equal(t, 2, rows.Length())
	first := rows.First()
	require.Equal(t, "Sede Roma", first.Find(`[data-testid="migration-name"]`).Text(), "newest first")
	require.Equal(t, "Gmail / Google Workspace", first.Find(`[data-testid="migration-preset"]`).Text())
	require.Equal(t, "3", first.Find(`[data-testid="migration-mailboxes"]`).Text())
	require.Equal(t, "01/02/2030 22:00", first.Find(`[data-testid="migration-first-run"]`).Text())
	require.Equal(t, "red", first.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	problems := first.Find(`[data-testid="migration-problem"]`)
	require.Equal(t, 2, problems.Length())
	require.Contains(t, problems.Eq(0).Text(), "Riga 2: test di migrazione fallito")
	require.True(t, strings.HasPrefix(problems.Eq(1).Text(), "Riga 3: "), problems.Eq(1).Text())
	second := rows.Eq(1)
	require.Equal(t, "validating", second.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Equal(t, "0/2", second.Find(`[data-testid="status-progress"]`).Text())
	require.Equal(t, "02/02/2030 06:00", second.Find(`[data-testid="migration-second-run"]`).Text())

	// The red migration's page.
	res = b.get("/migrations/" + itoa(newer))
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, "Sede Roma", doc.Find(`[data-testid="migration-title"]`).Text())
	// Each reason is shown once, in its line's row, without "Riga N:".
	require.Equal(t, "2 righe hanno problemi: correggi il CSV e caricalo di nuovo.", strings.TrimSpace(doc.Find(`[data-testid="red-reasons"] h2`).Text()))
	require.Equal(t, 0, doc.Find(`[data-testid="red-reasons"] li`).Length())
	lineRows := doc.Find(`[data-testid="line-row"]`)
	require.Equal(t, 3, lineRows.Length())
	require.Equal(t, "anna@acme.test", lineRows.Eq(0).Find(`[data-testid="line-local"]`).Text())
	require.Equal(t, "mail.old.test", lineRows.Eq(0).Find(`[data-testid="line-host"]`).Text())
	require.Equal(t, "anna@old.test", lineRows.Eq(0).Find(`[data-testid="line-remote-user"]`).Text())
	require.Equal(t, "192.0.2.7:993", strings.TrimSpace(lineRows.Eq(0).Find(`[data-testid="line-pinned"]`).Text()))
	require.Equal(t, "ok", lineRows.Eq(0).AttrOr("data-status", ""))
	require.Equal(t, "failed", lineRows.Eq(1).AttrOr("data-status", ""))
	require.Contains(t, lineRows.Eq(1).Find(`[data-testid="line-error"]`).Text(), "utente o password errati")
	require.NotContains(t, lineRows.Eq(1).Find(`[data-testid="line-error"]`).Text(), "Riga")
	require.Equal(t, 1, strings.Count(res.body, "utente o password errati"), "a reason is shown once")
	require.Equal(t, 1, doc.Find(`[data-testid="replace-form"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="cancel-form"]`).Length())
	require.Equal(t, 0, doc.Find(`script[src="/static/status.js"]`).Length(), "no polling once validated")

	// A corrected CSV replaces the lines and validates again.
	// A file with no readable line at all is refused on the page itself.
	res = b.postFile("/migrations/"+itoa(newer)+"/lines", nil, "not a csv line\n")
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="file-problems"]`).Text(), "Riga 1: servono 4 campi")
	res = b.postFile("/migrations/"+itoa(newer)+"/lines", nil, "anna@acme.test;mail.old.test;anna@old.test;\n")
	require.Equal(t, http.StatusSeeOther, res.status, "a CSV with bad lines is still accepted: the lines go red")
	require.NoError(t, store.SetMigrationStatus(ctx, p.pool, tn.ID, newer, store.MigrationRed, store.MigrationValidating))
	res = b.postFile("/migrations/"+itoa(newer)+"/lines", nil, "\x00\x00binary")
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="file-problem"]`).Text(), "Riga 1: qui il file smette di essere testo")
	jobsBefore := p.validateJobs(newer)
	res = b.postFile("/migrations/"+itoa(newer)+"/lines", nil, goodCSV())
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	m, err := store.GetMigration(ctx, p.pool, tn.ID, newer)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, 2, m.LineCount)
	require.Equal(t, 0, m.FailedCount)
	require.Greater(t, p.validateJobs(newer), jobsBefore-1)
	// Only a red migration takes a corrected CSV.
	res = b.postFile("/migrations/"+itoa(newer)+"/lines", nil, goodCSV())
	require.Equal(t, http.StatusSeeOther, res.status)
	res = b.get("/migrations/" + itoa(newer))
	require.Contains(t, res.doc(t).Find(`[data-testid="flash"]`).Text(), "solo per una migrazione con problemi")
}

func TestMigrationCancel(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id := b.createMigration(migrationForm(), goodCSV())
	// Schedule it as the validation would: runs with their River jobs.
	tx, err := p.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	m, err := store.GetMigration(ctx, tx, tn.ID, id)
	require.NoError(t, err)
	runs, err := jobs.Schedule(ctx, tx, p.river, m)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.NoError(t, tx.Commit(ctx))
	for _, r := range runs {
		_, err := p.river.JobGet(ctx, r.RiverJobID)
		require.NoError(t, err)
	}

	res := b.get("/migrations/" + itoa(id))
	doc := res.doc(t)
	require.Equal(t, 2, doc.Find(`[data-testid="run-row"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="cancel-form"]`).Length())

	// The button opens a page that says what will happen; a post without
	// its confirmation goes there and changes nothing.
	require.Equal(t, "/migrations/"+itoa(id)+"/cancel", doc.Find(`[data-testid="cancel"]`).AttrOr("href", ""))
	res = b.get("/migrations/" + itoa(id) + "/cancel")
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="confirm"]`).Text(), "nessuna posta viene copiata")
	res = b.post("/migrations/"+itoa(id)+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/migrations/"+itoa(id)+"/cancel", res.header.Get("Location"))
	m, err = store.GetMigration(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, store.MigrationScheduled, m.Status)

	res = b.post("/migrations/"+itoa(id)+"/cancel", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	m, err = store.GetMigration(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCancelled, m.Status)
	for _, r := range runs {
		_, err := p.river.JobGet(ctx, r.RiverJobID)
		require.ErrorIs(t, err, river.ErrNotFound, "the run's job is deleted")
	}
	res = b.get("/migrations/" + itoa(id))
	doc = res.doc(t)
	require.Equal(t, "cancelled", doc.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Equal(t, 0, doc.Find(`[data-testid="cancel-form"]`).Length())
	require.Contains(t, doc.Find(`[data-testid="flash"]`).Text(), "Migrazione annullata")

	require.Contains(t, doc.Find(`[data-testid="history-what"]`).First().Text(), "Ha annullato la migrazione")

	// Cancelling again is refused with a message, not an error page.
	res = b.post("/migrations/"+itoa(id)+"/cancel", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get("/migrations/"+itoa(id)).doc(t).Find(`[data-testid="flash"]`).Text(), "non si può più annullare")
}

// TestNoPasswordInClear creates migrations with remote and master
// passwords and checks every response body and every row of the tables.
func TestNoPasswordInClear(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	form := migrationForm()
	form.Set("master_user", "admin@old.test")
	form.Set("master_password", masterPW)
	id := b.createMigration(form, goodCSV())
	// A refused form with the master password in it.
	form.Set("first_run_at", "2020-01-01T00:00")
	require.Equal(t, http.StatusUnprocessableEntity, b.postFile("/migrations", form, goodCSV()).status)
	require.NoError(t, store.SetMigrationError(context.Background(), p.pool, tn.ID, id, i18n.Msg{}))
	b.postFile("/migrations/"+itoa(id)+"/lines", nil, goodCSV())

	for _, path := range []string{"/migrations", "/migrations/new", "/migrations/" + itoa(id), "/migrations/" + itoa(id) + "/status.json"} {
		require.Equal(t, http.StatusOK, b.get(path).status, path)
		b.get(path + "?lang=en")
	}
	bodies := p.bodies.all()
	require.Greater(t, len(bodies), 10)
	for _, pw := range []string{remotePW1, remotePW2, masterPW} {
		for _, body := range bodies {
			requireNoSecret(t, body, pw, "a response")
		}
		for _, table := range []string{"migrations", "migration_lines", "river_job", "sessions"} {
			requireNoSecret(t, p.tableText(table), pw, table)
		}
	}
	require.Contains(t, p.tableText("migration_lines"), "anna@old.test", "the scan does read the rows")
}

// TestTenantIsolation signs in as tenant B and tries every page and
// action on tenant A's migration: each answers 404 and changes nothing.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ta, emailA := p.tenant("acme", "acme.test")
	_, emailB := p.tenant("globex", "globex.test")
	ctx := context.Background()

	a := p.browser()
	a.login(emailA)
	idA := a.createMigration(migrationForm(), goodCSV())
	// Red, so that every action (cancel, corrected CSV) would apply.
	require.NoError(t, store.SetMigrationError(ctx, p.pool, ta.ID, idA, i18n.New("log.text", "x")))
	before, err := store.GetMigration(ctx, p.pool, ta.ID, idA)
	require.NoError(t, err)
	linesBefore := p.tableText("migration_lines")
	jobsBefore := p.tableText("river_job")

	b := p.browser()
	b.login(emailB)
	base := "/migrations/" + itoa(idA)
	for _, res := range []response{
		b.get(base),
		b.get(base + "/status.json"),
		b.post(base+"/cancel", url.Values{"confirm": {"1"}}),
		b.postFile(base+"/lines", nil, goodCSV()),
		b.get("/migrations/999999999"),
		b.get("/migrations/not-a-number"),
	} {
		require.Equal(t, http.StatusNotFound, res.status, res.body)
		require.NotContains(t, res.body, "Ufficio Milano")
	}
	list := b.get("/migrations")
	require.Equal(t, 0, list.doc(t).Find(`[data-testid="migration-row"]`).Length())

	after, err := store.GetMigration(ctx, p.pool, ta.ID, idA)
	require.NoError(t, err)
	require.Equal(t, before, after, "the migration is unchanged")
	require.Equal(t, linesBefore, p.tableText("migration_lines"), "its lines are unchanged")
	require.Equal(t, jobsBefore, p.tableText("river_job"), "no job inserted or deleted")

	// A still sees and can act on it.
	require.Equal(t, http.StatusOK, a.get(base).status)
}
