package transfer

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

// The IMAP syntax of the pipelined appender (pipeconn.go, pipeappend.go):
// what it writes (astrings, mailbox names in modified UTF-7, flags, dates)
// and what it reads of the server's lines (status responses, capabilities,
// literal announcements, APPENDUID sets). No I/O here.

// response is one line of the server's, as far as the appender cares.
type response struct {
	tagged bool
	typ    imap.StatusResponseType
	code   string // response code, upper case
	arg    string // its arguments
	text   string
	caps   imap.CapSet // from an untagged CAPABILITY or a [CAPABILITY] code
}

func (r response) err() *imap.Error {
	return &imap.Error{Type: r.typ, Code: imap.ResponseCode(r.code), Text: r.text}
}

// parseStatus parses `STATUS [CODE args] text`.
func parseStatus(s string) response {
	word, rest, _ := strings.Cut(s, " ")
	r := response{typ: imap.StatusResponseType(strings.ToUpper(word))}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			code := rest[1:end]
			r.text = strings.TrimPrefix(rest[end+1:], " ")
			c, a, _ := strings.Cut(code, " ")
			r.code, r.arg = strings.ToUpper(c), a
			return r
		}
	}
	r.text = rest
	return r
}

func parseCaps(s string) imap.CapSet {
	caps := imap.CapSet{}
	for _, c := range strings.Fields(s) {
		caps[imap.Cap(strings.ToUpper(c))] = struct{}{}
	}
	return caps
}

// trailingLiteral reports whether line ends with a literal's `{N}`.
func trailingLiteral(line []byte) (int64, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	digits := strings.TrimSuffix(string(line[i+1:len(line)-1]), "+")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// expandUIDSet lists the UIDs of an APPENDUID uid-set ("7", "7:9",
// "3,7:9") in ascending order, as RFC 4315 assigns them to the messages of
// a MULTIAPPEND; nil when it cannot be read, or lists more UIDs than any
// APPEND has messages (a set of many ranges could otherwise list billions).
func expandUIDSet(set string) []uint32 {
	var out []uint32
	for part := range strings.SplitSeq(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil || a == 0 {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil || b == 0 {
				return nil
			}
			if b < a {
				a, b = b, a
			}
		}
		if b-a > 1<<16 {
			return nil
		}
		if len(out)+int(b-a) >= 1<<16 {
			return nil // more UIDs than any APPEND has messages
		}
		for u := a; u <= b; u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

// dateTimeLayout is IMAP's date-time, as go-imap writes it.
const dateTimeLayout = "_2-Jan-2006 15:04:05 -0700"

// validFlag reports whether f can be sent as a flag: `\` and an atom, or an
// atom (go-imap's rule).
func validFlag(f string) bool {
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '\\' && i == 0 {
			continue
		}
		if !atomChar(c) {
			return false
		}
	}
	return true
}

func atomChar(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return c > 0x1f && c < 0x7f
}

// mailboxArg encodes a mailbox name for a command exactly as go-imap's
// encoder does (go-imap's own encoder is internal to it): INBOX as an atom;
// anything else in modified UTF-7 (RFC 3501 §5.1.3), or in UTF-8 with "&"
// escaped when the server has IMAP4rev2; then quoted, or a literal when
// quoting cannot carry it.
func mailboxArg(name string, utf8Names bool) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if utf8Names {
		name = strings.ReplaceAll(name, "&", "&-")
	} else {
		name = encodeUTF7(name)
	}
	s, _ := astring(name, true, utf8Names)
	return s
}

// astring is s as a quoted string, or as a non-synchronising literal when
// it has to be one (a CR, LF or NUL, over 4 KiB, or 8-bit bytes unless
// utf8, which the server's IMAP4rev2 allows) and literal allows; ok is false
// when it would have to be a literal and cannot. It is go-imap's choice.
func astring(s string, literal, utf8 bool) (string, bool) {
	quotable := len(s) <= 4096
	for i := 0; i < len(s) && quotable; i++ {
		switch c := s[i]; {
		case c == 0, c == '\r', c == '\n', c > 0x7f && !utf8:
			quotable = false
		}
	}
	if quotable {
		var b strings.Builder
		b.Grow(len(s) + 2)
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
		return b.String(), true
	}
	if !literal {
		return "", false
	}
	return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s, true
}

// utf7Enc is modified BASE64 (RFC 3501 §5.1.3: "," instead of "/").
var utf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// encodeUTF7 encodes s in modified UTF-7: printable ASCII stands for itself
// ("&" as "&-"); every run of other characters is "&", the modified BASE64
// of its UTF-16BE, "-".
func encodeUTF7(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
			if c == '&' {
				b.WriteByte('-')
			}
			i++
			continue
		}
		start := i
		for i < len(s) && (s[i] < 0x20 || s[i] > 0x7e) {
			i++
		}
		var u []byte
		for _, r := range s[start:i] {
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				u = append(u, byte(r1>>8), byte(r1), byte(r2>>8), byte(r2))
				continue
			}
			u = append(u, byte(r>>8), byte(r))
		}
		b.WriteByte('&')
		b.WriteString(utf7Enc.EncodeToString(u))
		b.WriteByte('-')
	}
	return b.String()
}
