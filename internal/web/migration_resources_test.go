package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

// scheduleMigration creates a migration through the form with goodCSV
// (anna, marco) and schedules it as the validation would: every line
// passes, the runs are created with their River jobs.
func (p *panel) scheduleMigration(b *browser, tn store.Tenant, form url.Values) (int64, []store.Run) {
	p.t.Helper()
	ctx := context.Background()
	id := b.createMigration(form, goodCSV())
	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(p.t, err)
	for _, ln := range lines {
		require.NoError(p.t, store.SetLineResult(ctx, p.pool, tn.ID, ln.ID, store.LineResult{Status: store.LineOK}))
	}
	tx, err := p.pool.Begin(ctx)
	require.NoError(p.t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	m, err := store.GetMigration(ctx, tx, tn.ID, id)
	require.NoError(p.t, err)
	runs, err := jobs.Schedule(ctx, tx, p.river, m)
	require.NoError(p.t, err)
	require.NoError(p.t, tx.Commit(ctx))
	return id, runs
}

// startRun starts a run as its worker would and returns its mailbox runs
// in line order.
func (p *panel) startRun(tenantID int64, run store.Run) []store.MailboxRun {
	p.t.Helper()
	ctx := context.Background()
	tx, err := p.pool.Begin(ctx)
	require.NoError(p.t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = store.StartRun(ctx, tx, tenantID, run.ID)
	require.NoError(p.t, err)
	mbs, err := store.CreateMailboxRuns(ctx, tx, tenantID, run.ID)
	require.NoError(p.t, err)
	require.NoError(p.t, tx.Commit(ctx))
	return mbs
}

// endRun ends a run whose mailboxes have all ended.
func (p *panel) endRun(tenantID int64, run store.Run) {
	p.t.Helper()
	ctx := context.Background()
	tx, err := p.pool.Begin(ctx)
	require.NoError(p.t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, ended, _, err := store.EndRunIfDone(ctx, tx, tenantID, run.ID)
	require.NoError(p.t, err)
	require.True(p.t, ended)
	require.NoError(p.t, tx.Commit(ctx))
}

// setTimes stamps a mailbox run's start and end.
func (p *panel) setTimes(mailboxRunID int64, start, end time.Time) {
	p.t.Helper()
	_, err := p.pool.Exec(context.Background(), `UPDATE mailbox_runs SET started_at = $2, ended_at = $3 WHERE id = $1`, mailboxRunID, start, end)
	require.NoError(p.t, err)
}

const marcoError = "Il vecchio server rifiuta l'accesso: utente o password errati"

var (
	annaStart = time.Date(2030, 2, 1, 21, 0, 5, 0, time.UTC) // 22:00:05 in Rome
	annaEnd   = annaStart.Add(3*time.Minute + 5*time.Second)
)

// endFirstRun runs run 1 to its end: anna copied with some messages
// refused and two over 30 MB, with a log; marco failed to log in.
func (p *panel) endFirstRun(tenantID int64, run store.Run) (anna, marco store.MailboxRun) {
	p.t.Helper()
	ctx := context.Background()
	mbs := p.startRun(tenantID, run)
	require.Len(p.t, mbs, 2)
	anna, marco = mbs[0], mbs[1]
	require.Equal(p.t, "anna@acme.test", anna.LocalUser)

	_, err := store.StartMailboxRun(ctx, p.pool, tenantID, anna.ID)
	require.NoError(p.t, err)
	require.NoError(p.t, store.SetMailboxProgress(ctx, p.pool, tenantID, anna.ID, store.MailboxCounters{Done: 60, Total: 120}, "INBOX"))
	require.NoError(p.t, store.AppendMailboxLogs(ctx, p.pool, tenantID, anna.ID, []store.LogLine{
		{At: annaStart, Level: "info", Message: "Connessione al vecchio server riuscita"},
		{At: annaStart.Add(time.Second), Level: "info", Folder: "INBOX", Message: "120 messaggi da copiare"},
		{At: annaEnd, Level: "warn", Folder: "INBOX", Message: "Messaggio UID 7 di 41 MiB non copiato: oltre 30 MB"},
		{At: annaEnd, Level: "error", Folder: "Archivio/2023", Message: "tre messaggi rifiutati\ndal nuovo server"},
	}))
	bigDate := time.Date(2029, 12, 1, 9, 30, 0, 0, time.UTC)
	require.NoError(p.t, store.AddSkippedMessage(ctx, p.pool, tenantID, store.SkippedMessage{
		MailboxRunID: anna.ID, Folder: "INBOX", UID: 7, Size: 41 << 20, Date: &bigDate,
		Sender: "Studio Bianchi <info@bianchi.test>", Subject: "Tavole di progetto",
	}))
	require.NoError(p.t, store.AddSkippedMessage(ctx, p.pool, tenantID, store.SkippedMessage{
		MailboxRunID: anna.ID, Folder: "Archivio/2023", UID: 3, Size: 35 << 20,
	}))
	require.NoError(p.t, store.AddSkippedMessage(ctx, p.pool, tenantID, store.SkippedMessage{
		MailboxRunID: anna.ID, Folder: "Lavoro", UID: 12, Size: 2 << 10, Subject: "Verbale", Reason: "not_delivered",
	}))
	require.NoError(p.t, store.AddSkippedMessage(ctx, p.pool, tenantID, store.SkippedMessage{
		MailboxRunID: anna.ID, Folder: "Lavoro", UID: 13, Size: 3 << 10, Subject: "Preventivo", Reason: "refused_by_destination",
		Detail: "Keyword length too long",
	}))
	require.NoError(p.t, store.FinishMailboxRun(ctx, p.pool, tenantID, anna.ID, store.MailboxCompletedWithErrors, store.MailboxCounters{
		Folders: 4, Found: 120, Copied: 100, AlreadyThere: 15, TooLarge: 2, Gone: 4, ExcludedFolders: 2, Failed: 3,
		Bytes: 1536 << 10, Done: 120, Total: 120,
	}, i18n.Msg{}))
	p.setTimes(anna.ID, annaStart, annaEnd)

	_, err = store.StartMailboxRun(ctx, p.pool, tenantID, marco.ID)
	require.NoError(p.t, err)
	require.NoError(p.t, store.AppendMailboxLogs(ctx, p.pool, tenantID, marco.ID, []store.LogLine{
		{At: annaStart, Level: "error", Message: marcoError},
	}))
	require.NoError(p.t, store.FinishMailboxRun(ctx, p.pool, tenantID, marco.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("log.text", marcoError)))
	p.endRun(tenantID, run)
	return anna, marco
}

func TestResources(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id, runs := p.scheduleMigration(b, tn, migrationForm())
	require.Len(t, runs, 2)
	base := "/migrations/" + itoa(id)

	// Before any run: the page says so, and the migration page does not
	// link an empty page yet.
	res := b.get(base + "/resources")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="resources-not-started"]`).Length())
	doc := b.get(base).doc(t)
	require.Equal(t, 0, doc.Find(`[data-testid="resources-link"]`).Length())
	require.Equal(t, 0, doc.Find(`[data-testid="progress"]`).Length(), "no progress before a run")
	require.Equal(t, 1, doc.Find(`script[src="/static/status.js"]`).Length(), "a scheduled migration waits for its run")

	anna1, marco1 := p.endFirstRun(tn.ID, runs[0])
	// Run 2 is under way: anna half done, marco waiting.
	mbs2 := p.startRun(tn.ID, runs[1])
	require.Len(t, mbs2, 2)
	anna2 := mbs2[0]
	_, err := store.StartMailboxRun(ctx, p.pool, tn.ID, anna2.ID)
	require.NoError(t, err)
	require.NoError(t, store.SetMailboxProgress(ctx, p.pool, tn.ID, anna2.ID,
		store.MailboxCounters{Folders: 2, Found: 10, Copied: 4, AlreadyThere: 1, Bytes: 2048, Done: 5, Total: 10}, "Archivio/2023"))

	// Risorse.
	res = b.get(base + "/resources")
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, "Risorse · Trasloco", doc.Find("title").Text())
	require.Equal(t, "Risorse · Ufficio Milano", doc.Find(`[data-testid="resources-title"]`).Text())
	require.Equal(t, "completed_with_errors", doc.Find(`[data-testid="resource-run"][data-run="1"]`).AttrOr("data-status", ""))
	require.Equal(t, "running", doc.Find(`[data-testid="resource-run"][data-run="2"]`).AttrOr("data-status", ""))
	mailboxes := doc.Find(`[data-testid="resource-mailbox"]`)
	require.Equal(t, 2, mailboxes.Length())
	anna := mailboxes.Eq(0)
	require.Equal(t, "anna@acme.test", anna.Find(`[data-testid="resource-local"]`).Text())
	a1 := anna.Find(`[data-testid="resource-mailbox-run"][data-run="1"]`)
	require.Equal(t, "completed_with_errors", a1.AttrOr("data-status", ""))
	for testid, want := range map[string]string{
		"resource-copied": "100", "resource-already-there": "15", "resource-too-large": "2",
		"resource-excluded-folders": "2", "resource-failed": "3", "resource-bytes": "1,5 MB", "resource-duration": "3 min 05 s",
	} {
		require.Equal(t, want, a1.Find(`[data-testid="`+testid+`"]`).Text(), testid)
	}
	require.Equal(t, "/migrations/"+itoa(id)+"/resources/"+itoa(anna1.ID)+"/log", a1.Find(`[data-testid="resource-log"]`).AttrOr("href", ""))
	a2 := anna.Find(`[data-testid="resource-mailbox-run"][data-run="2"]`)
	require.Equal(t, "running", a2.AttrOr("data-status", ""))
	require.Equal(t, "4", a2.Find(`[data-testid="resource-copied"]`).Text())
	// Messages that vanished from the old server, only where there are some.
	require.Equal(t, "4 spariti dal vecchio server durante la copia", a1.Find(`[data-testid="resource-gone"]`).Text())
	require.Zero(t, a2.Find(`[data-testid="resource-gone"]`).Length())
	require.Equal(t, "2 KB", a2.Find(`[data-testid="resource-bytes"]`).Text())
	marco := mailboxes.Eq(1)
	m1 := marco.Find(`[data-testid="resource-mailbox-run"][data-run="1"]`)
	require.Equal(t, "failed", m1.AttrOr("data-status", ""))
	require.Contains(t, m1.Find(`[data-testid="resource-status"]`).Text(), "Non riuscita")
	require.Equal(t, marcoError, m1.Find(`[data-testid="resource-error"]`).Text())
	require.Equal(t, "pending", marco.Find(`[data-testid="resource-mailbox-run"][data-run="2"]`).AttrOr("data-status", ""))

	// The messages over 30 MB and those that failed, by folder then date,
	// each with its UID and reason.
	require.Equal(t, 1, doc.Find(`[data-testid="skipped-mailbox"]`).Length())
	require.Equal(t, "1", doc.Find(`[data-testid="skipped-mailbox"]`).AttrOr("data-line", ""))
	skipped := doc.Find(`[data-testid="skipped-row"]`)
	require.Equal(t, 4, skipped.Length())
	require.Equal(t, "oltre 30 MB", skipped.Eq(0).Find(`[data-testid="skipped-reason"]`).Text())
	require.Equal(t, "Lavoro", skipped.Eq(2).Find(`[data-testid="skipped-folder"]`).Text())
	require.Equal(t, "12", skipped.Eq(2).Find(`[data-testid="skipped-uid"]`).Text())
	require.Equal(t, "il vecchio server non ha consegnato il messaggio", skipped.Eq(2).Find(`[data-testid="skipped-reason"]`).Text())
	require.Equal(t, "la nuova casella ha rifiutato il messaggio (Keyword length too long)", skipped.Eq(3).Find(`[data-testid="skipped-reason"]`).Text())
	require.Equal(t, "Archivio/2023", skipped.Eq(0).Find(`[data-testid="skipped-folder"]`).Text())
	require.Equal(t, "(senza oggetto)", strings.TrimSpace(skipped.Eq(0).Find(`[data-testid="skipped-subject"]`).Text()))
	require.Equal(t, "35 MB", skipped.Eq(0).Find(`[data-testid="skipped-size"]`).Text())
	require.Equal(t, "INBOX", skipped.Eq(1).Find(`[data-testid="skipped-folder"]`).Text())
	require.Equal(t, "01/12/2029 10:30", skipped.Eq(1).Find(`[data-testid="skipped-date"]`).Text())
	require.Equal(t, "Studio Bianchi <info@bianchi.test>", skipped.Eq(1).Find(`[data-testid="skipped-sender"]`).Text())
	require.Equal(t, "Tavole di progetto", strings.TrimSpace(skipped.Eq(1).Find(`[data-testid="skipped-subject"]`).Text()))

	// anna's log of run 1, in the page.
	logPath := base + "/resources/" + itoa(anna1.ID) + "/log"
	res = b.get(logPath)
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, "Log di anna@acme.test, esecuzione 1", doc.Find(`[data-testid="log-title"]`).Text())
	require.Equal(t, logPath+".txt", doc.Find(`[data-testid="log-download"]`).AttrOr("href", ""))
	lines := doc.Find(`[data-testid="log-line"]`)
	require.Equal(t, 4, lines.Length())
	require.Equal(t, "01/02/2030 22:00:05", lines.Eq(0).Find(`[data-testid="log-time"]`).Text())
	require.Equal(t, "info", lines.Eq(0).AttrOr("data-level", ""))
	require.Equal(t, "INBOX", lines.Eq(1).Find(`[data-testid="log-folder"]`).Text())
	require.Equal(t, "avviso", lines.Eq(2).Find(`[data-testid="log-level"]`).Text())
	require.Equal(t, "Messaggio UID 7 di 41 MiB non copiato: oltre 30 MB", lines.Eq(2).Find(`[data-testid="log-message"]`).Text())
	// marco's shows why it failed.
	doc = b.get(base + "/resources/" + itoa(marco1.ID) + "/log").doc(t)
	require.Equal(t, marcoError, doc.Find(`[data-testid="log-error"]`).Text())
	// run 2's marco has no log yet.
	require.Equal(t, 1, b.get(base+"/resources/"+itoa(mbs2[1].ID)+"/log").doc(t).Find(`[data-testid="log-empty"]`).Length())

	// The same log as a download.
	res = b.get(logPath + ".txt")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "text/plain; charset=utf-8", res.header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="trasloco-`+itoa(id)+`-run1-anna@acme.test.log"`, res.header.Get("Content-Disposition"))
	require.Equal(t, "2030-02-01T22:00:05+01:00\tINFO\t-\tConnessione al vecchio server riuscita\n"+
		"2030-02-01T22:00:06+01:00\tINFO\tINBOX\t120 messaggi da copiare\n"+
		"2030-02-01T22:03:10+01:00\tWARN\tINBOX\tMessaggio UID 7 di 41 MiB non copiato: oltre 30 MB\n"+
		"2030-02-01T22:03:10+01:00\tERROR\tArchivio/2023\ttre messaggi rifiutati dal nuovo server\n", res.body)

	// status.json follows run 2, mailbox by mailbox.
	res = b.get(base + "/status.json")
	require.Equal(t, http.StatusOK, res.status)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.body), &raw))
	for _, k := range []string{"status", "label", "validated", "total", "failed", "runs", "current_run", "mailboxes", "totals"} {
		require.Contains(t, raw, k)
	}
	var st migrationStatusJSON
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	require.Equal(t, "running", st.Status)
	require.Equal(t, "In corso", st.Label)
	require.Equal(t, 2, st.CurrentRun)
	require.Len(t, st.Runs, 2)
	require.Equal(t, 1, st.Runs[0].RunNo)
	require.Equal(t, "completed_with_errors", st.Runs[0].Status)
	require.Equal(t, "Completata con errori", st.Runs[0].Label)
	require.Equal(t, "2030-02-01T22:00:00+01:00", st.Runs[0].ScheduledAt)
	require.NotNil(t, st.Runs[0].StartedAt)
	require.NotNil(t, st.Runs[0].EndedAt)
	require.Equal(t, "running", st.Runs[1].Status)
	require.Nil(t, st.Runs[1].EndedAt)
	// Run 2: what it copies is "new", what was there already is not a copy;
	// the total is "at least" while the copy goes on. (Speed and time left
	// depend on the clock: not compared here.)
	require.Len(t, st.Mailboxes, 2)
	annaJSON := st.Mailboxes[0]
	annaJSON.RateText = ""
	require.Equal(t, mailboxStatusJSON{LineNo: 1, LocalUser: "anna@acme.test", Status: "running", Label: "In corso",
		Done: 5, Total: 10, AtLeast: true, Percent: 50, CountText: "5 di almeno 10 · 50%",
		DetailText: "4 nuovi · 1 già presente · 2 KB", Copied: 4, AlreadyThere: 1,
		Bytes: 2048, BytesText: "2 KB", CurrentFolder: "Archivio/2023"}, annaJSON)
	require.Equal(t, mailboxStatusJSON{LineNo: 2, LocalUser: "marco@acme.test", Status: "pending", Label: "In attesa",
		AtLeast: true, CountText: "conteggio in corso…", BytesText: "0 B"}, st.Mailboxes[1])
	tot := *st.Totals
	tot.RateText = ""
	require.Equal(t, progressTotalsJSON{Mailboxes: 2, Done: 5, Total: 10, AtLeast: true, Percent: 50,
		CountText: "5 di almeno 10 · 50%", DetailText: "4 nuovi · 1 già presente · 2 KB", Copied: 4, Bytes: 2048, BytesText: "2 KB",
		Text: tot.Text}, tot)
	require.True(t, strings.HasPrefix(tot.Text, "Caselle terminate: 0 su 2"), tot.Text)

	// The migration page shows the same progress, polled while running,
	// and offers to retry run 1's failed mailbox.
	doc = b.get(base).doc(t)
	facts := doc.Find(`[data-testid="migration"]`)
	require.Equal(t, base+"/status.json", facts.AttrOr("data-status-url", ""))
	require.Equal(t, "2", facts.AttrOr("data-progress-run", ""))
	require.Equal(t, 1, doc.Find(`script[src="/static/status.js"]`).Length())
	require.Equal(t, "Avanzamento dell'esecuzione 2", doc.Find(`[data-testid="progress-title"]`).Text())
	rows := doc.Find(`[data-testid="progress-row"]`)
	require.Equal(t, 2, rows.Length())
	require.Equal(t, "anna@acme.test", rows.Eq(0).Find(`[data-testid="progress-local"]`).Text())
	require.Equal(t, "5 di almeno 10 · 50%", rows.Eq(0).Find(`[data-testid="progress-count"]`).Text())
	require.Equal(t, "4 nuovi · 1 già presente · 2 KB", rows.Eq(0).Find(`[data-testid="progress-detail"]`).Text())
	require.Equal(t, "Messaggi di anna@acme.test", rows.Eq(0).Find(`progress`).AttrOr("aria-label", ""))
	require.Equal(t, "Archivio/2023", rows.Eq(0).Find(`[data-testid="progress-folder"]`).Text())
	require.Equal(t, "pending", rows.Eq(1).AttrOr("data-status", ""))
	require.Equal(t, "5 di almeno 10 · 50%", doc.Find(`[data-testid="progress-total"] [data-testid="progress-count"]`).Text())
	run1 := doc.Find(`[data-testid="run-row"][data-run="1"]`)
	require.Equal(t, "Completata con errori", run1.Find(`[data-testid="run-status"]`).Text())
	require.Equal(t, "Caselle non riuscite: 1", run1.Find(`[data-testid="run-failed"]`).Text())
	require.Equal(t, base+"/runs/1/retry", run1.Find(`[data-testid="retry-form"]`).AttrOr("action", ""))
	require.Equal(t, 0, doc.Find(`[data-testid="run-row"][data-run="2"] [data-testid="retry-form"]`).Length())

	// The list shows it running, with its Risorse.
	row := b.get("/migrations").doc(t).Find(`[data-testid="migration-row"]`)
	require.Equal(t, "running", row.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Contains(t, row.Find(`[data-testid="status"]`).Text(), "In corso")
	require.Equal(t, base+"/resources", row.Find(`[data-testid="migration-resources"]`).AttrOr("href", ""))

	// In English.
	doc = b.get(base + "/resources?lang=en").doc(t)
	require.Equal(t, "Resources · Trasloco", doc.Find("title").Text())
	require.Equal(t, "1.5 MB", doc.Find(`[data-testid="resource-mailbox-run"][data-run="1"] [data-testid="resource-bytes"]`).First().Text())
	require.Contains(t, doc.Find(`[data-testid="skipped-title"]`).Text(), "Messages not copied")
	require.Equal(t, "4 vanished from the old server during the copy", doc.Find(`[data-testid="resource-gone"]`).Text())
	require.Contains(t, doc.Find(`[data-testid="skipped-reason"]`).Eq(2).Text(), "the old server did not deliver the message")
	require.Equal(t, "Resources", b.get(base).doc(t).Find(`[data-testid="resources-link"]`).Text())
	require.Equal(t, "Retry failed mailboxes", b.get(base).doc(t).Find(`[data-testid="retry"]`).Text())
	b.get(logPath)

	// No password in clear in anything sent.
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, remotePW1, "a response")
		requireNoSecret(t, body, remotePW2, "a response")
	}
}

// TestResourcesIsolation tries every new page and action with another
// tenant's ids, and with a mailbox run of another migration of the same
// tenant: each answers 404 and nothing changes.
func TestResourcesIsolation(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ta, emailA := p.tenant("acme", "acme.test")
	_, emailB := p.tenant("globex", "globex.test")

	a := p.browser()
	a.login(emailA)
	form := migrationForm()
	form.Del("second_run_at")
	idA, runsA := p.scheduleMigration(a, ta, form)
	annaA, marcoA := p.endFirstRun(ta.ID, runsA[0])
	form.Set("name", "Sede Roma")
	idA2, runsA2 := p.scheduleMigration(a, ta, form)
	annaA2, _ := p.endFirstRun(ta.ID, runsA2[0])

	snapshot := func() string {
		var b strings.Builder
		for _, table := range []string{"migrations", "runs", "mailbox_runs", "mailbox_logs", "skipped_messages", "migration_lines", "river_job"} {
			b.WriteString(p.tableText(table))
		}
		return b.String()
	}
	before := snapshot()

	b := p.browser()
	b.login(emailB)
	base := "/migrations/" + itoa(idA)
	for _, res := range []response{
		b.get(base + "/resources"),
		b.get(base + "/resources/" + itoa(annaA.ID) + "/log"),
		b.get(base + "/resources/" + itoa(annaA.ID) + "/log.txt"),
		b.get(base + "/status.json"),
		b.post(base+"/runs/1/retry", nil),
	} {
		require.Equal(t, http.StatusNotFound, res.status, res.body)
		require.NotContains(t, res.body, "anna@acme.test")
		require.NotContains(t, res.body, "Ufficio Milano")
	}

	// A's own ids, mixed across its two migrations, or malformed.
	base2 := "/migrations/" + itoa(idA2)
	for _, path := range []string{
		base2 + "/resources/" + itoa(annaA.ID) + "/log",
		base2 + "/resources/" + itoa(marcoA.ID) + "/log.txt",
		base + "/resources/" + itoa(annaA2.ID) + "/log",
		base + "/resources/" + itoa(annaA2.ID) + "/log.txt",
		base + "/resources/0/log",
		base + "/resources/x/log.txt",
		base + "/resources/999999999/log",
		"/migrations/999999999/resources",
	} {
		res := a.get(path)
		require.Equal(t, http.StatusNotFound, res.status, path)
		require.NotContains(t, res.body, "Connessione al vecchio server", path)
	}
	require.Equal(t, before, snapshot(), "nothing changed")

	// A still reads its own.
	require.Equal(t, http.StatusOK, a.get(base+"/resources/"+itoa(annaA.ID)+"/log").status)
	require.Equal(t, http.StatusOK, a.get(base2+"/resources/"+itoa(annaA2.ID)+"/log.txt").status)
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, remotePW1, "a response")
		requireNoSecret(t, body, remotePW2, "a response")
	}
}

// TestResourcesMessages checks that the messages this feature added have
// both languages with the same fmt verbs (the i18n package checks only its
// CSV catalog that way).
func TestResourcesMessages(t *testing.T) {
	t.Parallel()
	sameInBoth := map[string]bool{"web.resources.log": true, "web.log.level.info": true}
	for _, key := range []string{
		"web.detail.started_at", "web.detail.ended_at", "web.detail.run_failed",
		"web.progress.title", "web.progress.messages", "web.progress.folder", "web.progress.total", "web.progress.mailboxes",
		"web.retry.submit", "web.retry.hint", "web.retry.no_passwords", "web.retry.done", "web.retry.nothing",
		"web.mailbox.pending", "web.mailbox.running", "web.mailbox.completed", "web.mailbox.completed_with_errors",
		"web.mailbox.failed", "web.mailbox.cancelled", "web.mailbox.not_started",
		"web.resources.title", "web.resources.heading", "web.resources.intro", "web.resources.back", "web.resources.no_runs",
		"web.resources.run", "web.resources.copied", "web.resources.already_there", "web.resources.too_large",
		"web.resources.excluded_folders", "web.resources.failed", "web.resources.bytes", "web.resources.duration",
		"web.resources.log", "web.resources.skipped_title", "web.resources.skipped_hint",
		"web.resources.skipped_none", "web.resources.folder", "web.resources.date", "web.resources.sender", "web.resources.subject",
		"web.resources.size", "web.resources.no_subject", "web.resources.gone", "web.resources.gone.one",
		"web.log.title", "web.log.download", "web.log.back", "web.log.empty", "web.log.time", "web.log.level", "web.log.message",
		"web.log.level.debug", "web.log.level.info", "web.log.level.warn", "web.log.level.error",
	} {
		require.True(t, i18n.Has(key), key)
		it, en := i18n.T(i18n.Italian, key), i18n.T(i18n.English, key)
		require.NotEmpty(t, it, key)
		if !sameInBoth[key] {
			require.NotEqual(t, it, en, "%s has no English text", key)
		}
		require.Equal(t, strings.Count(it, "%"), strings.Count(en, "%"), key)
	}
	require.Equal(t, "Risorse", i18n.T(i18n.Italian, "web.resources.title"))
	require.Equal(t, "Resources", i18n.T(i18n.English, "web.resources.title"))
}

func TestFileNamePart(t *testing.T) {
	t.Parallel()
	require.Equal(t, "anna@acme.test", fileNamePart("anna@acme.test"))
	require.Equal(t, "a_b_c_d", fileNamePart(`a/b"c d`))
}
