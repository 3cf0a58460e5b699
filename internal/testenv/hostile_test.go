package testenv_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

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
			require.NoError(t, s.Err(), "go-imap's commands all parsed")
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

// rawSession connects over a raw socket and returns a reader of what the
// server sends, a function that sends one command line, and the socket.
func rawSession(t *testing.T, s *testenv.Hostile) (*bufio.Reader, func(string), net.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	r := bufio.NewReaderSize(nc, 1<<20)
	send := func(line string) {
		_, err := io.WriteString(nc, line+"\r\n")
		require.NoError(t, err)
	}
	return r, send, nc
}

// readUntil reads lines until one starts with prefix and returns everything
// read (bytes, lines cut at 1 KiB) and the longest line's length.
func readUntil(t *testing.T, r *bufio.Reader, prefix string) (string, int) {
	t.Helper()
	var b strings.Builder
	longest := 0
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err, "after %q", b.String())
		longest = max(longest, len(line))
		b.WriteString(line[:min(len(line), 1024)])
		if strings.HasPrefix(line, prefix) {
			return b.String(), longest
		}
	}
}

// The faults of the wire itself, as raw bytes.
func TestHostileServerWireFaults(t *testing.T) {
	t.Parallel()
	msgs := testenv.HostileMessages(testenv.BuildMessage(3, 0, 1000), testenv.BuildMessage(3, 1, 1000))
	inbox := testenv.HostileFolder{Name: "INBOX", Messages: msgs}

	t.Run("greeting and LIST line", func(t *testing.T) {
		s := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{GreetingBytes: 3 << 20, ListLineBytes: 5 << 20}}, inbox)
		r, send, _ := rawSession(t, s)
		_, n := readUntil(t, r, "* OK")
		require.Greater(t, n, 3<<20)
		send(`a LOGIN user secret`)
		readUntil(t, r, "a OK")
		send(`b LIST "" "*"`)
		out, n := readUntil(t, r, "b OK")
		require.Greater(t, n, 5<<20)
		require.Contains(t, out, `"INBOX"`)
	})
	t.Run("short literal then close, BYE, garbage", func(t *testing.T) {
		s := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Garbage: []byte("\x00junk"), ByeMidFetch: 1}}, inbox)
		r, send, _ := rawSession(t, s)
		readUntil(t, r, "* OK")
		send(`a LOGIN user secret`)
		readUntil(t, r, "a OK")
		send(`b EXAMINE INBOX`)
		readUntil(t, r, "b OK")
		send(`c UID FETCH 1:* (UID BODY.PEEK[])`)
		out, _ := readUntil(t, r, "* BYE")
		require.Contains(t, out, "* 1 FETCH (UID 1 BODY[] {")
		require.NotContains(t, out, "UID 2")
		_, err := r.ReadString('\n')
		require.ErrorIs(t, err, io.EOF, "the first connection ends after BYE")

		r, send, _ = rawSession(t, s)
		readUntil(t, r, "* OK")
		send(`a LOGIN user secret`)
		readUntil(t, r, "a OK")
		send(`b EXAMINE INBOX`)
		readUntil(t, r, "b OK")
		send(`c UID FETCH 1:* (UID BODY.PEEK[])`)
		out, _ = readUntil(t, r, "c OK")
		require.Contains(t, out, "\x00junk\r\n* 2 FETCH (UID 2 BODY[] {", "the second one has garbage instead of a BYE")

		sl := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ShortLiteralUID: 1, ShortLiteralClose: true}}, inbox)
		r, send, _ = rawSession(t, sl)
		readUntil(t, r, "* OK")
		send(`a LOGIN user secret`)
		readUntil(t, r, "a OK")
		send(`b EXAMINE INBOX`)
		readUntil(t, r, "b OK")
		send(`c UID FETCH 1 (UID BODY.PEEK[])`)
		head, err := r.ReadString('\n')
		require.NoError(t, err)
		var declared int
		_, err = fmt.Sscanf(head[strings.Index(head, "{"):], "{%d}", &declared)
		require.NoError(t, err)
		rest, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, declared/2, len(rest), "half the literal, then the end")
	})
	t.Run("no LOGOUT reply", func(t *testing.T) {
		s := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{NoLogoutReply: true}}, inbox)
		r, send, nc := rawSession(t, s)
		readUntil(t, r, "* OK")
		send(`a LOGIN user secret`)
		readUntil(t, r, "a OK")
		send(`b LOGOUT`)
		send(`c NOOP`)
		require.Eventually(t, func() bool { return len(s.Commands()) == 2 }, 10*time.Second, 10*time.Millisecond)
		require.Equal(t, "LOGOUT", s.Commands()[1].Name)
		// Whatever comes later, the connection stays open and silent.
		require.NoError(t, nc.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
		_, err := r.ReadByte()
		var ne net.Error
		require.ErrorAs(t, err, &ne, "no answer, no close")
		require.True(t, ne.Timeout())
	})
}
