package testenv_test

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// greeting reads the first line a server sends on its TLS port.
func greeting(t *testing.T, d *testenv.Dovecot) string {
	t.Helper()
	c, err := tls.Dial("tcp", d.TLSAddr(), d.TLSConfig())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestGmailLikeServer(t *testing.T) {
	t.Parallel()
	g := testenv.SharedGmail(t)
	require.Contains(t, greeting(t, g), testenv.GmailGreeting)
	for _, names := range []testenv.GmailNames{testenv.GmailEnglish, testenv.GmailGerman} {
		user := testenv.UniqueUser(t, "gmail.test")
		require.NoError(t, g.AddUser(user, "app-password"))
		c := g.Dial(t, user, "app-password")
		require.True(t, c.Caps().Has("X-GM-EXT-1"), "Gmail's capability")
		m := testenv.BuildMessage(1, 0, 800)
		require.NoError(t, testenv.SeedGmail(c, names, []testenv.GmailMessage{
			{Msg: m, Labels: []string{"INBOX", "Lavoro"}, Starred: true, Important: true},
			{Msg: testenv.BuildMessage(1, 1, 800), System: "trash"},
		}))
		l := listAll(t, c)
		require.NotNil(t, l[names.Root])
		require.True(t, hasAttr(l[names.Root], imap.MailboxAttrNoSelect) || hasAttr(l[names.Root], imap.MailboxAttrNonExistent),
			"%s is not a folder: %v", names.Root, l[names.Root].Attrs)
		for leaf, attr := range map[string]imap.MailboxAttr{names.All: imap.MailboxAttrAll, names.Sent: imap.MailboxAttrSent,
			names.Drafts: imap.MailboxAttrDrafts, names.Spam: imap.MailboxAttrJunk, names.Trash: imap.MailboxAttrTrash,
			names.Starred: imap.MailboxAttrFlagged, names.Important: imap.MailboxAttrImportant} {
			require.NotNil(t, l[names.Path(leaf)], leaf)
			require.True(t, hasAttr(l[names.Path(leaf)], attr), "%s is %s", leaf, attr)
		}
		for folder, n := range map[string]uint32{"INBOX": 1, "Lavoro": 1, names.Path(names.All): 1, names.Path(names.Starred): 1,
			names.Path(names.Important): 1, names.Path(names.Trash): 1, names.Path(names.Spam): 0} {
			st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
			require.NoError(t, err)
			require.Equal(t, n, *st.NumMessages, folder)
		}
	}
}

func TestExchangeLikeServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		d        func(testing.TB) *testenv.Dovecot
		greeting string
		files    bool
	}{
		{"Exchange", testenv.SharedExchange, testenv.ExchangeGreeting, false},
		{"Office 365", testenv.SharedOffice365, testenv.Office365Greeting(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.d(t)
			require.Contains(t, greeting(t, d), tc.greeting)
			if tc.files {
				return // OAuth only: its folders are proved by the copies that log in with tokens
			}
			user := testenv.UniqueUser(t, "acme.test")
			require.NoError(t, d.AddUser(user, "user-pw"))
			c := d.Dial(t, user, "user-pw")
			l := listAll(t, c)
			for _, n := range testenv.ExchangeNonMail {
				require.NotNil(t, l[n], n)
			}
			require.True(t, hasAttr(l[testenv.ExchangeSent], imap.MailboxAttrSent))
			require.True(t, hasAttr(l[testenv.ExchangeTrash], imap.MailboxAttrTrash))
			require.True(t, hasAttr(l[testenv.ExchangeJunk], imap.MailboxAttrJunk))
			require.Nil(t, l["Files"])
			ns, err := c.Namespace().Wait()
			require.NoError(t, err)
			require.Len(t, ns.Shared, 1)
			require.Equal(t, testenv.ExchangePublic, ns.Shared[0].Prefix)
			testenv.Append(t, c, testenv.ExchangePublic+"Annunci", testenv.BuildMessage(2, 0, 600))
			testenv.Append(t, c, "INBOX", testenv.BuildMessage(2, 1, 600))

			// The administrator's forms open the mailbox once FullAccess is granted.
			admin := testenv.UniqueUser(t, "acme.test")
			require.NoError(t, d.AddUser(admin, "admin-pw"))
			local, _, _ := strings.Cut(admin, "@")
			other := testenv.UniqueUser(t, "acme.test")
			require.NoError(t, d.AddUser(other, "other-pw"))
			require.NoError(t, d.GrantFullAccess("ACME", admin, "admin-pw", user))
			for _, login := range []string{`ACME\` + local + `\` + other, admin + `\` + other} {
				_, err := d.Connect(login, "admin-pw")
				require.Error(t, err, "no FullAccess on that mailbox: %s", login)
			}
			for _, login := range []string{`ACME\` + local + `\` + user, admin + `\` + user} {
				ac, err := d.Connect(login, "admin-pw")
				require.NoError(t, err, login)
				st, err := ac.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
				require.NoError(t, err)
				require.Equal(t, uint32(1), *st.NumMessages, "%s opens the user's mailbox", login)
				require.NoError(t, ac.Close())
				_, err = d.Connect(login, "user-pw")
				require.Error(t, err, "the administrator's password, not the user's")
			}
			// No Dovecot master user here.
			_, err = d.Connect(user+"*"+d.MasterUser(), d.MasterPassword())
			require.Error(t, err)
		})
	}
}
