package transfer

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
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
