package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// Risorse shows per mailbox and run the verdict and the folders, from what
// the mailbox job stores (store.SaveFolderFigures, SaveFolderCheck,
// SaveVerdict), in Italian and in English.
func TestResourcesVerdictAndFolders(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	mbs := p.startRun(tn.ID, runs[0])
	anna, marco := mbs[0], mbs[1]
	for _, mb := range mbs {
		_, err := store.StartMailboxRun(ctx, p.pool, tn.ID, mb.ID)
		require.NoError(t, err)
	}
	ten := func(n int) *int { return &n }

	// anna: verified, every message present.
	require.NoError(t, store.SaveFolderFigures(ctx, p.pool, tn.ID, anna.ID, 1, store.FolderRow{
		Source: "INBOX", Dest: "INBOX", Messages: 4600, Bytes: 300 << 20, Copied: 4600}))
	require.NoError(t, store.SaveFolderFigures(ctx, p.pool, tn.ID, anna.ID, 2, store.FolderRow{
		Source: "INBOX.Sent", Dest: "Sent", Messages: 32, Bytes: 1 << 20, Copied: 30, AlreadyThere: 2}))
	require.NoError(t, store.SaveFolderFigures(ctx, p.pool, tn.ID, anna.ID, 3, store.FolderRow{Source: "INBOX.Trash", Excluded: "trash"}))
	require.NoError(t, store.SaveFolderCheck(ctx, p.pool, tn.ID, anna.ID, store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: ten(4600), Expected: 4600}, nil))
	require.NoError(t, store.SaveFolderCheck(ctx, p.pool, tn.ID, anna.ID, store.FolderRow{Source: "INBOX.Sent", Dest: "Sent", Verified: ten(32), Expected: 32}, nil))
	v, err := store.SaveVerdict(ctx, p.pool, tn.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, 4632, *v.Verified)
	require.NoError(t, store.FinishMailboxRun(ctx, p.pool, tn.ID, anna.ID, store.MailboxCompleted, store.MailboxCounters{Copied: 4630, AlreadyThere: 2}, i18n.Msg{}))

	// marco: one message missing in Lavoro, one twice.
	require.NoError(t, store.SaveFolderFigures(ctx, p.pool, tn.ID, marco.ID, 1, store.FolderRow{
		Source: "Lavoro", Dest: "Lavoro", Messages: 10, Bytes: 10 << 10, Copied: 10}))
	when := time.Date(2029, 5, 4, 8, 0, 0, 0, time.UTC)
	require.NoError(t, store.SaveFolderCheck(ctx, p.pool, tn.ID, marco.ID,
		store.FolderRow{Source: "Lavoro", Dest: "Lavoro", Verified: ten(9), Expected: 10, Missing: 1, Duplicates: 1},
		[]store.Finding{
			{Folder: "Lavoro", Kind: "missing", UID: 7, Size: 1024, Date: &when, Sender: "Studio <s@x.test>", Subject: "Verbale", Reason: "not_at_destination"},
			{Folder: "Lavoro", Kind: "duplicate", UID: 3, Size: 2048, Subject: "Preventivo"},
		}))
	_, err = store.SaveVerdict(ctx, p.pool, tn.ID, marco.ID)
	require.NoError(t, err)
	require.NoError(t, store.FinishMailboxRun(ctx, p.pool, tn.ID, marco.ID, store.MailboxCompletedWithErrors, store.MailboxCounters{Copied: 10}, i18n.New("run.verify_failed", 1, 1, 0)))
	p.endRun(tn.ID, runs[0])

	base := "/migrations/" + itoa(id) + "/resources"
	res := b.get(base)
	require.Equal(t, http.StatusOK, res.status)
	doc := res.doc(t)
	mailboxes := doc.Find(`[data-testid="resource-mailbox"]`)
	av := mailboxes.Eq(0).Find(`[data-testid="resource-verdict"]`)
	require.Equal(t, "verificato: 4.632 di 4.632 presenti", av.Text())
	require.Equal(t, "true", av.AttrOr("data-ok", ""))
	mv := mailboxes.Eq(1).Find(`[data-testid="resource-verdict"]`)
	require.Equal(t, "verifica: 9 di 10 presenti · 1 mancante nella nuova casella · 1 doppio nella nuova casella", mv.Text())
	require.Equal(t, "false", mv.AttrOr("data-ok", ""))

	// anna's folders: names on both sides, the figures, the verification.
	fa := doc.Find(`[data-testid="folders-mailbox"][data-line="1"][data-run="1"]`)
	require.Equal(t, 1, fa.Length())
	_, open := fa.Attr("open")
	require.False(t, open, "a clean verification starts folded")
	require.Contains(t, fa.Find("summary").Text(), "verificato: 4.632 di 4.632 presenti")
	rows := fa.Find(`[data-testid="folder-row"]`)
	require.Equal(t, 3, rows.Length())
	sent := fa.Find(`[data-testid="folder-row"][data-source="INBOX.Sent"]`)
	for testid, want := range map[string]string{
		"folder-source": "INBOX.Sent", "folder-dest": "Sent", "folder-messages": "32", "folder-bytes": "1 MB",
		"folder-copied": "30", "folder-already-there": "2", "folder-too-large": "0", "folder-failed": "0",
	} {
		require.Equal(t, want, strings.TrimSpace(sent.Find(`[data-testid="`+testid+`"]`).Text()), testid)
	}
	require.Equal(t, "32 di 32", strings.TrimSpace(sent.Find(`[data-testid="folder-verified"]`).Text()))
	require.Equal(t, "4.600", fa.Find(`[data-testid="folder-row"][data-source="INBOX"] [data-testid="folder-messages"]`).Text())
	require.Equal(t, "non copiata: cestino", fa.Find(`[data-testid="folder-row"][data-source="INBOX.Trash"] [data-testid="folder-excluded"]`).Text())

	// marco's: where and what.
	fm := doc.Find(`[data-testid="folders-mailbox"][data-line="2"][data-run="1"]`)
	_, open = fm.Attr("open")
	require.True(t, open, "a verification with findings starts open")
	lav := fm.Find(`[data-testid="folder-row"][data-source="Lavoro"]`)
	require.Equal(t, "false", lav.Find(`[data-testid="folder-verified"]`).AttrOr("data-ok", ""))
	require.Contains(t, lav.Find(`[data-testid="folder-problems"]`).Text(), "1 mancante")
	findings := fm.Find(`[data-testid="finding-row"]`)
	require.Equal(t, 2, findings.Length())
	miss := fm.Find(`[data-testid="finding-row"][data-kind="missing"]`)
	require.Equal(t, "Lavoro", miss.Find(`[data-testid="finding-folder"]`).Text())
	require.Equal(t, "7", miss.Find(`[data-testid="finding-uid"]`).Text())
	require.Contains(t, miss.Text(), "Verbale")
	require.Contains(t, miss.Find(`[data-testid="finding-kind"]`).Text(), "«Riprova» lo copia di nuovo")

	// The same in English, with no Italian sentence of the verification.
	doc = b.get(base + "?lang=en").doc(t)
	mailboxes = doc.Find(`[data-testid="resource-mailbox"]`)
	require.Equal(t, "verified: 4,632 of 4,632 present", mailboxes.Eq(0).Find(`[data-testid="resource-verdict"]`).Text())
	require.Equal(t, "verification: 9 of 10 present · 1 missing from the new mailbox · 1 twice in the new mailbox",
		mailboxes.Eq(1).Find(`[data-testid="resource-verdict"]`).Text())
	fa = doc.Find(`[data-testid="folders-mailbox"][data-line="1"][data-run="1"]`)
	require.Equal(t, "not copied: trash", fa.Find(`[data-testid="folder-row"][data-source="INBOX.Trash"] [data-testid="folder-excluded"]`).Text())
	require.Equal(t, "32 of 32", strings.TrimSpace(fa.Find(`[data-testid="folder-row"][data-source="INBOX.Sent"] [data-testid="folder-verified"]`).Text()))
	text := doc.Find(`[data-testid="folders-mailbox"]`).Text()
	for _, it := range []string{"mancante", "verificato", "Riprova", "Cartelle", "Messaggi"} {
		require.NotContains(t, text, it)
	}

	// Another tenant sees none of it.
	other, otherEmail := p.tenant("beta", "beta.test")
	_ = other
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, http.StatusNotFound, ob.get(base).status)
}

// "Riprova le caselle fallite" takes up a mailbox whose only trouble is
// its verification (a duplicate, nothing failed), not one that passed; for
// another tenant the route is not there and nothing changes.
func TestRetryAfterFailedVerification(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	form := migrationForm()
	form.Del("second_run_at")
	id, runs := p.scheduleMigration(b, tn, form)
	mbs := p.startRun(tn.ID, runs[0])
	anna, marco := mbs[0], mbs[1]
	four := 4
	for _, mb := range mbs {
		_, err := store.StartMailboxRun(ctx, p.pool, tn.ID, mb.ID)
		require.NoError(t, err)
		require.NoError(t, store.SaveFolderFigures(ctx, p.pool, tn.ID, mb.ID, 1, store.FolderRow{Source: "INBOX", Dest: "INBOX", Messages: 4, Copied: 4}))
		row := store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: &four, Expected: 4}
		if mb.ID == anna.ID {
			row.Duplicates = 1
		}
		require.NoError(t, store.SaveFolderCheck(ctx, p.pool, tn.ID, mb.ID, row, nil))
		v, err := store.SaveVerdict(ctx, p.pool, tn.ID, mb.ID)
		require.NoError(t, err)
		status := store.MailboxCompleted
		if !v.OK() {
			status = store.MailboxCompletedWithErrors
		}
		require.NoError(t, store.FinishMailboxRun(ctx, p.pool, tn.ID, mb.ID, status, store.MailboxCounters{Copied: 4, Found: 4}, i18n.Msg{}))
	}
	p.endRun(tn.ID, runs[0])
	a, err := store.GetMailboxRun(ctx, p.pool, tn.ID, anna.ID)
	require.NoError(t, err)
	require.True(t, a.Retryable(), "a duplicate found by the verification")
	require.Zero(t, a.Failed)
	base := "/migrations/" + itoa(id)
	require.Equal(t, 1, b.get(base).doc(t).Find(`[data-testid="retry-form"]`).Length())

	_, otherEmail := p.tenant("beta", "beta.test")
	ob := p.browser()
	ob.login(otherEmail)
	jobsBefore := p.countJobs()
	require.Equal(t, http.StatusNotFound, ob.post(base+"/runs/1/retry", nil).status)
	a, err = store.GetMailboxRun(ctx, p.pool, tn.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxCompletedWithErrors, a.Status, "another tenant's post changes nothing")
	require.Equal(t, jobsBefore, p.countJobs())

	res := b.post(base+"/runs/1/retry", nil)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	a, err = store.GetMailboxRun(ctx, p.pool, tn.ID, anna.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxPending, a.Status)
	require.Equal(t, 1, a.Verdict.Duplicates, "the retry knows it has duplicates to remove")
	mc, err := store.GetMailboxRun(ctx, p.pool, tn.ID, marco.ID)
	require.NoError(t, err)
	require.Equal(t, store.MailboxCompleted, mc.Status)
	require.Equal(t, jobsBefore+1, p.countJobs())
}
