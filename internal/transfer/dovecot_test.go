package transfer_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a source mailbox and its destination mailbox on the Dovecot pair.
type fixture struct {
	src, dst         *testenv.Dovecot
	srcUser, dstUser string
	srcPass, dstPass string
}

func setup(t *testing.T, dstOpts ...testenv.UserOption) *fixture {
	t.Helper()
	src, dst := testenv.SharedDovecot(t)
	f := &fixture{src: src, dst: dst, srcPass: "old-Pa;ss", dstPass: "new-pass"}
	f.srcUser = testenv.UniqueUser(t, "old.test")
	f.dstUser = testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(f.srcUser, f.srcPass))
	require.NoError(t, dst.AddUser(f.dstUser, f.dstPass, dstOpts...))
	return f
}

// job copies the fixture's source into its destination: the source with the
// user's own password over STARTTLS, the destination with the master user
// over implicit TLS, both verified against the test CA.
func (f *fixture) job(cp transfer.CheckpointStore, rep transfer.Reporter) transfer.Job {
	return transfer.Job{
		Preset: transfer.PresetStandardSSL,
		Source: transfer.Endpoint{Host: f.src.PlainAddr(), TLS: transfer.TLSStartTLS, User: f.srcUser, Password: f.srcPass, RootCAs: f.src.CAPool()},
		Dest: transfer.Endpoint{Host: f.dst.TLSAddr(), TLS: transfer.TLSImplicit, User: f.dstUser,
			AuthUser: f.dst.MasterUser(), Password: f.dst.MasterPassword(), RootCAs: f.dst.CAPool()},
		Checkpoints: cp,
		Reporter:    rep,
		Backoff:     func(int) time.Duration { return 50 * time.Millisecond },
	}
}

// logRec collects log lines for assertions.
type logRec struct {
	mu      sync.Mutex
	lines   []string
	skipped []transfer.SkippedMessage
	last    transfer.Progress
}

func (l *logRec) Log(e transfer.LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, e.Folder+": "+e.Message)
	if e.Skipped != nil {
		l.skipped = append(l.skipped, *e.Skipped)
	}
}
func (l *logRec) Progress(p transfer.Progress) { l.mu.Lock(); l.last = p; l.mu.Unlock() }
func (l *logRec) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// stored is a message as a server holds it.
type stored struct {
	uid   imap.UID
	sum   [32]byte
	flags string
	date  time.Time
}

// snapshot reads every message of every selectable folder, keyed by folder
// then Message-ID (with a counter suffix for duplicates).
func snapshot(t *testing.T, c *imapclient.Client) map[string]map[string]stored {
	t.Helper()
	list, err := c.List("", "*", nil).Collect()
	require.NoError(t, err)
	out := map[string]map[string]stored{}
	for _, l := range list {
		if hasAttr(l.Attrs, imap.MailboxAttrNoSelect) {
			continue
		}
		out[l.Mailbox] = readFolder(t, c, l.Mailbox)
	}
	return out
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if x == a {
			return true
		}
	}
	return false
}

func readFolder(t *testing.T, c *imapclient.Client, name string) map[string]stored {
	t.Helper()
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	msgs := map[string]stored{}
	if sel.NumMessages == 0 {
		return msgs
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	body := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	require.NoError(t, err)
	for _, b := range bufs {
		raw := b.FindBodySection(body)
		id := messageID(raw)
		for i := 1; ; i++ {
			if _, dup := msgs[id]; !dup {
				break
			}
			id = fmt.Sprintf("%s#%d", strings.TrimSuffix(id, fmt.Sprintf("#%d", i-1)), i)
		}
		var fl []string
		for _, f := range b.Flags {
			if f != `\Recent` {
				fl = append(fl, string(f))
			}
		}
		msgs[id] = stored{uid: b.UID, sum: sha256.Sum256(raw), flags: sortJoin(fl), date: b.InternalDate.UTC()}
	}
	return msgs
}

func messageID(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if line == "" {
			break
		}
		if strings.HasPrefix(strings.ToLower(line), "message-id:") {
			return strings.TrimSpace(line[len("message-id:"):])
		}
	}
	return fmt.Sprintf("no-id-%x", sha256.Sum256(raw))
}

func sortJoin(fl []string) string {
	for i := 1; i < len(fl); i++ {
		for j := i; j > 0 && fl[j] < fl[j-1]; j-- {
			fl[j], fl[j-1] = fl[j-1], fl[j]
		}
	}
	return strings.Join(fl, " ")
}

func msgs(seed int64, from, n, size int) []testenv.Msg {
	out := make([]testenv.Msg, n)
	for i := range out {
		out[i] = testenv.BuildMessage(seed, from+i, size)
	}
	return out
}

// seedStandard fills a Courier-like source mailbox and returns what must be
// found at the destination, by destination folder.
func seedStandard(t *testing.T, f *fixture) {
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(1, 0, 30, 3000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgs(2, 0, 5, 20000)...)
	testenv.Append(t, c, "INBOX.Clienti.Società", msgs(3, 0, 4, 2000)...)
	testenv.Append(t, c, "INBOX.Posta inviata", msgs(4, 0, 3, 1500)...)
	testenv.Append(t, c, "INBOX.Sent", msgs(5, 0, 6, 1500)...)
	testenv.Append(t, c, "INBOX.Cestino", msgs(6, 0, 3, 1500)...)
	testenv.Append(t, c, "INBOX.Posta indesiderata", msgs(7, 0, 2, 1500)...)
	testenv.Append(t, c, "INBOX.Bulk", msgs(8, 0, 2, 1500)...)
	testenv.Append(t, c, "INBOX.Trash", msgs(9, 0, 2, 1500)...)
}

// wantMapping is how seedStandard's folders land at the destination.
var wantMapping = map[string]string{
	"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Clienti.Società": "Clienti/Società",
	"INBOX.Posta inviata": "Posta inviata", "INBOX.Sent": "Sent",
}

// requireSameMail checks that every source folder of mapping is at the
// destination byte for byte, with its flags and internal dates, and that
// the destination holds nothing else in those folders.
func requireSameMail(t *testing.T, f *fixture, mapping map[string]string) {
	t.Helper()
	sc := f.src.Dial(t, f.srcUser, f.srcPass)
	dc := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	for s, d := range mapping {
		sm := readFolder(t, sc, s)
		dm := readFolder(t, dc, d)
		want := map[string]stored{}
		for id, m := range sm {
			want[id] = m
		}
		require.Equal(t, len(want), len(dm), "folder %s -> %s: message count", s, d)
		for id, m := range want {
			got, ok := dm[id]
			require.True(t, ok, "folder %s -> %s: message %s missing", s, d, id)
			require.Equal(t, m.sum, got.sum, "message %s: body differs", id)
			require.Equal(t, m.flags, got.flags, "message %s: flags differ", id)
			require.True(t, m.date.Equal(got.date), "message %s: internal date %s, want %s", id, got.date, m.date)
		}
	}
}

func TestCopyCourierToOurs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	before := snapshot(t, f.src.Dial(t, f.srcUser, f.srcPass))

	rep := &logRec{}
	res, err := transfer.Run(context.Background(), f.job(transfer.NewMemoryCheckpoints(), rep))
	require.NoError(t, err, rep.text())
	require.Equal(t, 30+5+4+3+6, res.Copied)
	require.Equal(t, res.Copied, res.Found)
	require.Zero(t, res.Failed)
	require.Equal(t, 5, res.Folders)
	require.Equal(t, 4, res.ExcludedFolders, "Cestino, Posta indesiderata, Bulk (\\Junk), Trash")
	requireSameMail(t, f, wantMapping)

	// Nothing excluded reached the destination, and no folder beyond the plan.
	dst := snapshot(t, f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()))
	for name, m := range dst {
		if _, ok := map[string]bool{"Drafts": true, "Archive": true, "Trash": true, "Junk": true}[name]; ok {
			require.Empty(t, m, "destination %s must stay empty", name)
			continue
		}
		found := false
		for _, d := range wantMapping {
			found = found || d == name
		}
		require.True(t, found || name == "Clienti", "unexpected destination folder %q", name)
	}
	// The source is untouched: same messages, same flags (EXAMINE + PEEK).
	require.Equal(t, before, snapshot(t, f.src.Dial(t, f.srcUser, f.srcPass)))
	require.Contains(t, rep.text(), "folder not copied: spam/junk")
	require.Equal(t, 48, rep.last.Done)
	require.Equal(t, 48, rep.last.Total)

	// A second copy with no checkpoint at all adds nothing: every message is
	// recognised at the destination by its Message-ID.
	res, err = transfer.Run(context.Background(), f.job(transfer.NewMemoryCheckpoints(), nil))
	require.NoError(t, err)
	require.Zero(t, res.Copied)
	require.Equal(t, 48, res.AlreadyThere)
	requireSameMail(t, f, wantMapping)
}

func TestSecondPassCopiesNewAndUpdatesFlags(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(11, 0, 10, 2000)...)
	testenv.Append(t, c, "INBOX.Progetti", msgs(12, 0, 5, 2000)...)
	cp := transfer.NewMemoryCheckpoints()
	res, err := transfer.Run(context.Background(), f.job(cp, nil))
	require.NoError(t, err)
	require.Equal(t, 15, res.Copied)

	// New mail arrives, and the customer flags and reads some old mail.
	testenv.Append(t, c, "INBOX", msgs(11, 100, 4, 2000)...)
	testenv.Append(t, c, "INBOX.Progetti.2026", msgs(13, 0, 2, 2000)...)
	_, err = c.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, c.Store(imap.UIDSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.FlagFlagged, "$Label9"}}, nil).Close())
	require.NoError(t, c.Store(imap.UIDSetNum(4), &imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: []imap.Flag{imap.FlagAnswered, "$Label8"}}, nil).Close())
	require.NoError(t, c.Unselect().Wait())

	rep := &logRec{}
	res, err = transfer.Run(context.Background(), f.job(cp, rep))
	require.NoError(t, err, rep.text())
	require.Equal(t, 6, res.Copied, "only the new messages")
	require.Equal(t, 15, res.AlreadyThere)
	require.Equal(t, 4, res.FlagsUpdated)
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX", "INBOX.Progetti": "Progetti", "INBOX.Progetti.2026": "Progetti/2026"})

	// A third pass has nothing left to do.
	res, err = transfer.Run(context.Background(), f.job(cp, nil))
	require.NoError(t, err)
	require.Zero(t, res.Copied)
	require.Zero(t, res.FlagsUpdated)
}

func TestTooLargeMessagesAreSkippedAndListed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	small := msgs(21, 0, 3, 2000)
	big := testenv.BuildMessage(21, 99, 300_000)
	testenv.Append(t, c, "INBOX", append(small, big)...)

	job := f.job(nil, nil)
	rep := &logRec{}
	job.Reporter = rep
	job.MaxMessageSize = 200_000
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, 3, res.Copied)
	require.Equal(t, 1, res.TooLarge)
	require.Len(t, rep.skipped, 1)
	require.Equal(t, "INBOX", rep.skipped[0].Folder)
	require.Equal(t, int64(len(big.Raw)), rep.skipped[0].Size)
	require.NotEmpty(t, rep.skipped[0].Subject)
	require.NotEmpty(t, rep.skipped[0].From)
	dm := readFolder(t, f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()), "INBOX")
	require.Len(t, dm, 3)
	require.NotContains(t, dm, messageID(big.Raw))
}

func TestThirtyMegabyteRule(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	over := testenv.BuildMessage(31, 1, 30<<20+4096)
	under := testenv.BuildMessage(31, 2, 29<<20)
	testenv.Append(t, c, "INBOX", over, under)
	res, err := transfer.Run(context.Background(), f.job(nil, nil))
	require.NoError(t, err)
	require.Equal(t, 1, res.TooLarge)
	require.Equal(t, 1, res.Copied)
	requireSameMailIDs(t, f, "INBOX", messageID(under.Raw))
}

func requireSameMailIDs(t *testing.T, f *fixture, folder string, ids ...string) {
	t.Helper()
	dm := readFolder(t, f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()), folder)
	got := []string{}
	for id := range dm {
		got = append(got, id)
	}
	require.ElementsMatch(t, ids, got)
}

func TestMasterUserLoginOnBothSides(t *testing.T) {
	t.Parallel()
	for _, form := range []transfer.MasterForm{transfer.MasterSASL, transfer.MasterSeparator} {
		t.Run(string(form), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(41, 0, 3, 1000)...)
			job := f.job(nil, nil)
			job.Source.AuthUser = f.src.MasterUser()
			job.Source.Password = f.src.MasterPassword()
			job.Source.MasterForm = form
			job.Dest.MasterForm = form
			res, err := transfer.Run(context.Background(), job)
			require.NoError(t, err)
			require.Equal(t, 3, res.Copied)

			// A wrong master password is a login error on that side.
			job.Source.Password = "wrong"
			_, err = transfer.Run(context.Background(), job)
			ce, ok := transfer.IsConnError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, transfer.SideSource, ce.Side)
			require.Equal(t, transfer.ReasonAuth, ce.Reason)
		})
	}
}

func TestLoginAndConnectionErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("wrong password", func(t *testing.T) {
		job := f.job(nil, nil)
		job.Source.Password = "nope"
		_, err := transfer.Run(ctx, job)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonAuth, ce.Reason)
		require.Equal(t, transfer.SideSource, ce.Side)
		require.Contains(t, err.Error(), "wrong user or password")
		require.NotContains(t, err.Error(), "nope")
	})
	t.Run("wrong destination master password", func(t *testing.T) {
		job := f.job(nil, nil)
		job.Dest.Password = "nope"
		_, err := transfer.Run(ctx, job)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.SideDestination, ce.Side)
		require.Equal(t, transfer.ReasonAuth, ce.Reason)
	})
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		_, err = transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: addr, User: "x", Password: "y"}, transfer.Timeouts{}, false)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonRefused, ce.Reason)
		require.Contains(t, err.Error(), "cannot connect to "+addr+" (connection refused)")
	})
	t.Run("server that never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // hold it open, silent
			}
		}()
		_, err = transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: ln.Addr().String(), User: "x", Password: "y"},
			transfer.Timeouts{Dial: 300 * time.Millisecond}, false)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonTimeout, ce.Reason)
	})
	t.Run("self-signed certificate refused by Standard-SSL", func(t *testing.T) {
		_, err := transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass}, transfer.Timeouts{}, false)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonCertificate, ce.Reason)
	})
	t.Run("Standard-no-SSL accepts it with STARTTLS and says so", func(t *testing.T) {
		res, err := transfer.Check(ctx, transfer.PresetStandardNoSSL, transfer.Endpoint{Host: f.src.PlainAddr(), User: f.srcUser, Password: f.srcPass}, transfer.Timeouts{}, true)
		require.NoError(t, err)
		require.Len(t, res.Notes, 1)
		require.Contains(t, res.Notes[0], "could not be verified")
		require.Equal(t, f.src.PlainAddr(), res.RemoteAddr)
		require.Contains(t, folderNames(res.Folders), "INBOX")
	})
	t.Run("implicit TLS verified against the CA", func(t *testing.T) {
		_, err := transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, RootCAs: f.src.CAPool()}, transfer.Timeouts{}, false)
		require.NoError(t, err)
	})
	t.Run("extra roots are trusted beside the system's, and only they", func(t *testing.T) {
		ep := transfer.Endpoint{Host: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, ExtraRootCAs: f.src.CAPool()}
		_, err := transfer.Check(ctx, transfer.PresetStandardSSL, ep, transfer.Timeouts{}, false)
		require.NoError(t, err)
		ep.TLS = transfer.TLSStartTLS
		ep.Host = f.src.PlainAddr()
		_, err = transfer.Check(ctx, transfer.PresetStandardNoSSL, ep, transfer.Timeouts{}, false)
		require.NoError(t, err, "STARTTLS too")
		// Neither the extra pool nor the system's roots sign it.
		require.False(t, f.src.CAPool().Equal(f.dst.CAPool()), "each Dovecot has its own CA")
		for name, extra := range map[string]*x509.CertPool{"empty": x509.NewCertPool(), "another CA": f.dst.CAPool()} {
			ep := transfer.Endpoint{Host: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, ExtraRootCAs: extra}
			_, err := transfer.Check(ctx, transfer.PresetStandardSSL, ep, transfer.Timeouts{}, false)
			ce, ok := transfer.IsConnError(err)
			require.True(t, ok, "%s: %v", name, err)
			require.Equal(t, transfer.ReasonCertificate, ce.Reason, name)
		}
		// The right CA, the wrong name.
		_, port, _ := net.SplitHostPort(f.src.TLSAddr())
		ep = transfer.Endpoint{Host: "mail.example.org:" + port, DialAddr: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, ExtraRootCAs: f.src.CAPool()}
		_, err = transfer.Check(ctx, transfer.PresetStandardSSL, ep, transfer.Timeouts{}, false)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonCertificate, ce.Reason)
		require.Contains(t, err.Error(), "not valid for this host name")
	})
	t.Run("pinned address still verifies the host name", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(f.src.TLSAddr())
		_, err := transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: "localhost:" + port, DialAddr: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, RootCAs: f.src.CAPool()}, transfer.Timeouts{}, false)
		require.NoError(t, err)
		_, err = transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{Host: "mail.example.org:" + port, DialAddr: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, RootCAs: f.src.CAPool()}, transfer.Timeouts{}, false)
		ce, ok := transfer.IsConnError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, transfer.ReasonCertificate, ce.Reason)
	})
}

func folderNames(ps []transfer.FolderPlan) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Source)
	}
	return out
}

func TestDestinationFullEndsTheMailbox(t *testing.T) {
	t.Parallel()
	f := setup(t, testenv.WithQuota(100))
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(51, 0, 20, 20000)...)
	rep := &logRec{}
	res, err := transfer.Run(context.Background(), f.job(nil, rep))
	require.ErrorIs(t, err, transfer.ErrDestinationFull)
	require.Less(t, res.Copied, 20)
	require.Contains(t, rep.text(), "full")
	require.NotContains(t, rep.text(), "reconnecting", "over quota is not retried")
}

// cutProxy forwards to target and cuts the first connection after limit
// bytes from the server.
type cutProxy struct {
	addr string
	cuts atomic.Int32
}

func newCutProxy(t *testing.T, target string, limit int64) *cutProxy {
	p := &cutProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, n int) {
		if n != 1 {
			testenv.ProxyPipe(c, up)
			return
		}
		// The first connection carries the big FETCH: cut it.
		go io.Copy(up, c)
		io.CopyN(c, up, limit)
		p.cuts.Add(1)
	})
	return p
}

func TestConnectionCutMidFolderResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(61, 0, 120, 8000)...)
	proxy := newCutProxy(t, f.src.PlainAddr(), 400_000)

	job := f.job(transfer.NewMemoryCheckpoints(), nil)
	rep := &logRec{}
	job.Reporter = rep
	job.Source.Host = proxy.addr
	job.Source.TLS = transfer.TLSNone
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err, rep.text())
	require.Equal(t, int32(1), proxy.cuts.Load())
	require.Contains(t, rep.text(), "reconnecting")
	require.Equal(t, 120, res.Copied+res.AlreadyThere)
	require.Equal(t, 120, res.Found)
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX"})
}

// failingCheckpoints records the first batch and then fails, as a worker
// that dies after APPEND but before its checkpoint write.
type failingCheckpoints struct {
	*transfer.MemoryCheckpoints
	records atomic.Int32
}

func (f *failingCheckpoints) RecordMessages(ctx context.Context, folder string, m map[uint32]transfer.Copied) error {
	if f.records.Add(1) > 1 {
		return errors.New("database went away")
	}
	return f.MemoryCheckpoints.RecordMessages(ctx, folder, m)
}

func TestCrashBetweenAppendAndCheckpointCopiesNothingTwice(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(71, 0, 600, 1500)...)
	cp := &failingCheckpoints{MemoryCheckpoints: transfer.NewMemoryCheckpoints()}
	_, err := transfer.Run(context.Background(), f.job(cp, nil))
	require.Error(t, err)

	// Resume with the checkpoint as it was left: the messages appended but
	// never recorded are recognised at the destination.
	rep := &logRec{}
	res, err := transfer.Run(context.Background(), f.job(cp.MemoryCheckpoints, rep))
	require.NoError(t, err, rep.text())
	require.Equal(t, 600, res.Copied+res.AlreadyThere)
	require.Contains(t, rep.text(), "recognised by Message-ID")
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX"})
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX.Nuova", msgs(81, 0, 7, 1000)...)
	job := f.job(nil, nil)
	job.DryRun = true
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, 7, res.ToCopy)
	require.Zero(t, res.Copied)
	list, err := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()).List("", "Nuova", nil).Collect()
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestCancelStopsPromptly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(91, 0, 200, 20000)...)
	ctx, cancel := context.WithCancel(context.Background())
	rep := &progressCanceller{cancel: cancel}
	_, err := transfer.Run(ctx, f.job(nil, rep))
	require.ErrorIs(t, err, context.Canceled)
}

type progressCanceller struct {
	transfer.NopReporter
	cancel func()
}

func (p *progressCanceller) Progress(pr transfer.Progress) {
	if pr.Done > 10 {
		p.cancel()
	}
}

// Run 2 applies what changed at the source since run 1, as +FLAGS and
// -FLAGS: a flag the customer set at the destination between the runs
// stays, one cleared at the source is cleared, one added there is added.
func TestSecondPassKeepsFlagsSetAtTheDestination(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	ms := msgs(14, 0, 3, 2000)
	for i := range ms {
		ms[i].Flags = []imap.Flag{imap.FlagSeen}
	}
	testenv.Append(t, c, "INBOX", ms...)
	cp := transfer.NewMemoryCheckpoints()
	_, err := transfer.Run(context.Background(), f.job(cp, nil))
	require.NoError(t, err)

	// At the destination the customer flags message 1 and tags message 2.
	d := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	_, err = d.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, d.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close())
	require.NoError(t, d.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{"$Cliente"}}, nil).Close())
	require.NoError(t, d.Unselect().Wait())
	// At the source, message 1 is answered and message 2 marked unread.
	_, err = c.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close())
	require.NoError(t, c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close())
	require.NoError(t, c.Unselect().Wait())

	res, err := transfer.Run(context.Background(), f.job(cp, nil))
	require.NoError(t, err)
	require.Equal(t, 2, res.FlagsUpdated)
	got := readFolder(t, f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()), "INBOX")
	flags := map[string]string{}
	for id, s := range got {
		flags[id] = s.flags
	}
	require.Equal(t, sortJoin([]string{`\Answered`, `\Flagged`, `\Seen`}), flags[messageID(ms[0].Raw)], "the customer's \\Flagged stays")
	require.Equal(t, sortJoin([]string{"$Cliente"}), flags[messageID(ms[1].Raw)], "\\Seen cleared, the customer's tag stays")
	require.Equal(t, sortJoin([]string{`\Seen`}), flags[messageID(ms[2].Raw)])
}
