package transfer_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// figuresRec records the folder figures and checks as a FolderReporter,
// and may tamper with the destination at a folder's end, behind the
// copy's back.
type figuresRec struct {
	logRec
	fmu     sync.Mutex
	figures map[string]transfer.FolderFigures
	checks  map[string]transfer.FolderCheck
	atEnd   func(folder string)
}

func (r *figuresRec) FolderDone(f transfer.FolderFigures) {
	r.fmu.Lock()
	if r.figures == nil {
		r.figures = map[string]transfer.FolderFigures{}
	}
	r.figures[f.Source] = f
	r.fmu.Unlock()
	if r.atEnd != nil {
		r.atEnd(f.Source)
	}
}

func (r *figuresRec) FolderVerified(c transfer.FolderCheck) {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if r.checks == nil {
		r.checks = map[string]transfer.FolderCheck{}
	}
	r.checks[c.Source] = c
}

func verifyJob(f *fixture, cp transfer.CheckpointStore, rep transfer.Reporter) transfer.Job {
	j := f.job(cp, rep)
	j.Verify = true
	return j
}

// destUIDOf finds the destination UID of the message with Message-ID id.
func destUIDOf(t *testing.T, c *imapclient.Client, folder, id string) imap.UID {
	t.Helper()
	_, err := c.Select(folder, nil).Wait()
	require.NoError(t, err)
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
	require.NoError(t, err)
	uids := data.AllUIDs()
	require.Len(t, uids, 1, "message %s in %s", id, folder)
	return uids[0]
}

// removeMessage deletes one message from a destination folder.
func removeMessage(t *testing.T, c *imapclient.Client, folder, id string) {
	t.Helper()
	uid := destUIDOf(t, c, folder, id)
	var set imap.UIDSet
	set.AddNum(uid)
	require.NoError(t, c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	require.NoError(t, c.UIDExpunge(set).Close())
}

func TestVerifyCorrectRun(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	rep := &figuresRec{}
	cp := transfer.NewMemoryCheckpoints()
	res, err := transfer.Run(context.Background(), verifyJob(f, cp, rep))
	require.NoError(t, err)
	require.NotNil(t, res.Verification)
	require.True(t, res.Verification.OK(), "%+v\n%s", res.Verification, rep.text())
	want := map[string]int{"INBOX": 30, "INBOX.Clienti": 5, "INBOX.Clienti.Società": 4, "INBOX.Posta inviata": 3, "INBOX.Sent": 6}
	total := 0
	for src, n := range want {
		c, ok := rep.checks[src]
		require.True(t, ok, "folder %s verified", src)
		require.Equal(t, wantMapping[src], c.Dest)
		require.Equal(t, n, c.Expected, src)
		require.Equal(t, n, c.Verified, src)
		fig := rep.figures[src]
		require.Equal(t, wantMapping[src], fig.Dest)
		require.Equal(t, n, fig.Messages, src)
		require.Equal(t, n, fig.Copied, src)
		require.Positive(t, fig.Bytes, src)
		total += n
	}
	require.Equal(t, res.Copied, total)
	// The folders not copied are reported with why.
	require.Equal(t, transfer.ExclTrash, rep.figures["INBOX.Cestino"].Excluded)
	require.Equal(t, transfer.ExclJunk, rep.figures["INBOX.Posta indesiderata"].Excluded)
	require.Len(t, rep.checks, len(want), "only the copied folders are verified")

	// A later attempt of the same run (after a crash) that copies nothing
	// does not verify again the folders verified already; it verifies the
	// others.
	done := map[string]bool{"INBOX": true, "INBOX.Sent": true}
	j := verifyJob(f, cp, &figuresRec{})
	j.VerifiedFolders = done
	res, err = transfer.Run(context.Background(), j)
	require.NoError(t, err)
	require.Zero(t, res.Copied)
	require.ElementsMatch(t, []string{"INBOX", "INBOX.Sent"}, res.Verification.Resumed)
	require.Len(t, res.Verification.Folders, 3)
	require.True(t, res.Verification.OK())
}

// shownFields are a message's sender, subject and date as the customer
// reads them.
type shownFields struct {
	from, subject string
	date          time.Time
}

func headerFields(t *testing.T, raw []byte) shownFields {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	var h shownFields
	h.from, err = dec.DecodeHeader(m.Header.Get("From"))
	require.NoError(t, err)
	h.subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	h.date, err = mail.ParseDate(m.Header.Get("Date"))
	require.NoError(t, err)
	require.NotEmpty(t, h.from)
	require.NotEmpty(t, h.subject)
	return h
}

// A message removed from the destination behind the copy's back, and one
// put there twice, are caught in their folder with their counts; a second
// pass with Repair copies the missing one and removes the duplicate.
func TestVerifyCatchesMissingAndDuplicateThenRepairs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	inbox := msgs(1, 0, 30, 3000)
	gone := messageID(inbox[3].Raw)
	dc := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	rep := &figuresRec{atEnd: func(folder string) {
		if folder != "Clienti" && folder != "INBOX.Clienti" {
			return
		}
		// Behind the copy's back, in INBOX (copied already).
		removeMessage(t, dc, "INBOX", gone)
		dup := inbox[7]
		dup.Flags = nil
		testenv.Append(t, dc, "INBOX", dup)
	}}
	cp := transfer.NewMemoryCheckpoints()
	res, err := transfer.Run(context.Background(), verifyJob(f, cp, rep))
	require.NoError(t, err)
	require.False(t, res.Verification.OK())
	c := rep.checks["INBOX"]
	require.Equal(t, 30, c.Expected)
	require.Equal(t, 29, c.Verified)
	require.Len(t, c.Missing, 1)
	require.Equal(t, uint32(4), c.Missing[0].UID)
	require.Equal(t, transfer.ReasonNotAtDest, c.Missing[0].Reason)
	require.Len(t, c.Duplicates, 1)
	require.Equal(t, uint32(8), c.Duplicates[0].UID)
	// What the customer reads of them is the old server's header.
	for _, f := range []transfer.Finding{c.Missing[0], c.Duplicates[0]} {
		h := headerFields(t, inbox[f.UID-1].Raw)
		require.Equal(t, h.from, f.From, "finding %d", f.UID)
		require.Equal(t, h.subject, f.Subject, "finding %d", f.UID)
		require.True(t, h.date.Equal(f.Date), "finding %d: %v, want %v", f.UID, f.Date, h.date)
	}
	require.Zero(t, c.Removed, "the verification alone removes nothing")
	for src, other := range rep.checks {
		if src != "INBOX" {
			require.True(t, other.OK(), "%s: %+v", src, other)
		}
	}
	require.Len(t, readFolder(t, dc, "INBOX"), 30, "29 and the duplicate: the verification changed nothing")

	// Riprova: the missing message is copied again, the duplicate removed.
	rep2 := &figuresRec{}
	j := verifyJob(f, cp, rep2)
	j.Repair = true
	res, err = transfer.Run(context.Background(), j)
	require.NoError(t, err)
	require.Equal(t, 1, res.Copied, rep2.text())
	require.True(t, res.Verification.OK(), "%+v\n%s", rep2.checks["INBOX"], rep2.text())
	c = rep2.checks["INBOX"]
	require.Equal(t, 30, c.Verified)
	require.Equal(t, 1, c.Removed)
	requireSameMail(t, f, wantMapping)
}

// Run 2 after the customer deleted a message at the destination: it is
// reported as deleted by the customer, not missing, and not copied back;
// run 2 is held to its new messages.
func TestVerifyRun2DeletedByCustomer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	cp := transfer.NewMemoryCheckpoints()
	res, err := transfer.Run(context.Background(), verifyJob(f, cp, &figuresRec{}))
	require.NoError(t, err)
	require.True(t, res.Verification.OK())
	cp.Seal() // run 2 comes

	inbox := msgs(1, 0, 30, 3000)
	dc := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	removeMessage(t, dc, "INBOX", messageID(inbox[2].Raw))
	sc := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, sc, "INBOX", msgs(1, 30, 2, 3000)...)

	rep := &figuresRec{}
	res, err = transfer.Run(context.Background(), verifyJob(f, cp, rep))
	require.NoError(t, err)
	require.Equal(t, 2, res.Copied)
	require.True(t, res.Verification.OK(), "%+v", rep.checks["INBOX"])
	c := rep.checks["INBOX"]
	require.Equal(t, 2, c.Expected)
	require.Equal(t, 2, c.Verified)
	require.Equal(t, 1, c.DeletedByCustomer)
	require.Equal(t, 29, c.StillThere)
	require.Empty(t, c.Missing)
	require.Len(t, readFolder(t, dc, "INBOX"), 31, "not copied back")
}
