package transfer

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// readerConn is a net.Conn that only reads, from r.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// The seeds of the wire fuzzers: what servers really send, and the
// hostile rows of issue 9 in small.
var wireSeeds = []string{
	"* OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] ready\r\n",
	"* OK ready\r\nP1 OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n",
	"* 3 EXISTS\r\nP1 OK [APPENDUID 38505 3955] APPEND completed\r\n",
	"P1 OK [APPENDUID 99 10:16,20] done\r\nP2 NO [OVERQUOTA] quota exceeded\r\nP3 BAD syntax\r\n",
	"* 1 FETCH (UID 1 BODY[] {5}\r\nhello FLAGS (\\Seen))\r\nP1 OK done\r\n",
	"* 1 FETCH (UID 1 RFC822.SIZE 900 BODY[] {41943040}\r\nxxxx",
	"* LIST () \"/\" {10}\r\n0123456789\r\n",
	"* BYE going away\r\n",
	"+ go ahead\r\nP1 NO [TRYCREATE] no such mailbox\r\n",
	"* OK " + strings.Repeat("g", 3000) + "\r\n",
	"\x00\xff{99999999999}\r\n\x01)))(((* * *\r\n",
	"P1 OK [APPENDUID 1 1:4294967295] x\r\n",
	"* 1 FETCH (BINARY[1] ~{3}\r\nabc BODY[1.2.TEXT]<0> {2+}\r\nab)\r\n",
}

// FuzzWireLexer: the lexer never panics, and what it decides does not
// depend on how the stream is cut into reads.
func FuzzWireLexer(f *testing.F) {
	for i, s := range wireSeeds {
		f.Add([]byte(s), uint16(i*7))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		const maxLine, maxLit = 256, 1 << 12
		whole := newWireLexer(maxLine, maxLit).feed(data)
		k := int(cut) % (len(data) + 1)
		l := newWireLexer(maxLine, maxLit)
		split := l.feed(data[:k])
		if split == nil {
			split = l.feed(data[k:])
		}
		if (whole == nil) != (split == nil) || (whole != nil && whole.Error() != split.Error()) {
			t.Fatalf("whole: %v, cut at %d: %v", whole, k, split)
		}
		if len(data) <= 512 {
			l := newWireLexer(maxLine, maxLit)
			var bytewise error
			for i := 0; i < len(data) && bytewise == nil; i++ {
				bytewise = l.feed(data[i : i+1])
			}
			if (whole == nil) != (bytewise == nil) || (whole != nil && whole.Error() != bytewise.Error()) {
				t.Fatalf("whole: %v, byte by byte: %v", whole, bytewise)
			}
		}
		if whole == nil && l.line > maxLine {
			t.Fatalf("a line of %d bytes passed", l.line)
		}
	})
}

// FuzzPipeResponses: the pipelined appender's reading side (greeting,
// tagged answers, untagged data, APPENDUID), given anything through its
// bounded connection, never panics, never returns a line over the bound
// and never expands a uid-set beyond what an APPEND can have.
func FuzzPipeResponses(f *testing.F) {
	for _, s := range wireSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		to := Timeouts{MaxLine: 512, MaxLiteral: 1 << 12}.withDefaults()
		w := &wireConn{Conn: readerConn{r: bytes.NewReader(data)}, lex: newWireLexer(to.MaxLine, to.MaxLiteral)}
		p := &pipeConn{conn: w, br: bufio.NewReaderSize(w, 16<<10), to: to}
		if _, err := p.greeting(); err != nil {
			return
		}
		for i := 1; i <= 50; i++ {
			tag := "P" + string(rune('0'+i%10))
			r, err := p.awaitAppend(tag)
			if err != nil {
				_ = p.wireErr(err)
				return
			}
			_ = r.err().Error()
			if len(r.text)+len(r.arg) > int(to.MaxLine) {
				t.Fatalf("a line over the bound: %d bytes", len(r.text)+len(r.arg))
			}
			if _, set, ok := strings.Cut(r.arg, " "); ok && r.code == "APPENDUID" {
				if uids := expandUIDSet(set); len(uids) >= 1<<16 {
					t.Fatalf("%d UIDs from %q", len(uids), set)
				}
			}
		}
	})
}

// FuzzGoIMAPOverWire: go-imap's client, reading through a wireConn, given
// anything as the answer to each command the engine sends to an old server
// (EXAMINE, the metadata and body FETCH, LIST, STATUS), returns or fails
// without a panic, and allocates in proportion to what it was sent, never
// to a number in it: an amplification would show here.
func FuzzGoIMAPOverWire(f *testing.F) {
	for _, s := range wireSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("* 4294967295 EXISTS\r\n* OK [UIDVALIDITY 1] x"))
	f.Add([]byte("* 1 FETCH (UID 1 BODY[] NIL)"))
	f.Add([]byte("* 1 FETCH (UID 1 RFC822.SIZE 900 FLAGS (\\Seen) INTERNALDATE \"01-Jan-2024 00:00:00 +0000\")"))
	f.Add([]byte("* STATUS INBOX (MESSAGES 4294967295 UIDNEXT 1)"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cli, srv := net.Pipe()
		defer cli.Close()
		served := make(chan struct{})
		go func() {
			defer close(served)
			defer srv.Close()
			br := bufio.NewReader(srv)
			if _, err := io.WriteString(srv, "* OK ready\r\n"); err != nil {
				return
			}
			for {
				line, err := readCommand(br)
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				if _, err := srv.Write(append(append([]byte{}, data...), "\r\n"+tag+" OK done\r\n"...)); err != nil {
					return
				}
			}
		}()
		to := Timeouts{Command: time.Second, MaxLine: 4 << 10, MaxLiteral: 64 << 10}.withDefaults()
		w := boundConn(cli, to)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		// go-imap waits 30 s for a response it was promised more of (a
		// literal announced and not sent); this input gets 200 ms.
		stop := time.AfterFunc(200*time.Millisecond, func() { cli.Close() })
		defer stop.Stop()
		c := imapclient.New(w, nil)
		if err := c.WaitGreeting(); err == nil {
			_, _ = c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
			var all imap.UIDSet
			all.AddRange(1, 0)
			_, _ = c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true}).Collect()
			if cmd := c.Fetch(imap.UIDSetNum(1, 2), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}); cmd != nil {
				for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
					for it := msg.Next(); it != nil; it = msg.Next() {
						if b, ok := it.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
							_, _ = io.Copy(io.Discard, b.Literal)
						}
					}
				}
				_ = cmd.Close()
			}
			_, _ = c.List("", "*", nil).Collect()
			_, _ = c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		}
		cli.Close()
		_ = c.Close()
		<-served
		runtime.ReadMemStats(&m1)
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 16<<20+uint64(len(data))*64 {
			t.Fatalf("%d bytes allocated for %d bytes sent", alloc, len(data))
		}
	})
}
