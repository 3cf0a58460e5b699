package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/mail"
	"strings"
	"time"
)

// The identifying header fields (keyFields), by index in idFields.
const (
	fieldID = iota
	fieldDate
	fieldFrom
	fieldSubject
	nFields
)

// idFields are the values of a message's identifying header fields (the
// first of each name), as net/textproto's ReadMIMEHeader gives them: the
// value after the colon without its leading blanks and the line's trailing
// ones, continuation lines joined by one space each, trimmed.
type idFields struct {
	v    [nFields][]byte
	seen [nFields]bool
	own  [nFields]bool // v is a buffer of its own (a folded value), not raw's bytes
}

// scanFields reads the identifying fields of the header at the start of
// raw, which ends at its first empty line or at the end of raw; ended
// reports whether an empty line ended it. It is the hot path of the
// verification and of the recognition of what is already there (a header
// FETCH of every message of a folder) and of the copy (every body read),
// so it does by hand what ReadMIMEHeader does, for four fields only, with
// no allocation but for a folded value.
//
// It gives ReadMIMEHeader's values wherever ReadMIMEHeader reads the header
// without error (TestScanFieldsAsTextproto, FuzzScanFields). Where it
// gives up (a line without a colon, a first line that is a continuation,
// a control character in any field), the scanner goes on: such a line is
// not a field, and a value keeps its bytes. It never fails.
func scanFields(raw []byte) (f idFields, ended bool) {
	defer func() {
		for i := range f.v {
			f.v[i] = bytes.TrimLeft(f.v[i], " \t")
		}
	}()
	cur := -1 // the field whose continuation lines follow, -1 for none
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		} else {
			line, raw = raw, nil
		}
		if len(line) == 0 {
			return f, true
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur >= 0 {
				// A continuation: one space, then the line trimmed.
				v := f.v[cur]
				if !f.own[cur] {
					v, f.own[cur] = append(make([]byte, 0, 2*len(v)+len(line)), v...), true
				}
				f.v[cur] = append(append(v, ' '), trimBlank(line)...)
			}
			continue
		}
		cur = -1
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue // not a field
		}
		name := line[:colon]
		for i, k := range keyFields {
			if !f.seen[i] && equalFoldASCII(name, k) {
				f.seen[i], cur = true, i
				f.v[i] = trimBlank(line)[colon+1:]
				break
			}
		}
	}
	return f, false
}

// equalFoldASCII reports whether b is s in any case of ASCII letters (the
// only case textproto folds in a field name).
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// trimBlank drops the spaces and tabs around s (textproto's trim).
func trimBlank(s []byte) []byte {
	return bytes.TrimRight(bytes.TrimLeft(s, " \t"), " \t")
}

// key identifies the message across servers: its Message-ID, or, for a
// message without one, a hash of its Date, From and Subject.
func (f *idFields) key() string {
	if id := bytes.Trim(bytes.TrimSpace(f.v[fieldID]), "<>"); len(id) > 0 {
		return idKey(id)
	}
	h := sha256.New()
	h.Write(f.v[fieldDate])
	h.Write([]byte{0})
	h.Write(f.v[fieldFrom])
	h.Write([]byte{0})
	h.Write(f.v[fieldSubject])
	var sum [sha256.Size]byte
	return "h:" + hex.EncodeToString(h.Sum(sum[:0])[:12])
}

// maxKeyID is the longest Message-ID a key holds as it is; a longer one
// (a hostile header's) is held as its hash, so that what the verification
// keeps of a message is bounded whatever the old server sends.
const maxKeyID = 256

// idKey is "id:" + strings.ToLower(string(id)), in one allocation when id
// is ASCII; for an id longer than maxKeyID, "id:sha256:" and a hash of it.
func idKey(id []byte) string {
	if len(id) > maxKeyID {
		sum := sha256.Sum256([]byte(strings.ToLower(string(id))))
		return "id:sha256:" + hex.EncodeToString(sum[:16])
	}
	for _, c := range id {
		if c >= 0x80 {
			return "id:" + strings.ToLower(string(id))
		}
	}
	var sb strings.Builder
	sb.Grow(len("id:") + len(id))
	sb.WriteString("id:")
	for _, c := range id {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// shown decodes what the customer reads of a message: its sender and
// subject (RFC 2047 words decoded) and the date of its Date field.
func (f *idFields) shown() (from, subject string, date time.Time) {
	dec := new(mime.WordDecoder)
	from, _ = dec.DecodeHeader(string(f.v[fieldFrom]))
	subject, _ = dec.DecodeHeader(string(f.v[fieldSubject]))
	date, _ = mail.ParseDate(string(f.v[fieldDate]))
	return from, subject, date
}

// keyOfHead is the key of the message whose bytes begin with head, and
// whether head holds the whole of its header (an empty line ends it within
// maxHeader bytes, or the message is all header). size is the message's
// whole size.
func keyOfHead(head []byte, size int64) (string, bool) {
	f, ended := scanFields(head)
	if !ended && int64(len(head)) < size {
		return "", false // the header goes on beyond what was scanned
	}
	return f.key(), true
}

// key is the key of the message b holds, read from its header while its
// bytes are in memory (one scan of at most maxHeader bytes); false when
// its header is longer than that.
func (b *body) key() (string, bool) {
	switch {
	case len(b.chunks) == 0:
		return keyOfHead(b.tail[:min(len(b.tail), maxHeader)], b.size)
	default:
		if k, ok := keyOfHead(b.chunks[0][:], b.size); ok {
			return k, true
		}
	}
	// A header longer than a chunk: its first maxHeader bytes in one piece.
	head := make([]byte, 0, min(b.size, maxHeader))
	for _, c := range b.chunks {
		head = append(head, c[:min(len(c), cap(head)-len(head))]...)
	}
	head = append(head, b.tail[:min(len(b.tail), cap(head)-len(head))]...)
	return keyOfHead(head, b.size)
}
