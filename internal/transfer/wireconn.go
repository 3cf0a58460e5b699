package transfer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"strings"
	"sync"
)

// Bounds on what a server may send, and the net.Conn that enforces them
// under both IMAP clients. go-imap v2 reads through a bufio.Reader of its
// own with no limit on a line or a literal, and gives no hook to bound
// them; so the bound sits under it, on the bytes: wireConn lexes the
// server's stream just enough to tell the lines from the literals in them.

// Defaults of Timeouts.MaxLine and Timeouts.MaxLiteral.
const (
	DefaultMaxLine = 4 << 20
	// literalSlack is what a literal may have beyond the size limit: the
	// engine decides on a message's declared size, the wire only stops
	// what no message can be.
	literalSlack = 1 << 20
)

// LineTooLongError says a server sent a response line longer than the
// limit. A literal that is not a message's body (a mailbox name, a header
// field, an envelope's string) counts as part of its line.
type LineTooLongError struct {
	Limit int64
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("the server sent a response line over %d bytes", e.Limit)
}

// LiteralTooLargeError says a server announced a literal larger than any
// message may be, in a FETCH response: the message's sequence number and,
// when the response gave it before the literal, its UID say which message.
type LiteralTooLargeError struct {
	Size   int64 // as announced; math.MaxInt64 when it does not fit
	Limit  int64
	SeqNum uint32
	UID    uint32 // 0 when not known
}

func (e *LiteralTooLargeError) Error() string {
	which := fmt.Sprintf("message %d", e.SeqNum)
	if e.UID != 0 {
		which = fmt.Sprintf("UID %d", e.UID)
	}
	return fmt.Sprintf("the server announced a body of %d bytes for %s, over the limit of %d", e.Size, which, e.Limit)
}

// wireLexer follows the server's side of an IMAP connection, byte by byte
// outside literals and by length through them, and fails once a bound is
// passed. It keeps a few bytes of the current line, never the line.
type wireLexer struct {
	maxLine    int64
	maxLiteral int64

	line    int64 // bytes of the current line so far, literals not in the body counted
	literal int64 // bytes of a literal still to pass
	// head is the start of the current line (to tell a FETCH response);
	// tail the last bytes since the line or its last literal (to find a
	// literal's announcement and the item it belongs to).
	head []byte
	tail []byte
	caps capsGuard
	err  error
}

// capsGuard follows a capability list in the current line: go-imap v2
// (beta.8, readCapabilities) loops for ever, without reading, on a '(' in
// one (its Decoder.SP accepts a '(' without consuming it), in "* CAPABILITY",
// "* ENABLED" or a [CAPABILITY] response code; a deadline cannot stop a
// loop that reads nothing. So such a '(' fails the read before go-imap
// sees it.
type capsGuard struct {
	checked bool  // the line's start was matched (or cannot be any more)
	from    int64 // line offset where the list starts; -1 when none
	code    bool  // the list is a response code: it ends at ']'
	ended   bool
}

const (
	lexHead = 128
	lexTail = 64
)

func newWireLexer(maxLine, maxLiteral int64) *wireLexer {
	return &wireLexer{maxLine: maxLine, maxLiteral: maxLiteral, head: make([]byte, 0, lexHead), tail: make([]byte, 0, 2*lexTail)}
}

// feed takes the next bytes of the stream; it returns the first bound
// passed, then always that error.
func (l *wireLexer) feed(b []byte) error {
	for len(b) > 0 && l.err == nil {
		if l.literal > 0 {
			n := int64(len(b))
			if n > l.literal {
				n = l.literal
			}
			l.literal -= n
			b = b[n:]
			continue
		}
		seg := b
		eol := bytes.IndexByte(b, '\n')
		if eol >= 0 {
			seg = b[:eol+1]
		}
		b = b[len(seg):]
		at := l.line
		l.line += int64(len(seg))
		if room := lexHead - len(l.head); room > 0 {
			l.head = append(l.head, seg[:min(room, len(seg))]...)
		}
		// The first byte that passes a bound decides which error it is,
		// however the stream was cut into reads.
		off, err := l.guardCaps(seg, at)
		if l.line > l.maxLine && (err == nil || l.maxLine <= off) {
			err = &LineTooLongError{Limit: l.maxLine}
		}
		if err != nil {
			l.err = err
			break
		}
		text := seg
		if eol >= 0 {
			text = seg[:len(seg)-1]
		}
		if len(text) >= lexTail {
			l.tail = append(l.tail[:0], text[len(text)-lexTail:]...)
		} else {
			if len(l.tail)+len(text) > cap(l.tail) {
				l.tail = l.tail[:copy(l.tail, l.tail[len(l.tail)-lexTail:])]
			}
			l.tail = append(l.tail, text...)
		}
		if eol >= 0 {
			l.endOfLine()
		}
	}
	return l.err
}

// endOfLine is a LF: the end of a line, or of a literal's announcement.
func (l *wireLexer) endOfLine() {
	n, item, ok := announcedLiteral(l.tail)
	l.tail = l.tail[:0]
	if !ok {
		l.line = 0
		l.head = l.head[:0]
		l.caps = capsGuard{}
		return
	}
	switch {
	case isFetchResponse(l.head) && isBodyItem(item):
		if n > l.maxLiteral {
			seq, uid := fetchIDs(l.head, l.tail)
			l.err = &LiteralTooLargeError{Size: n, Limit: l.maxLiteral, SeqNum: seq, UID: uid}
			return
		}
	case n > l.maxLine-l.line:
		l.err = &LineTooLongError{Limit: l.maxLine}
		return
	default:
		l.line += n
	}
	l.literal = n
}

// capsStart matches the start of a line that carries a capability list,
// up to the list.
var capsStart = regexp.MustCompile(`^(?:\* (?i:CAPABILITY|ENABLED)|[^ ]{1,64} (?i:OK|NO|BAD|PREAUTH|BYE) \[(?i:CAPABILITY))`)

// guardCaps checks seg, the bytes of the current line from offset at on,
// for a '(' in a capability list; it returns the line offset of the byte
// that breaks a rule, with the error.
func (l *wireLexer) guardCaps(seg []byte, at int64) (int64, error) {
	g := &l.caps
	if !g.checked {
		if m := capsStart.FindIndex(l.head); m != nil {
			g.checked, g.from = true, int64(m[1])
			g.code = bytes.IndexByte(l.head[:m[1]], '[') >= 0
		} else if tagTooLong(l.head) {
			// A tagged answer's resp-code is read whatever its tag: the
			// start of a line must be short enough to be matched.
			return 64, &WireSyntaxError{Reason: "a tag over 64 bytes"}
		} else if len(l.head) == lexHead || bytes.IndexByte(l.head, '\n') >= 0 {
			g.checked, g.from = true, -1
		} else {
			return 0, nil // not known yet; the list cannot have started
		}
	}
	if g.from < 0 || g.ended {
		return 0, nil
	}
	if skip := g.from - at; skip > 0 {
		if skip >= int64(len(seg)) {
			return 0, nil
		}
		seg, at = seg[skip:], at+skip
	}
	if g.code {
		if end := bytes.IndexByte(seg, ']'); end >= 0 {
			seg, g.ended = seg[:end], true
		}
	}
	if i := bytes.IndexByte(seg, '('); i >= 0 {
		return at + int64(i), &WireSyntaxError{Reason: "a '(' in a capability list"}
	}
	return 0, nil
}

// tagTooLong reports whether head starts with a tag (not "*" nor "+") of
// over 64 bytes.
func tagTooLong(head []byte) bool {
	if len(head) <= 64 || head[0] == '*' || head[0] == '+' {
		return false
	}
	return bytes.IndexByte(head[:65], ' ') < 0
}

// WireSyntaxError says a server sent what the IMAP library cannot read
// safely, and the read was failed before it could.
type WireSyntaxError struct {
	Reason string
}

func (e *WireSyntaxError) Error() string { return "the server sent " + e.Reason }

// announcedLiteral reads `{N}`, `{N+}` or `~{N}` at the end of tail (a CR
// before the LF allowed) and returns N and what stands before it.
func announcedLiteral(tail []byte) (n int64, item []byte, ok bool) {
	t := bytes.TrimSuffix(tail, []byte{'\r'})
	if len(t) < 3 || t[len(t)-1] != '}' {
		return 0, nil, false
	}
	open := bytes.LastIndexByte(t, '{')
	if open < 0 {
		return 0, nil, false
	}
	digits := bytes.TrimSuffix(t[open+1:len(t)-1], []byte{'+'})
	if len(digits) == 0 {
		return 0, nil, false
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, nil, false
		}
		if n > (math.MaxInt64-9)/10 {
			n = math.MaxInt64 // announced, and absurd: refused by every bound
			break
		}
		n = n*10 + int64(d-'0')
	}
	return n, bytes.TrimSuffix(t[:open], []byte{'~'}), true
}

// fetchHead matches the start of a FETCH response: "* 12 FETCH ".
var fetchHead = regexp.MustCompile(`^\* ([0-9]+) (?i:FETCH) `)

func isFetchResponse(head []byte) bool { return fetchHead.Match(head) }

// fetchUID finds a UID item: "(UID 7 " or " UID 7)".
var fetchUID = regexp.MustCompile(`[ (](?i:UID) ([0-9]+)[ )]`)

// fetchIDs reads the sequence number of a FETCH response from its head,
// and its UID from the head or the tail, whichever has it (0 if none).
func fetchIDs(head, tail []byte) (seq, uid uint32) {
	if m := fetchHead.FindSubmatch(head); m != nil {
		seq = parseUint32(m[1])
	}
	for _, b := range [][]byte{head, tail} {
		if m := fetchUID.FindSubmatch(b); m != nil {
			return seq, parseUint32(m[1])
		}
	}
	return seq, 0
}

// parseUint32 reads decimal digits; 0 when they do not fit.
func parseUint32(d []byte) uint32 {
	var n uint64
	for _, c := range d {
		n = n*10 + uint64(c-'0')
		if n > math.MaxUint32 {
			return 0
		}
	}
	return uint32(n)
}

// bodyItem matches the end of what precedes the literal of a message's
// body or a part of it in a FETCH response: BODY[], BODY[TEXT],
// BODY[1.2], BINARY[1], RFC822, RFC822.TEXT, with a partial's <origin>.
// Headers, MIME parts and everything else are bounded as line bytes.
var bodyItem = regexp.MustCompile(`(?i)(?:(?:^|[ (])(?:BODY|BINARY)\[[0-9.]*(?:TEXT)?\](?:<[0-9]+>)?|(?:^|[ (])RFC822(?:\.TEXT)?) ?$`)

func isBodyItem(item []byte) bool { return bodyItem.Match(item) }

// wireConn is a net.Conn whose reads pass through a wireLexer: a read that
// passes a bound fails with its error, and so does every read after it.
type wireConn struct {
	net.Conn
	mu  sync.Mutex
	lex *wireLexer
	// first is the start of the first line read (the greeting), at most
	// maxGreeting bytes; firstDone once its end was seen.
	first     []byte
	firstDone bool
}

// maxGreeting bounds what is kept of a server's greeting.
const maxGreeting = 512

// boundConn bounds what is read from c: a line (outside message bodies) to
// to.MaxLine bytes, a literal to to.MaxLiteral.
func boundConn(c net.Conn, to Timeouts) *wireConn {
	to = to.withDefaults()
	return &wireConn{Conn: c, lex: newWireLexer(to.MaxLine, to.MaxLiteral)}
}

func (w *wireConn) Read(b []byte) (int, error) {
	if err := w.Err(); err != nil {
		return 0, err
	}
	n, err := w.Conn.Read(b)
	w.mu.Lock()
	lexErr := w.lex.feed(b[:n])
	if !w.firstDone {
		line := b[:n]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, w.firstDone = line[:i], true
		}
		w.first = append(w.first, line[:min(len(line), maxGreeting-len(w.first))]...)
	}
	w.mu.Unlock()
	if lexErr != nil {
		return 0, lexErr // what passed the bound is never handed on
	}
	return n, err
}

// greeting is the text of the server's greeting as read so far: the
// first line without "* OK" and its response code, clipped.
func (w *wireConn) greeting() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return greetingText(string(w.first))
}

// greetingText is the text of a greeting line ("* OK [CAPABILITY …] text").
func greetingText(line string) string {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "* ")
	if !ok {
		return ""
	}
	return parseStatus(rest).text
}

// Err is the bound the server passed, or nil. go-imap reports a failed
// read as text; a session looks here to say what happened.
func (w *wireConn) Err() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lex.err
}

// greetedConn hands its reader a greeting before the connection's bytes:
// after a STARTTLS done by hand, go-imap is given the TLS connection and
// waits for a greeting, which the server sent before TLS.
type greetedConn struct {
	net.Conn
	greeting io.Reader
}

func (g *greetedConn) Read(b []byte) (int, error) {
	if g.greeting != nil {
		n, err := g.greeting.Read(b)
		if err != io.EOF {
			return n, err
		}
		g.greeting = nil
		if n > 0 {
			return n, nil
		}
	}
	return g.Conn.Read(b)
}
