package testenv_test

import (
	"bytes"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// setup returns the shared pair and a fresh user with password "pw-secret"
// that exists on both servers.
func setup(t *testing.T) (src, dst *testenv.Dovecot, user string) {
	t.Helper()
	src, dst = testenv.SharedDovecot(t)
	user = testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(user, "pw-secret"))
	require.NoError(t, dst.AddUser(user, "pw-secret"))
	return src, dst, user
}

// listAll returns LIST "" "*" with special-use attributes, by mailbox name.
func listAll(t *testing.T, c *imapclient.Client) map[string]*imap.ListData {
	t.Helper()
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	require.NoError(t, err)
	out := map[string]*imap.ListData{}
	for _, l := range list {
		out[l.Mailbox] = l
	}
	return out
}

func hasAttr(l *imap.ListData, attr imap.MailboxAttr) bool {
	for _, a := range l.Attrs {
		if a == attr {
			return true
		}
	}
	return false
}

func TestSourceLooksLikeCourier(t *testing.T) {
	t.Parallel()
	src, _, user := setup(t)
	require.Equal(t, '.', src.Delimiter())
	require.Equal(t, "INBOX.", src.Prefix())
	c := src.Dial(t, user, "pw-secret")

	ns, err := c.Namespace().Wait()
	require.NoError(t, err)
	require.Len(t, ns.Personal, 1)
	require.Equal(t, "INBOX.", ns.Personal[0].Prefix)
	require.Equal(t, '.', ns.Personal[0].Delim)

	testenv.Append(t, c, "INBOX.Clienti.Società", testenv.BuildMessage(1, 0, 1000))
	boxes := listAll(t, c)
	require.Contains(t, boxes, "INBOX")
	require.Contains(t, boxes, "INBOX.Clienti.Società")
	for name, l := range boxes {
		require.Equal(t, '.', l.Delim, name)
	}
	require.Contains(t, boxes, "INBOX.Bulk")
	require.Contains(t, boxes, "INBOX.Sent")
	require.True(t, hasAttr(boxes["INBOX.Bulk"], imap.MailboxAttrJunk), "INBOX.Bulk attrs %v", boxes["INBOX.Bulk"].Attrs)
	require.True(t, hasAttr(boxes["INBOX.Sent"], imap.MailboxAttrSent), "INBOX.Sent attrs %v", boxes["INBOX.Sent"].Attrs)
	for _, a := range boxes["INBOX.Clienti.Società"].Attrs {
		require.NotContains(t, []imap.MailboxAttr{imap.MailboxAttrJunk, imap.MailboxAttrTrash, imap.MailboxAttrSent}, a)
	}
}

func TestDestinationLooksLikeOurs(t *testing.T) {
	t.Parallel()
	_, dst, user := setup(t)
	require.Equal(t, '/', dst.Delimiter())
	require.Equal(t, "", dst.Prefix())
	c := dst.Dial(t, user, "pw-secret")

	ns, err := c.Namespace().Wait()
	require.NoError(t, err)
	require.Len(t, ns.Personal, 1)
	require.Equal(t, "", ns.Personal[0].Prefix)
	require.Equal(t, '/', ns.Personal[0].Delim)

	boxes := listAll(t, c)
	for name, attr := range map[string]imap.MailboxAttr{
		"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts, "Archive": imap.MailboxAttrArchive,
		"Trash": imap.MailboxAttrTrash, "Junk": imap.MailboxAttrJunk,
	} {
		require.Contains(t, boxes, name)
		require.True(t, hasAttr(boxes[name], attr), "%s attrs %v", name, boxes[name].Attrs)
		require.Equal(t, '/', boxes[name].Delim)
	}
	subscribed, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	require.NoError(t, err)
	var names []string
	for _, l := range subscribed {
		names = append(names, l.Mailbox)
	}
	require.Subset(t, names, []string{"Sent", "Drafts", "Archive", "Trash", "Junk"})
}

func TestMasterUserLogin(t *testing.T) {
	t.Parallel()
	src, dst, user := setup(t)
	for _, d := range []*testenv.Dovecot{src, dst} {
		t.Run(d.Role().String()+"/login", func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.PlainAddr(), nil)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Login(user+"*"+d.MasterUser(), d.MasterPassword()).Wait())
			requireLoggedInAs(t, c, d, user)
		})
		t.Run(d.Role().String()+"/sasl-plain", func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.PlainAddr(), nil)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Authenticate(sasl.NewPlainClient(user, d.MasterUser(), d.MasterPassword())))
			requireLoggedInAs(t, c, d, user)
		})
		t.Run(d.Role().String()+"/wrong-master-password", func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.PlainAddr(), nil)
			require.NoError(t, err)
			defer c.Close()
			require.Error(t, c.Login(user+"*"+d.MasterUser(), "not-it").Wait())
		})
	}
}

// requireLoggedInAs proves the session is user's own: a message appended by
// the user is visible in it.
func requireLoggedInAs(t *testing.T, c *imapclient.Client, d *testenv.Dovecot, user string) {
	t.Helper()
	own := d.Dial(t, user, "pw-secret")
	msg := testenv.BuildMessage(time.Now().UnixNano(), 1, 500)
	testenv.Append(t, own, "INBOX", msg)
	data, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	require.NotZero(t, data.NumMessages)
	crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID(t, msg)}}}
	res, err := c.UIDSearch(crit, nil).Wait()
	require.NoError(t, err)
	require.Len(t, res.AllUIDs(), 1)
}

func messageID(t *testing.T, m testenv.Msg) string {
	t.Helper()
	parsed, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	require.NoError(t, err)
	return parsed.Header.Get("Message-ID")
}

func TestWrongPasswordFails(t *testing.T) {
	t.Parallel()
	src, dst, user := setup(t)
	for _, d := range []*testenv.Dovecot{src, dst} {
		c, err := imapclient.DialInsecure(d.PlainAddr(), nil)
		require.NoError(t, err)
		err = c.Login(user, "wrong").Wait()
		c.Close()
		var ierr *imap.Error
		require.ErrorAs(t, err, &ierr, d.Role().String())
		require.Equal(t, imap.ResponseCodeAuthenticationFailed, ierr.Code)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	src, dst, user := setup(t)
	for _, d := range []*testenv.Dovecot{src, dst} {
		t.Run(d.Role().String()+"/starttls", func(t *testing.T) {
			c, err := imapclient.DialStartTLS(d.PlainAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Login(user, "pw-secret").Wait())
		})
		t.Run(d.Role().String()+"/implicit", func(t *testing.T) {
			c, err := imapclient.DialTLS(d.TLSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Login(user, "pw-secret").Wait())
		})
		t.Run(d.Role().String()+"/localhost-name", func(t *testing.T) {
			cfg := d.TLSConfig()
			cfg.ServerName = "localhost"
			_, port, _ := net.SplitHostPort(d.TLSAddr())
			c, err := imapclient.DialTLS(net.JoinHostPort("localhost", port), &imapclient.Options{TLSConfig: cfg})
			require.NoError(t, err)
			c.Close()
		})
		t.Run(d.Role().String()+"/unknown-ca-refused", func(t *testing.T) {
			c, err := imapclient.DialTLS(d.TLSAddr(), nil) // system roots only
			if err == nil {
				c.Close()
			}
			require.Error(t, err)
		})
	}
}

func TestQuota(t *testing.T) {
	t.Parallel()
	_, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, dst.AddUser(user, "pw", testenv.WithQuota(50)))
	c := dst.Dial(t, user, "pw")

	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = testenv.AppendMessages(c, "INBOX", testenv.BuildMessage(7, i, 20*1024))
	}
	require.Error(t, err, "50 KiB quota never reached with 200 KiB appended")
	var ierr *imap.Error
	require.True(t, errors.As(err, &ierr), "%v", err)
	require.Equal(t, imap.ResponseCodeOverQuota, ierr.Code, "%v", err)

	// Dovecot refuses before the literal's "+" continuation; go-imap
	// (v2.0.0-beta.8) then closes that connection, so check on a new one.
	st, err := dst.Dial(t, user, "pw").Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	require.NoError(t, err)
	require.NotNil(t, st.NumMessages)
	require.Less(t, *st.NumMessages, uint32(10))
}

func TestUserAddedAfterStart(t *testing.T) {
	t.Parallel()
	src, dst := testenv.SharedDovecot(t)
	for _, d := range []*testenv.Dovecot{src, dst} {
		// Several in a row: a passwd-file reload must not miss a quick
		// second change.
		for i := 0; i < 3; i++ {
			user := testenv.UniqueUser(t, "late.test")
			require.NoError(t, d.AddUser(user, "late-pw"))
			d.Dial(t, user, "late-pw")
		}
	}
	require.Error(t, src.AddUser("bad:name@acme.test", "x"))
	u := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(u, "x"))
	require.Error(t, src.AddUser(u, "y"), "adding a user twice")
}

func TestDoveadm(t *testing.T) {
	t.Parallel()
	src, _, user := setup(t)
	out, err := src.Doveadm("user", "-f", "home", user)
	require.NoError(t, err)
	require.Contains(t, string(out), user)
	_, err = src.Doveadm("no-such-command")
	require.Error(t, err)
}

func TestBuildMessage(t *testing.T) {
	t.Parallel()
	a := testenv.BuildMessage(42, 3, 20000)
	b := testenv.BuildMessage(42, 3, 20000)
	require.Equal(t, a, b, "deterministic")
	require.NotEqual(t, a.Raw, testenv.BuildMessage(42, 4, 20000).Raw)
	require.InDelta(t, 20000, len(a.Raw), 2000)
	require.NotContains(t, strings.ReplaceAll(string(a.Raw), "\r\n", ""), "\n", "CRLF line ends only")

	big := testenv.BuildMessage(1, 1, 3<<20)
	require.InDelta(t, 3<<20, len(big.Raw), 3<<20/20)

	ids := map[string]bool{}
	flagged, seen, keyword, encoded := 0, 0, 0, 0
	for i := 0; i < 200; i++ {
		m := testenv.BuildMessage(9, i, 3000)
		parsed, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		require.NoError(t, err)
		for _, h := range []string{"Message-ID", "From", "To", "Subject", "Date"} {
			require.NotEmpty(t, parsed.Header.Get(h), h)
		}
		date, err := parsed.Header.Date()
		require.NoError(t, err)
		require.True(t, date.Equal(m.Date))
		ids[parsed.Header.Get("Message-ID")] = true
		if strings.Contains(parsed.Header.Get("Subject"), "=?") {
			encoded++
		}
		for _, f := range m.Flags {
			switch {
			case f == imap.FlagSeen:
				seen++
			case f == imap.FlagFlagged:
				flagged++
			case !strings.HasPrefix(string(f), `\`):
				keyword++
			}
		}
	}
	require.Len(t, ids, 200)
	require.NotZero(t, flagged)
	require.NotZero(t, seen)
	require.NotZero(t, keyword)
	require.NotZero(t, encoded)
}

func TestAppendKeepsBytesFlagsAndDate(t *testing.T) {
	t.Parallel()
	_, dst, user := setup(t)
	c := dst.Dial(t, user, "pw-secret")
	var msgs []testenv.Msg
	for i := 0; i < 5; i++ {
		msgs = append(msgs, testenv.BuildMessage(5, i, 10000))
	}
	testenv.Append(t, c, "Progetti/Città", msgs...)
	_, err := c.Select("Progetti/Città", nil).Wait()
	require.NoError(t, err)
	bufs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5), &imap.FetchOptions{
		Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	require.NoError(t, err)
	require.Len(t, bufs, 5)
	for i, b := range bufs {
		require.Equal(t, msgs[i].Raw, b.FindBodySection(&imap.FetchItemBodySection{Peek: true}))
		require.True(t, msgs[i].Date.Equal(b.InternalDate), "date %v vs %v", msgs[i].Date, b.InternalDate)
		var flags []imap.Flag
		for _, f := range b.Flags {
			if f != imap.Flag(`\Recent`) {
				flags = append(flags, f)
			}
		}
		require.ElementsMatch(t, msgs[i].Flags, flags)
	}
}

func TestStartDovecotInTestTempDirAndStop(t *testing.T) {
	t.Parallel()
	// t.TempDir is 0700 and deep: exercises the traversal fix-up (as root)
	// and the short base_dir fallback for long paths.
	dir := t.TempDir() + "/a-rather-long-directory-name-to-push-socket-paths-over-the-limit"
	d, err := testenv.StartDovecot(testenv.RoleDestination, dir)
	require.NoError(t, err)
	require.Equal(t, testenv.RoleDestination, d.Role())
	require.FileExists(t, d.ConfigPath())
	require.FileExists(t, d.CAFile())
	require.NoError(t, d.AddUser("solo@acme.test", "pw"))
	d.Dial(t, "solo@acme.test", "pw")

	require.NoError(t, d.Stop())
	require.NoError(t, d.Stop(), "second Stop is harmless")
	_, err = net.DialTimeout("tcp", d.PlainAddr(), time.Second)
	require.Error(t, err, "port still open after Stop")
}
