package transfer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"unicode/utf8"
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

// The lexer reads the start of every line and the end of every literal's
// announcement: scanned byte by byte here, not by regular expressions,
// whose matching cost a copy a few per cent of its CPU. Each scanner is the
// exact equal of the expression in its comment (wire_match_test.go holds
// the expressions, and a fuzzer that compares the two): letters in any
// case, and K also as the Kelvin sign, U+212A, which Unicode folds to k.

// capsStart returns the end of the start of a line that carries a
// capability list, up to the list, or -1 when head does not start so:
//
//	^(?:\* (?i:CAPABILITY|ENABLED)|[^ ]{1,64} (?i:OK|NO|BAD|PREAUTH|BYE) \[(?i:CAPABILITY))
func capsStart(head []byte) int {
	for _, w := range []string{"* CAPABILITY", "* ENABLED"} {
		if n, ok := prefixFold(head, w); ok {
			return n
		}
	}
	// A tag of 1 to 64 characters (UTF-8 runes, an invalid byte one
	// each), up to the first space.
	i, runes := 0, 0
	for ; i < len(head) && head[i] != ' '; runes++ {
		if runes == 64 {
			return -1
		}
		_, w := utf8.DecodeRune(head[i:])
		i += w
	}
	if runes == 0 || i == len(head) {
		return -1
	}
	i++
	for _, st := range []string{"OK", "NO", "BAD", "PREAUTH", "BYE"} {
		if n, ok := prefixFold(head[i:], st); ok {
			m, ok := prefixFold(head[i+n:], " [CAPABILITY")
			if !ok {
				return -1
			}
			return i + n + m
		}
	}
	return -1
}

// kelvin is U+212A, the Kelvin sign, in UTF-8.
const kelvin = "\u212a"

// prefixFold reports whether b starts with word (upper case), letters in
// any case, and how many bytes of b it took.
func prefixFold(b []byte, word string) (int, bool) {
	n := 0
	for i := 0; i < len(word); i++ {
		c := word[i]
		switch {
		case n < len(b) && (b[n] == c || 'A' <= c && c <= 'Z' && b[n] == c+'a'-'A'):
			n++
		case c == 'K' && bytes.HasPrefix(b[n:], []byte(kelvin)):
			n += len(kelvin)
		default:
			return 0, false
		}
	}
	return n, true
}

// suffixFold reports whether b ends with word (upper case, none of K or
// S, the letters Unicode folds beyond ASCII), letters in any case.
func suffixFold(b []byte, word string) bool {
	if len(b) < len(word) {
		return false
	}
	b = b[len(b)-len(word):]
	for i := 0; i < len(word); i++ {
		if c := word[i]; b[i] != c && !('A' <= c && c <= 'Z' && b[i] == c+'a'-'A') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// guardCaps checks seg, the bytes of the current line from offset at on,
// for a '(' in a capability list; it returns the line offset of the byte
// that breaks a rule, with the error.
func (l *wireLexer) guardCaps(seg []byte, at int64) (int64, error) {
	g := &l.caps
	if !g.checked {
		if end := capsStart(l.head); end >= 0 {
			g.checked, g.from = true, int64(end)
			g.code = bytes.IndexByte(l.head[:end], '[') >= 0
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

// fetchHead reads the start of a FETCH response, "* 12 FETCH ", and
// returns its sequence number's digits (the expression ends with a space):
//
//	^\* ([0-9]+) (?i:FETCH)[ ]
func fetchHead(head []byte) ([]byte, bool) {
	if len(head) < 2 || head[0] != '*' || head[1] != ' ' {
		return nil, false
	}
	i := 2
	for i < len(head) && isDigit(head[i]) {
		i++
	}
	if i == 2 {
		return nil, false
	}
	if _, ok := prefixFold(head[i:], " FETCH "); !ok {
		return nil, false
	}
	return head[2:i], true
}

func isFetchResponse(head []byte) bool {
	_, ok := fetchHead(head)
	return ok
}

// fetchUID finds the first UID item, "(UID 7 " or " UID 7)", and returns
// its digits:
//
//	[ (](?i:UID) ([0-9]+)[ )]
func fetchUID(b []byte) ([]byte, bool) {
	for i := range b {
		if b[i] != ' ' && b[i] != '(' {
			continue
		}
		n, ok := prefixFold(b[i+1:], "UID ")
		if !ok {
			continue
		}
		from := i + 1 + n
		to := from
		for to < len(b) && isDigit(b[to]) {
			to++
		}
		if to > from && to < len(b) && (b[to] == ' ' || b[to] == ')') {
			return b[from:to], true
		}
	}
	return nil, false
}

// fetchIDs reads the sequence number of a FETCH response from its head,
// and its UID from the head or the tail, whichever has it (0 if none).
func fetchIDs(head, tail []byte) (seq, uid uint32) {
	if d, ok := fetchHead(head); ok {
		seq = parseUint32(d)
	}
	for _, b := range [][]byte{head, tail} {
		if d, ok := fetchUID(b); ok {
			return seq, parseUint32(d)
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

// isBodyItem reports whether item, what precedes a literal in a FETCH
// response, ends with the name of a message's body or a part of it:
// BODY[], BODY[TEXT], BODY[1.2], BINARY[1], RFC822, RFC822.TEXT, with a
// partial's <origin>, then at most one space. Headers, MIME parts and
// everything else are bounded as line bytes.
//
//	(?i)(?:(?:^|[ (])(?:BODY|BINARY)\[[0-9.]*(?:TEXT)?\](?:<[0-9]+>)?|(?:^|[ (])RFC822(?:\.TEXT)?) ?$
func isBodyItem(item []byte) bool {
	t := bytes.TrimSuffix(item, []byte{' '})
	// What stands before the name: the start, a space or a '('.
	starts := func(rest []byte) bool {
		return len(rest) == 0 || rest[len(rest)-1] == ' ' || rest[len(rest)-1] == '('
	}
	for _, w := range []string{"RFC822", "RFC822.TEXT"} {
		if suffixFold(t, w) && starts(t[:len(t)-len(w)]) {
			return true
		}
	}
	if len(t) > 0 && t[len(t)-1] == '>' { // <origin>
		i := len(t) - 1
		for i > 0 && isDigit(t[i-1]) {
			i--
		}
		if i == len(t)-1 || i == 0 || t[i-1] != '<' {
			return false
		}
		t = t[:i-1]
	}
	if len(t) == 0 || t[len(t)-1] != ']' {
		return false
	}
	t = t[:len(t)-1]
	if suffixFold(t, "TEXT") {
		t = t[:len(t)-len("TEXT")]
	}
	for len(t) > 0 && (isDigit(t[len(t)-1]) || t[len(t)-1] == '.') {
		t = t[:len(t)-1]
	}
	if len(t) == 0 || t[len(t)-1] != '[' {
		return false
	}
	t = t[:len(t)-1]
	for _, w := range []string{"BODY", "BINARY"} {
		if suffixFold(t, w) && starts(t[:len(t)-len(w)]) {
			return true
		}
	}
	return false
}

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
