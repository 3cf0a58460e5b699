// Package csvimport parses the CSV a customer uploads to start a migration:
// one mailbox a line, four fields separated by ";", no quoting, no header:
//
//	local-user@domain;remote-imap-host;remote-user@domain;remote-password
//
// It is strict in what a line means and kind in what it accepts: a UTF-8 BOM,
// CRLF or CR line ends, blank lines, spaces around fields and a header line
// are accepted and reported as Notes; a password may itself contain ";"
// (everything after the third ";" is the password). Every refusal is a
// Problem naming the line and the field, rendered in the user's language;
// no message ever contains a password, nor quotes a field that is not
// what it should be (it may be the password, in the wrong column). The package does no I/O beyond
// reading the file.
package csvimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trasloco/trasloco/internal/i18n"
)

// Defaults of Limits.
const (
	DefaultMaxBytes = 1 << 20 // 1 MB
	DefaultMaxLines = 5000
)

// Limits bounds what Parse accepts and says whether a password may be empty.
type Limits struct {
	// MaxBytes is the largest file accepted. Default DefaultMaxBytes (1 MiB).
	MaxBytes int64
	// MaxLines is the largest number of mailboxes (data lines, not counting
	// blank lines and a header). Default DefaultMaxLines (5000).
	MaxLines int
	// AllowEmptyPassword accepts lines without a password: set it when the
	// migration logs in with a Master User. Default false.
	AllowEmptyPassword bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxLines <= 0 {
		l.MaxLines = DefaultMaxLines
	}
	return l
}

// Result is a parsed file.
type Result struct {
	// Lines are the lines without problems, in file order.
	Lines []Line
	// Problems are the refusals, in file order; a line may have several (in
	// field order) and a line with any is not in Lines.
	Problems []Problem
	// Notes are what was accepted but is worth telling (a BOM, CRLF, a
	// header, blank lines, spaces around fields). File-wide notes have Line 0.
	Notes []Problem
}

// Line is one mailbox to migrate.
type Line struct {
	No             int    // 1-based line number in the file, as an editor counts
	LocalUser      string // the destination mailbox, domain lower-cased
	RemoteHost     string // host name (lower case) or IP, with an optional ":port"; IPv6 with a port in brackets
	RemoteUser     string
	RemotePassword string // exactly as written; "" only with AllowEmptyPassword
}

// Problem is a refusal (or, in Result.Notes, a remark) about one line, or
// about the file when Line is 0. Code is a key of the i18n catalog and Args
// its arguments; Args never hold a password.
type Problem struct {
	Line int
	Code string
	Args []any
}

// Message renders the problem in l: "Riga 3: …" / "Line 3: …".
func (p Problem) Message(l i18n.Lang) string {
	text := i18n.T(l, p.Code, p.Args...)
	if p.Line <= 0 {
		return text
	}
	return i18n.T(l, "csv.line", p.Line, text)
}

// Msg is the problem as a message to store ("Riga 3: …" with the problem
// inside), rendered in the reader's language when shown.
func (p Problem) Msg() i18n.Msg {
	m := i18n.New(p.Code, p.Args...)
	if p.Line <= 0 {
		return m
	}
	return i18n.New("csv.line", p.Line, m)
}

// The codes of a FileError.
const (
	CodeTooLarge     = "csv.file.too_large"
	CodeTooManyLines = "csv.file.too_many_lines"
	CodeNotText      = "csv.file.not_text"
	CodeUTF16        = "csv.file.utf16"
	CodeEmpty        = "csv.file.empty"
)

// FileError refuses the file as a whole: too large, too many lines, not
// text, or without any mailbox.
type FileError struct {
	Code string // one of the Code* constants, an i18n key
	Args []any
	// Line is where a file that is not text stops being text (CodeNotText).
	Line int
}

// Error is the English message, for logs.
func (e *FileError) Error() string { return e.Message(i18n.English) }

// Message renders the error in l, for the user.
func (e *FileError) Message(l i18n.Lang) string {
	if e.Line > 0 && e.Code == CodeNotText {
		return i18n.T(l, "csv.line", e.Line, i18n.T(l, "csv.file.not_text_at"))
	}
	return i18n.T(l, e.Code, e.Args...)
}

// Msg is the error as a message to store, rendered when shown.
func (e *FileError) Msg() i18n.Msg {
	if e.Line > 0 && e.Code == CodeNotText {
		return i18n.New("csv.line", e.Line, i18n.New("csv.file.not_text_at"))
	}
	return i18n.New(e.Code, e.Args...)
}

// maxEcho bounds how much of a field a message repeats.
const maxEcho = 80

// headerPlaceholders are the first two fields of the format line the
// documentation shows (`utente-locale@dominio;server-IMAP-remoto;…`, and
// in English `local-user@domain;remote-imap-host;…`), which customers copy
// into their file; lower case.
var headerPlaceholders = map[string]bool{
	"utente-locale@dominio": true, "utente@dominio": true, "local-user@domain": true, "user@domain": true,
	"server-imap-remoto": true, "server-imap": true, "remote-imap-host": true, "remote-imap-server": true, "imap-server": true,
}

// headerWords are the words a header line's first field is made of.
var headerWords = []string{"user", "utente", "local", "locale", "mail", "casella", "mailbox", "account", "login", "source", "dest", "sorgente", "destinazione", "email", "indirizzo", "address"}

// Parse reads a whole CSV from r. The error is a *FileError when the file
// as a whole is refused, or the reader's own error; otherwise every line
// is either in Lines or has Problems.
func Parse(r io.Reader, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, &FileError{Code: CodeTooLarge, Args: []any{formatBytes(lim.MaxBytes)}}
	}
	res := &Result{}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, &FileError{Code: CodeUTF16}
	}
	if rest, ok := bytes.CutPrefix(data, []byte("\uFEFF")); ok {
		data = rest
		res.Notes = append(res.Notes, Problem{Code: "csv.note.bom"})
	}
	if n := firstNonTextLine(data); n > 0 {
		return nil, &FileError{Code: CodeNotText, Line: n}
	}
	text := string(data)
	switch {
	case strings.Contains(text, "\r\n"):
		res.Notes = append(res.Notes, Problem{Code: "csv.note.crlf"})
	case strings.Contains(text, "\r"):
		res.Notes = append(res.Notes, Problem{Code: "csv.note.cr"})
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimSuffix(text, "\n")

	var blank, spaced []int
	seen := map[string]int{} // lower-cased local user -> first line
	dataLines := 0
	for i, raw := range strings.Split(text, "\n") {
		no := i + 1
		if strings.TrimSpace(raw) == "" {
			if text != "" {
				blank = append(blank, no)
			}
			continue
		}
		if dataLines == 0 && isHeader(raw) {
			res.Notes = append(res.Notes, Problem{Line: no, Code: "csv.note.header"})
			continue
		}
		dataLines++
		if dataLines > lim.MaxLines {
			return nil, &FileError{Code: CodeTooManyLines, Args: []any{lim.MaxLines}}
		}
		line, probs, notes, hadSpaces := parseLine(no, raw, lim)
		if hadSpaces {
			spaced = append(spaced, no)
		}
		res.Notes = append(res.Notes, notes...)
		if line.LocalUser != "" {
			key := strings.ToLower(line.LocalUser)
			if first, dup := seen[key]; dup {
				probs = append(probs, Problem{Line: no, Code: "csv.duplicate", Args: []any{line.LocalUser, first}})
			} else {
				seen[key] = no
			}
		}
		if len(probs) > 0 {
			res.Problems = append(res.Problems, probs...)
			continue
		}
		res.Lines = append(res.Lines, line)
	}
	if dataLines == 0 {
		return nil, &FileError{Code: CodeEmpty}
	}
	if len(blank) > 0 {
		res.Notes = append(res.Notes, Problem{Code: "csv.note.blank", Args: []any{lineList(blank)}})
	}
	if len(spaced) > 0 {
		res.Notes = append(res.Notes, Problem{Code: "csv.note.spaces", Args: []any{lineList(spaced)}})
	}
	return res, nil
}

// parseLine checks one non-blank line. The returned Line has LocalUser set
// whenever the local user is valid, for the duplicate check, even when
// another field has a problem.
func parseLine(no int, raw string, lim Limits) (line Line, probs []Problem, notes []Problem, hadSpaces bool) {
	line.No = no
	fields := strings.SplitN(raw, ";", 4)
	if len(fields) < 4 {
		if len(fields) == 1 {
			for _, sep := range []struct{ ch, name string }{{",", "«,»"}, {"\t", "TAB"}, {"|", "«|»"}} {
				if strings.Count(raw, sep.ch) >= 3 {
					return line, []Problem{{Line: no, Code: "csv.fields.separator", Args: []any{sep.name}}}, nil, false
				}
			}
		}
		return line, []Problem{{Line: no, Code: "csv.fields", Args: []any{len(fields)}}}, nil, false
	}
	local, host, user, pw := fields[0], fields[1], fields[2], fields[3]
	for _, f := range []string{local, host, user} {
		if strings.TrimSpace(f) != f {
			hadSpaces = true
		}
	}
	local, host, user = strings.TrimSpace(local), strings.TrimSpace(host), strings.TrimSpace(user)

	switch lu, ok := normalizeEmail(local); {
	case local == "":
		probs = append(probs, Problem{Line: no, Code: "csv.local_user.empty"})
	case !ok:
		// Not quoted: a field in the wrong place may be the password.
		probs = append(probs, Problem{Line: no, Code: "csv.local_user.invalid"})
	default:
		line.LocalUser = lu
	}

	if host == "" {
		probs = append(probs, Problem{Line: no, Code: "csv.remote_host.empty"})
	} else if h, code := normalizeHost(host); code != "" {
		probs = append(probs, Problem{Line: no, Code: code})
	} else {
		line.RemoteHost = h
	}

	switch {
	case user == "":
		probs = append(probs, Problem{Line: no, Code: "csv.remote_user.empty"})
	default:
		line.RemoteUser = user
	}

	switch {
	case strings.TrimSpace(pw) == "" && !lim.AllowEmptyPassword:
		probs = append(probs, Problem{Line: no, Code: "csv.password.empty"})
	case strings.TrimSpace(pw) == "":
		// Only spaces after the last ";" with a master user: no password.
		line.RemotePassword = ""
		if pw != "" {
			hadSpaces = true
		}
	default:
		line.RemotePassword = pw
		if strings.TrimSpace(pw) != pw {
			notes = append(notes, Problem{Line: no, Code: "csv.note.password_space"})
		}
	}
	if len(probs) > 0 {
		line.RemotePassword = ""
	}
	return line, probs, notes, hadSpaces
}

// isHeader reports whether a first line is a header rather than a mailbox:
// its first field is not an address but a word like "email" or "casella".
func isHeader(raw string) bool {
	fields := strings.Split(strings.ToLower(raw), ";")
	for i, f := range fields {
		fields[i] = strings.TrimSpace(f)
	}
	// The provider's own documentation's line, in Italian or English.
	if len(fields) == 4 && (headerPlaceholders[fields[0]] || headerPlaceholders[fields[1]]) {
		return true
	}
	first := fields[0]
	if first == "" || strings.Contains(first, "@") {
		return false
	}
	for _, w := range headerWords {
		if strings.Contains(first, w) {
			return true
		}
	}
	return false
}

// firstNonTextLine is the 1-based line where data stops being UTF-8 text
// without NUL or other control characters than tab and line ends, 0 when
// it is text throughout.
func firstNonTextLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line
		case r == '\n':
			line++
		case r == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				line++ // a lone CR ends a line too
			}
		case r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return line
		}
		i += size
	}
	return 0
}

// normalizeEmail checks local@domain and lower-cases the domain. The local
// part is a dot-atom (RFC 5322 atext and dots) of at most 64 bytes.
func normalizeEmail(s string) (string, bool) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	local, domain := s[:at], strings.ToLower(strings.TrimSuffix(s[at+1:], "."))
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", false
	}
	for _, r := range local {
		if !isAtext(r) && r != '.' {
			return "", false
		}
	}
	if !validHostname(domain) || !strings.Contains(domain, ".") {
		return "", false
	}
	return local + "@" + domain, true
}

func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// validHostname checks an ASCII host name: dot-separated labels of letters,
// digits and inner hyphens, at most 63 bytes each and 253 in all, not all
// numeric (that would be a malformed IP address).
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	allNumeric := true
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allNumeric = false
			case c >= '0' && c <= '9':
			default:
				return false
			}
		}
	}
	return !allNumeric
}

// normalizeHost checks "host", "host:port", "ip", "ip:port", "[ipv6]",
// "[ipv6]:port" or a bare IPv6 address, and returns it lower-cased (an IPv6
// address without port unbracketed, as the transfer engine expects). A
// host name needs a dot: a server on the Internet has no one-label name
// (and a password typed in the wrong column usually is one). On failure it
// returns the problem's code.
func normalizeHost(s string) (host, code string) {
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#") {
		return "", "csv.remote_host.url"
	}
	name, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "csv.remote_host.invalid"
		}
		name, port = s[1:end], s[end+1:]
		if port != "" {
			if !strings.HasPrefix(port, ":") {
				return "", "csv.remote_host.invalid"
			}
			port = port[1:]
			if port == "" {
				return "", "csv.remote_host.port"
			}
		}
		a, err := netip.ParseAddr(name)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "csv.remote_host.invalid"
		}
		name = a.String()
	case strings.Count(s, ":") > 1:
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "csv.remote_host.invalid"
		}
		return a.String(), ""
	case strings.Contains(s, ":"):
		name, port, _ = strings.Cut(s, ":")
		if port == "" {
			return "", "csv.remote_host.port"
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return "", "csv.remote_host.port"
		}
		port = strconv.Itoa(n)
	}
	if !strings.Contains(name, ":") { // not IPv6
		if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
			name = a.String()
		} else {
			name = strings.ToLower(strings.TrimSuffix(name, "."))
			if !validHostname(name) || !strings.Contains(name, ".") {
				return "", "csv.remote_host.invalid"
			}
		}
	}
	if port == "" {
		return name, ""
	}
	if strings.Contains(name, ":") {
		return "[" + name + "]:" + port, ""
	}
	return name + ":" + port, ""
}

// lineList renders line numbers for a note: "2, 5, 9" or "2, 5, 9, … (+40)".
func lineList(nos []int) string {
	const show = 10
	var b strings.Builder
	for i, n := range nos {
		if i == show {
			fmt.Fprintf(&b, ", … (+%d)", len(nos)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d byte", n)
}

// AsFileError returns err as a *FileError when it is one.
func AsFileError(err error) (*FileError, bool) {
	var fe *FileError
	ok := errors.As(err, &fe)
	return fe, ok
}
