package testenv_test

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// The scripted server's well-behaved default, as go-imap's client sees it:
// the mailbox model comes back whole, special-use attributes only when
// SPECIAL-USE is offered, and writing commands are refused and recorded.
func TestHostileServerSpeaksIMAP(t *testing.T) {
	t.Parallel()
	m := testenv.BuildMessage(1, 0, 2000)
	folders := []testenv.HostileFolder{
		{Name: "INBOX", Messages: testenv.HostileMessages(m, testenv.BuildMessage(1, 1, 3000))},
		{Name: "INBOX/Trash", Attrs: []string{`\Trash`}},
	}
	for _, tc := range []struct {
		name string
		opts testenv.HostileOptions
	}{
		{"plain", testenv.HostileOptions{}},
		{"tls", testenv.HostileOptions{TLS: true}},
		{"no special-use", testenv.HostileOptions{NoSpecialUse: true, NoNamespace: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.StartHostile(t, tc.opts, folders...)
			c := s.Dial(t)

			list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: !tc.opts.NoSpecialUse}).Collect()
			require.NoError(t, err)
			require.Len(t, list, 2)
			require.Equal(t, "INBOX/Trash", list[1].Mailbox)
			require.Equal(t, '/', list[1].Delim)
			require.Equal(t, !tc.opts.NoSpecialUse, slicesContains(list[1].Attrs, imap.MailboxAttrTrash))

			st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, UIDValidity: true}).Wait()
			require.NoError(t, err)
			require.Equal(t, uint32(2), *st.NumMessages)
			require.Equal(t, uint32(1), st.UIDValidity)

			got, err := testenv.ReadFolder(c, "INBOX")
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Contains(t, got, testenv.MessageID(m.Raw))

			err = c.Create("Nuova", nil).Wait()
			require.Error(t, err, "the scripted server is read-only")
			var all imap.UIDSet
			all.AddRange(1, 0)
			_, err = c.Select("INBOX", nil).Wait()
			require.NoError(t, err)
			require.Error(t, c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
			names := []string{}
			for _, w := range s.Writes() {
				names = append(names, w.Name)
			}
			require.Equal(t, []string{"CREATE", "UID STORE"}, names)
		})
	}
}

// The faults a transfer test relies on are really on the wire.
func TestHostileServerFaults(t *testing.T) {
	t.Parallel()
	msgs := testenv.HostileMessages(testenv.BuildMessage(2, 0, 1000), testenv.BuildMessage(2, 1, 1000), testenv.BuildMessage(2, 2, 1000))
	s := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{OmitUID: 2, Exists: 4294967295}},
		testenv.HostileFolder{Name: "INBOX", Messages: msgs})
	c := s.Dial(t)
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	require.Equal(t, uint32(4294967295), sel.NumMessages)
	var all imap.UIDSet
	all.AddRange(1, 0)
	body := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	require.NoError(t, err)
	require.Len(t, bufs, 2, "UID 2 is left out of the body FETCH")
	bufs, err = c.Fetch(all, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	require.NoError(t, err)
	require.Len(t, bufs, 3, "but listed by the metadata FETCH")

	r := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{RefuseUID: 3, NilBodyUID: 1}},
		testenv.HostileFolder{Name: "INBOX", Messages: msgs})
	c = r.Dial(t)
	_, err = c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	bufs, err = c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	require.Error(t, err, "tagged NO for UID 3")
	require.Len(t, bufs, 2)
	require.Nil(t, bufs[0].FindBodySection(body), "BODY[] NIL for UID 1")
	require.NotEmpty(t, bufs[1].FindBodySection(body))
}

func slicesContains(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if x == a {
			return true
		}
	}
	return false
}
