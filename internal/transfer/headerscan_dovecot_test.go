package transfer

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// hostileHeaders are whole messages whose headers an old server may hold.
var hostileHeaders = map[string]string{
	"folded Message-ID":        "Message-ID:\r\n <folded@hostile>\r\nSubject: s\r\n\r\nbody\r\n",
	"Message-ID twice":         "Message-ID: <first@hostile>\r\nMessage-ID: <second@hostile>\r\n\r\nbody\r\n",
	"no Message-ID":            "Date: Tue, 03 Mar 2026 10:00:00 +0100\r\nFrom: a@b\r\nSubject: no id\r\n\r\nbody\r\n",
	"no identifying field":     "X-Only: this\r\n\r\nbody\r\n",
	"8-bit sender and subject": "From: Zoë Müller <z@b>\r\nSubject: Attività già svolte\r\nMessage-ID: <8bit-ÀÉ@hostile>\r\n\r\nbody\r\n",
	"raw ISO-2022-JP subject":  "Subject: \x1b$B$3$s\x1b(B\r\nMessage-ID: <jp@hostile>\r\n\r\nbody\r\n",
	"a NUL in a field":         "X-Bad: a\x00b\r\nMessage-ID: <nul@hostile>\r\n\r\nbody\r\n",
	"a bare CR in the subject": "Subject: a\rb\r\nMessage-ID: <cr@hostile>\r\n\r\nbody\r\n",
	"an mbox From line first":  "From nobody Tue Mar  3 10:00:00 2026\r\nMessage-ID: <mbox@hostile>\r\n\r\nbody\r\n",
	"a first line continued":   " stray\r\nMessage-ID: <stray@hostile>\r\n\r\nbody\r\n",
	"all header, no body":      "Message-ID: <nobody@hostile>\r\nSubject: no body",
	"bare LF line ends":        "Message-ID: <lf@hostile>\nSubject: lf\n\nbody\n",
	"a blank after the colon":  "Message-ID:\t \r\n\t<tab@hostile>  \r\n\r\nbody\r\n",
	"trailing CR on the ID":    "Message-ID: <trailcr@hostile>\r\r\nSubject: s\r\n\r\nbody\r\n",
	"a space before the colon": "Message-ID : <space@hostile>\r\nSubject : s\r\n\r\nbody\r\n",
	"a huge folded subject":    "Subject: " + strings.Repeat("parola \r\n ", 3000) + "\r\nMessage-ID: <huge-subject@hostile>\r\n\r\nbody\r\n",
	"a header across chunks":   "X-Pad: " + strings.Repeat("p", 20<<10) + "\r\nMessage-ID: <across@hostile>\r\n\r\nbody\r\n",
	"a header over 64 KiB":     "X-Pad: " + strings.Repeat("p", 70<<10) + "\r\nMessage-ID: <beyond@hostile>\r\n\r\nbody\r\n",
	"the ID in the body only":  "Subject: s\r\n\r\nMessage-ID: <body@hostile>\r\n",
	"a Message-ID of 4 KiB":    "Message-ID: <" + strings.Repeat("Long", 1<<10) + "@hostile>\r\n\r\nbody\r\n",
}

// TestKeyFromBytesIsDovecots: the key the copy takes from a message's bytes
// is the key of the fields Dovecot sends for the same message (a header
// FETCH, as the verification makes of the destination), for every hostile
// header Dovecot keeps as sent.
func TestKeyFromBytesIsDovecots(t *testing.T) {
	t.Parallel()
	src, _ := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "old.test")
	require.NoError(t, src.AddUser(user, "pw"))
	c := src.Dial(t, user, "pw")
	names := make([]string, 0, len(hostileHeaders))
	for name := range hostileHeaders {
		names = append(names, name)
	}
	for _, name := range names {
		m := testenv.Msg{Raw: []byte(hostileHeaders[name]), Date: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)}
		require.NoError(t, testenv.AppendMessages(c, "INBOX", m), name)
	}
	_, err := c.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	var all imap.UIDSet
	all.AddRange(1, 0)
	fields := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: keyFields, Peek: true}
	whole := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{fields, whole}}).Collect()
	require.NoError(t, err)
	require.Len(t, msgs, len(names))
	for i, m := range msgs {
		name := names[i]
		body := m.FindBodySection(whole)
		kb, ok := bodyOf(body).key()
		f, _ := scanFields(bytes.TrimRight(m.FindBodySection(fields), "\r\n"))
		kf := f.key()
		t.Logf("%s: bytes %q (%v), fields %q; stored as sent: %v", name, kb, ok, kf, bytes.Equal(body, []byte(hostileHeaders[name])))
		if name == "a header over 64 KiB" {
			require.False(t, ok, "no key from bytes: the verification asks the source")
			continue
		}
		require.True(t, ok, name)
		require.Equal(t, kf, kb, name)
	}
}

// commandProxy forwards to target and keeps the command lines clients
// send (a plain-text session: no TLS, no literals from the client).
type commandProxy struct {
	addr  string
	mu    sync.Mutex
	lines []string
}

func newCommandProxy(t *testing.T, target string) *commandProxy {
	p := &commandProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		pr, pw := io.Pipe()
		go func() {
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				p.mu.Lock()
				p.lines = append(p.lines, sc.Text())
				p.mu.Unlock()
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		defer pw.Close()
		testenv.ProxyPipe(teeConn{c, pw}, up)
	})
	return p
}

// matching are the command lines that contain s.
func (p *commandProxy) matching(s string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// teeConn copies what is read from the client into w.
type teeConn struct {
	net.Conn
	w io.Writer
}

func (c teeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		_, _ = c.w.Write(b[:n])
	}
	return n, err
}

// TestVerifyFetchesNoSourceHeaderOfWhatItRead: the verification of a copy
// asks the old server for no header of a message whose body the copy read
// (its key comes from those bytes), hostile headers included, and still
// finds every message at the destination; it asks only for the one whose
// header is too long to be read from its bytes.
func TestVerifyFetchesNoSourceHeaderOfWhatItRead(t *testing.T) {
	t.Parallel()
	src, dst := testenv.SharedDovecot(t)
	srcUser, dstUser := testenv.UniqueUser(t, "old.test"), testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(srcUser, "pw"))
	require.NoError(t, dst.AddUser(dstUser, "pw"))
	c := src.Dial(t, srcUser, "pw")
	var corpus []testenv.Msg
	for i := range 40 {
		corpus = append(corpus, testenv.BuildMessage(11, i, 2000+i*1000))
	}
	testenv.Append(t, c, "INBOX", corpus[:25]...)
	testenv.Append(t, c, "INBOX.Clienti", corpus[25:]...)
	var hostile []testenv.Msg
	for _, raw := range hostileHeaders {
		hostile = append(hostile, testenv.Msg{Raw: []byte(raw), Date: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)})
	}
	testenv.Append(t, c, "INBOX.Ostili", hostile...)

	proxy := newCommandProxy(t, src.PlainAddr())
	res, err := Run(context.Background(), Job{
		Preset: PresetStandardNoSSL,
		Source: Endpoint{Host: proxy.addr, TLS: TLSNone, User: srcUser, Password: "pw"},
		Dest: Endpoint{Host: dst.PlainAddr(), TLS: TLSNone, User: dstUser,
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword()},
		Verify: true,
	})
	require.NoError(t, err)
	require.Zero(t, res.Failed)
	require.Equal(t, 40+len(hostile), res.Copied)
	v := res.Verification
	require.NotNil(t, v)
	require.True(t, v.OK(), "%+v", v)
	byFolder := map[string]int{}
	for _, fc := range v.Folders {
		require.Equal(t, fc.Expected, fc.Verified, fc.Source)
		if fc.Verified > 0 {
			byFolder[fc.Source] = fc.Verified
		}
	}
	require.Equal(t, map[string]int{"INBOX": 25, "INBOX.Clienti": 15, "INBOX.Ostili": len(hostile)}, byFolder)
	asked := proxy.matching("HEADER.FIELDS")
	require.Len(t, asked, 1, "one header FETCH at the source: %q", asked)
	require.Regexp(t, `UID FETCH \d+ `, asked[0], "of one message")
}
