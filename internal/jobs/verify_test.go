package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// headerID is the Message-ID line of a message built by the corpus.
func headerID(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "message-id:") {
			return strings.TrimSpace(line[len("message-id:"):])
		}
	}
	return ""
}

// expungeByID removes the message with Message-ID id from folder.
func expungeByID(t *testing.T, c *imapclient.Client, folder, id string) {
	t.Helper()
	_, err := c.Select(folder, nil).Wait()
	require.NoError(t, err)
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
	require.NoError(t, err)
	require.Len(t, data.AllUIDs(), 1)
	var set imap.UIDSet
	set.AddNum(data.AllUIDs()...)
	require.NoError(t, c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	require.NoError(t, c.UIDExpunge(set).Close())
}

func folderRows(t *testing.T, f *fixture, mbID int64) map[string]store.FolderRow {
	t.Helper()
	rows, err := store.ListFolderRows(f.ctx, f.pool, f.tenant.ID, []int64{mbID})
	require.NoError(t, err)
	out := map[string]store.FolderRow{}
	for _, r := range rows[mbID] {
		out[r.Source] = r
	}
	return out
}

// Run 1 of two mailboxes: bob's copy is verified, every count equal to
// the corpus; anna's destination loses a message and gains a duplicate
// behind the copy's back (between an earlier attempt and this one), which
// the verification catches with the folder and the counts, and "Riprova"
// repairs. Run 2, after the customer deleted a message in the new
// mailbox: reported as deleted by the customer, not missing, not copied
// back. The emails carry each mailbox's verdict.
func TestVerificationVerdictRepairAndRun2(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mailer := f.runDeps()
	rc := f.client(t, 4)
	anna := f.user(t, "pw-anna", true)
	bob := f.user(t, "pw-bob", true)
	f.seedMailbox(t, anna, "pw-anna", 30, false)
	f.seedMailbox(t, bob, "pw-bob", 40, false)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, f.src.TLSAddr(), anna, bob, f.src.TLSAddr(), bob)
	first := time.Now().Add(time.Hour)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, second: true, first: first, secondAt: first.Add(2 * time.Hour)})
	runs := f.validate(t, rc, m)
	require.Len(t, runs, 2)

	// An earlier attempt of anna's run 1 copied everything (the engine on
	// the same checkpoints, as that mailbox run); then, behind the copy's
	// back, one INBOX message goes and a Clienti message is put twice.
	mbs, err := store.CreateMailboxRuns(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
	require.NoError(t, err)
	var annaRun store.MailboxRun
	for _, mb := range mbs {
		if mb.LocalUser == anna {
			annaRun = mb
		}
	}
	_, err = transfer.Run(f.ctx, transfer.Job{
		Preset:      transfer.PresetStandardSSL,
		Source:      transfer.Endpoint{Host: f.src.TLSAddr(), TLS: transfer.TLSImplicit, User: anna, Password: "pw-anna", RootCAs: f.src.CAPool()},
		Dest:        transfer.Endpoint{Host: f.dst.TLSAddr(), TLS: transfer.TLSImplicit, User: anna, AuthUser: f.dst.MasterUser(), Password: f.dst.MasterPassword(), RootCAs: f.dst.CAPool()},
		Checkpoints: store.Checkpoints{DB: f.pool, TenantID: f.tenant.ID, LineID: annaRun.LineID, MailboxRunID: annaRun.ID},
	})
	require.NoError(t, err)
	inbox := msgList(30, 0, 12, 2000)
	clienti := msgList(31, 0, 4, 5000)
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	expungeByID(t, dc, "INBOX", headerID(inbox[4].Raw))
	dup := clienti[1]
	dup.Flags = nil
	testenv.Append(t, dc, "Clienti", dup)

	f.startNow(t, rc, runs[0])
	r1 := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompletedWithErrors, r1.Status)
	got := f.mailboxes(t, runs[0].ID)

	// bob: a correct run, verified; the counts are the corpus's.
	b := got[bob]
	require.Equal(t, store.MailboxCompleted, b.Status, f.logText(t, b.ID))
	require.NotNil(t, b.Verdict.Verified)
	require.Equal(t, 19, *b.Verdict.Verified, "12 INBOX + 4 Clienti + 3 Sent")
	require.Equal(t, 19, b.Verdict.Expected)
	require.Zero(t, b.Verdict.Missing)
	require.Zero(t, b.Verdict.Duplicates)
	rows := folderRows(t, f, b.ID)
	for src, want := range map[string]struct {
		dest string
		n    int
	}{"INBOX": {"INBOX", 12}, "INBOX.Clienti": {"Clienti", 4}, "INBOX.Sent": {"Sent", 3}} {
		r := rows[src]
		require.Equal(t, want.dest, r.Dest, src)
		require.Equal(t, want.n, r.Messages, src)
		require.Equal(t, want.n, r.Copied, src)
		require.Positive(t, r.Bytes, src)
		require.NotNil(t, r.Verified, src)
		require.Equal(t, want.n, *r.Verified, src)
	}
	require.Equal(t, "trash", rows["INBOX.Trash"].Excluded)
	require.Equal(t, "junk", rows["INBOX.Bulk"].Excluded)
	require.Nil(t, rows["INBOX.Trash"].Verified)

	// anna: caught, with the folder and the counts.
	a := got[anna]
	require.Equal(t, store.MailboxCompletedWithErrors, a.Status, f.logText(t, a.ID))
	require.True(t, a.Retryable())
	require.Equal(t, 18, *a.Verdict.Verified)
	require.Equal(t, 19, a.Verdict.Expected)
	require.Equal(t, 1, a.Verdict.Missing)
	require.Equal(t, 1, a.Verdict.Duplicates)
	require.Equal(t, "run.verify_failed", a.Error.Code)
	rows = folderRows(t, f, a.ID)
	require.Equal(t, 12, rows["INBOX"].Copied, "the earlier attempt's copies are this run's")
	require.Zero(t, rows["INBOX"].AlreadyThere)
	require.Equal(t, 1, rows["INBOX"].Missing)
	require.Equal(t, 11, *rows["INBOX"].Verified)
	require.Zero(t, rows["INBOX"].Duplicates)
	require.Equal(t, 1, rows["INBOX.Clienti"].Duplicates)
	require.Zero(t, rows["INBOX.Clienti"].Missing)
	require.Zero(t, rows["INBOX.Sent"].Missing+rows["INBOX.Sent"].Duplicates)
	findings, err := store.ListFindings(f.ctx, f.pool, f.tenant.ID, []int64{a.ID})
	require.NoError(t, err)
	require.Len(t, findings, 2)
	kinds := map[string]store.Finding{}
	for _, x := range findings {
		kinds[x.Kind] = x
	}
	require.Equal(t, "INBOX", kinds["missing"].Folder)
	require.Equal(t, uint32(5), kinds["missing"].UID)
	require.Equal(t, "INBOX.Clienti", kinds["duplicate"].Folder)
	require.Equal(t, uint32(2), kinds["duplicate"].UID)

	// The email says so, per mailbox.
	waitFor(t, 30*time.Second, "run 1 email", func() (bool, string) { return len(mailer.all()) == 1, fmt.Sprint(len(mailer.all())) })
	verdicts := map[string]notify.MailboxOutcome{}
	for _, o := range mailer.all()[0].report.Mailboxes {
		verdicts[o.LocalUser] = o
	}
	require.True(t, verdicts[bob].Verdict.OK())
	require.Equal(t, 19, *verdicts[bob].Verdict.Verified)
	require.False(t, verdicts[anna].Verdict.OK())
	require.Equal(t, 1, verdicts[anna].Verdict.Missing)
	require.Equal(t, 1, verdicts[anna].Verdict.Duplicates)

	// Riprova: the missing message copied, the duplicate removed.
	n, err := jobs.RetryFailedMailboxes(f.ctx, f.pool, rc, f.tenant.ID, runs[0].ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	r1 = f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r1.Status, f.logText(t, a.ID))
	a = f.mailboxes(t, runs[0].ID)[anna]
	require.Equal(t, store.MailboxCompleted, a.Status)
	require.Equal(t, 19, *a.Verdict.Verified)
	require.Zero(t, a.Verdict.Missing)
	require.Zero(t, a.Verdict.Duplicates)
	f.requireCopied(t, anna, "pw-anna", false)
	findings, err = store.ListFindings(f.ctx, f.pool, f.tenant.ID, []int64{a.ID})
	require.NoError(t, err)
	require.Empty(t, findings)
	rows = folderRows(t, f, a.ID)
	require.Equal(t, 1, rows["INBOX.Clienti"].Removed)
	require.Equal(t, 12, rows["INBOX"].Copied, "11 and the one copied again")
	require.Zero(t, rows["INBOX"].AlreadyThere)

	// Run 2: the customer deleted a message in the new mailbox since run
	// 1, and two new ones arrived at the old server.
	dc = f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	expungeByID(t, dc, "INBOX", headerID(inbox[7].Raw))
	sc := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, sc, "INBOX", msgList(30, 100, 2, 2500)...)
	_, err = sc.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, sc.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close())
	f.startNow(t, rc, runs[1])
	r2 := f.waitRun(t, runs[1].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r2.Status)
	a2 := f.mailboxes(t, runs[1].ID)[anna]
	require.Equal(t, store.MailboxCompleted, a2.Status, f.logText(t, a2.ID))
	require.Equal(t, 2, a2.Copied)
	require.Equal(t, 2, *a2.Verdict.Verified, "run 2 is held to what it had to bring")
	require.Equal(t, 2, a2.Verdict.Expected)
	require.Zero(t, a2.Verdict.Missing)
	require.Equal(t, 1, a2.Verdict.DeletedByCustomer)
	require.Equal(t, 18, a2.Verdict.StillThere, "run 1's 19 but the one deleted")
	require.Equal(t, "verificato: 2 di 2 nuovi presenti · 18 delle esecuzioni precedenti ancora presenti · 1 cancellato nella nuova casella dopo l'esecuzione precedente (non ricopiato)",
		i18n.VerdictText(i18n.Italian, jobs.VerdictOf(a2)))
	require.Positive(t, a2.FlagsUpdated)
	require.Zero(t, a2.Verdict.FlagsBehind, "the flag change is brought and verified")
	rows = folderRows(t, f, a2.ID)
	require.Equal(t, 1, rows["INBOX"].DeletedByCustomer)
	require.Equal(t, 2, rows["INBOX"].Copied)
	require.Equal(t, 12, rows["INBOX"].AlreadyThere, "11 there since run 1 and the one deleted since, as the copy counts them")
	dm, err := testenv.ReadFolder(dc, "INBOX")
	require.NoError(t, err)
	require.Len(t, dm, 13, "12 - 1 deleted + 2 new: the deleted one is not copied back")
	_, back := dm[headerID(inbox[7].Raw)]
	require.False(t, back)
}
