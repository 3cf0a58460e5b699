package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// TestRetryFailedMailboxes posts "Riprova le caselle fallite" for a run
// completed with errors: the failed mailbox, and the one completed with
// messages that failed, go back to pending with a job; a second post, or one after the passwords were erased, gets a
// message instead.
func TestRetryFailedMailboxes(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	form := migrationForm()
	form.Del("second_run_at")
	id, runs := p.scheduleMigration(b, tn, form)
	require.Len(t, runs, 1)
	anna, marco := p.endFirstRun(tn.ID, runs[0])
	m, err := store.GetMigration(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompletedWithErrors, m.Status)
	base := "/migrations/" + itoa(id)

	doc := b.get(base).doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="retry-form"]`).Length())
	require.Equal(t, 0, doc.Find(`script[src="/static/status.js"]`).Length(), "no polling once ended")
	jobsBefore := p.countJobs()

	res := b.post(base+"/runs/1/retry", nil)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, base, res.header.Get("Location"))
	mb, err := store.GetMailboxRun(ctx, p.pool, tn.ID, marco.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxPending, mb.Status)
	require.Empty(t, mb.Reason(i18n.Italian))
	mb, err = store.GetMailboxRun(ctx, p.pool, tn.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxPending, mb.Status, "anna's 3 failed messages are tried again")
	run, err := store.GetRun(ctx, p.pool, tn.ID, runs[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.RunRunning, run.Status)
	require.Equal(t, jobsBefore+2, p.countJobs(), "one copy job for marco, one for anna")
	doc = b.get(base).doc(t)
	require.Contains(t, doc.Find(`[data-testid="flash"]`).Text(), "Riprovo le caselle non riuscite (2)")
	require.Equal(t, "running", doc.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Equal(t, 0, doc.Find(`[data-testid="retry-form"]`).Length())

	// Again: nothing to retry now, a message rather than an error.
	res = b.post(base+"/runs/1/retry", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(base).doc(t).Find(`[data-testid="flash"].error`).Text(), "nessuna casella da riprovare")
	require.Equal(t, jobsBefore+2, p.countJobs())
	// A run the migration does not have.
	require.Equal(t, http.StatusNotFound, b.post(base+"/runs/2/retry", nil).status)
	require.Equal(t, http.StatusNotFound, b.post(base+"/runs/x/retry", nil).status)

	// Once the passwords are erased the page says so instead of offering
	// the retry, and a retry posted anyway is refused with a message.
	id2, runs2 := p.scheduleMigration(b, tn, form)
	p.endFirstRun(tn.ID, runs2[0])
	_, err = p.pool.Exec(ctx, `UPDATE migration_lines SET remote_password_enc = NULL WHERE migration_id = $1`, id2)
	require.NoError(t, err)
	base2 := "/migrations/" + itoa(id2)
	doc = b.get(base2).doc(t)
	require.Equal(t, 0, doc.Find(`[data-testid="retry-form"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="retry-no-passwords"]`).Length())
	res = b.post(base2+"/runs/1/retry", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get(base2).doc(t).Find(`[data-testid="flash"].error`).Text(), "password non sono più conservate")
}

// countJobs is the number of River jobs.
func (p *panel) countJobs() int {
	p.t.Helper()
	var n int
	require.NoError(p.t, p.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job`).Scan(&n))
	return n
}
