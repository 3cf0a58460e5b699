package transfer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// viaTextproto is how the engine read the identifying fields before
// scanFields: net/textproto's ReadMIMEHeader of the whole header, then the
// first value of each field. err is ReadMIMEHeader's: where it is not nil,
// textproto gave up at a line and the fields after it were lost.
func viaTextproto(raw []byte) (key, from, subject string, date time.Time, err error) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimRight(raw, "\r\n"), "\r\n\r\n"...))))
	h, err := tp.ReadMIMEHeader()
	dec := new(mime.WordDecoder)
	from, _ = dec.DecodeHeader(h.Get("From"))
	subject, _ = dec.DecodeHeader(h.Get("Subject"))
	date, _ = mail.ParseDate(h.Get("Date"))
	if id := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"); id != "" {
		if len(id) > maxKeyID { // bounded since: see idKey
			sum := sha256.Sum256([]byte(strings.ToLower(id)))
			return "id:sha256:" + hex.EncodeToString(sum[:16]), from, subject, date, err
		}
		return "id:" + strings.ToLower(id), from, subject, date, err
	}
	sum := sha256.Sum256([]byte(h.Get("Date") + "\x00" + h.Get("From") + "\x00" + h.Get("Subject")))
	return "h:" + hex.EncodeToString(sum[:12]), from, subject, date, err
}

// viaScan is the same through scanFields, as fetchHeaders calls it.
func viaScan(raw []byte) (key, from, subject string, date time.Time) {
	f, _ := scanFields(bytes.TrimRight(raw, "\r\n"))
	from, subject, date = f.shown()
	return f.key(), from, subject, date
}

// headerOf is the header of a whole message, its empty line left out.
func headerOf(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+2]
	}
	return raw
}

const sampleHeader = "Message-ID: <Abc.123@Example.COM>\r\nDate: Tue, 03 Mar 2026 10:00:00 +0100\r\n" +
	"From: =?utf-8?q?Niccol=C3=B2?= <n@example.com>\r\nSubject: =?utf-8?q?Attivit=C3=A0?=\r\n"

// textprotoReads are headers ReadMIMEHeader reads without error: the scanner
// must give exactly its key, sender, subject and date.
var textprotoReads = map[string]string{
	"plain":                                     sampleHeader,
	"bare LF line ends":                         strings.ReplaceAll(sampleHeader, "\r\n", "\n"),
	"names in other cases":                      "message-id: <x@y>\r\nDATE: Tue, 03 Mar 2026 10:00:00 +0100\r\nfRoM: a@b\r\nsubject: s\r\n",
	"folded values":                             "Subject: a long\r\n subject\r\n\t on three lines\r\nFrom: Anna\r\n  <a@b>\r\nMessage-ID:\r\n <folded@id>\r\n",
	"folded onto an empty first line":           "Subject:\r\n   \r\n  after blanks\r\nDate: Tue, 03 Mar 2026\r\n 10:00:00 +0100\r\n",
	"a blank continuation at the end":           "Subject: s\r\n   \r\nMessage-ID: <x@y>\r\n",
	"blanks around values":                      "Subject: \t  spaced  \t\r\nMessage-ID:   <  x@y  >  \r\nFrom:a@b\r\n",
	"empty values":                              "Subject:\r\nFrom: \r\nMessage-ID:\r\nDate:\r\n",
	"no Message-ID":                             "Date: Tue, 03 Mar 2026 10:00:00 +0100\r\nFrom: a@b\r\nSubject: hello\r\n",
	"no field at all":                           "",
	"duplicated fields: the first counts":       "Message-ID: <first@x>\r\nSubject: one\r\nMessage-ID: <second@x>\r\nSubject: two\r\n  folded\r\n",
	"8-bit bytes":                               "Subject: Attività già svolte \xe0\xe8\r\nFrom: Zoë <z@b>\r\nMessage-ID: <Ünï\xffcode@X>\r\n",
	"8-bit Message-ID in upper case":            "Message-ID: <ÀB\xc3\x28C@Z>\r\n",
	"a space before the colon is another field": "Subject : not the subject\r\nMessage-ID : <not@id>\r\nFrom: a@b\r\n",
	"other fields around":                       "Received: from x\r\n\tby y\r\nX-Subject: no\r\nMessage-IDs: <no@x>\r\n" + sampleHeader + "To: z@b\r\n",
	"huge":                                      "Received: " + strings.Repeat("x", 40<<10) + "\r\nSubject: " + strings.Repeat("long ", 4<<10) + "\r\nMessage-ID: <after-huge@x>\r\n",
	"many folded lines":                         "Subject: a\r\n" + strings.Repeat(" b\r\n", 3000) + "Message-ID: <m@x>\r\n",
	"the body after the empty line":             "Subject: s\r\n\r\nMessage-ID: <in-the-body@x>\r\n",
	"trailing line ends":                        "Subject: s\r\n\r\n\r\n\n",
	"the last line unterminated":                "From: a@b\r\nSubject: no newline",
	"a colon in the value":                      "Subject: Re: Fwd: x\r\nMessage-ID: <a:b@c>\r\n",
}

// TestScanFieldsAsTextproto: the scanner's results are textproto's on every
// header textproto reads, corpus messages included.
func TestScanFieldsAsTextproto(t *testing.T) {
	t.Parallel()
	cases := map[string]string{}
	for name, h := range textprotoReads {
		cases[name] = h
	}
	for i := range 40 {
		cases["corpus "+string(rune('a'+i%26))+string(rune('0'+i/26))] = string(headerOf(testenv.BuildMessage(int64(i), i, 3000+i*500).Raw))
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			key, from, subject, date, err := viaTextproto([]byte(raw))
			require.NoError(t, err, "textproto reads it")
			k, f, s, d := viaScan([]byte(raw))
			require.Equal(t, key, k, "key")
			require.Equal(t, from, f, "from")
			require.Equal(t, subject, s, "subject")
			require.True(t, date.Equal(d), "date %v, want %v", d, date)
		})
	}
	t.Run("the corpus keys are their Message-IDs", func(t *testing.T) {
		m := testenv.BuildMessage(7, 3, 5000)
		k, _, _, _ := viaScan(headerOf(m.Raw))
		require.True(t, strings.HasPrefix(k, "id:corpus-7-3-"), k)
	})
}

// TestScanFieldsWhereTextprotoGivesUp: where ReadMIMEHeader stops at a line
// (and loses every field after it), the scanner reads on.
func TestScanFieldsWhereTextprotoGivesUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, raw, key, subject string
	}{
		{"a line without a colon", "From nobody Tue Mar  3 2026\r\nMessage-ID: <x@y>\r\nSubject: s\r\n", "id:x@y", "s"},
		{"a first line that is a continuation", " stray\r\nMessage-ID: <x@y>\r\n", "id:x@y", ""},
		{"an escape in the subject (raw ISO-2022-JP)", "Subject: \x1b$B$3$s\x1b(B\r\nMessage-ID: <jp@y>\r\n", "id:jp@y", "\x1b$B$3$s\x1b(B"},
		{"a NUL in another field", "X-Bad: a\x00b\r\nMessage-ID: <nul@y>\r\n", "id:nul@y", ""},
		{"a bare CR inside a line", "Subject: a\rb\r\nMessage-ID: <cr@y>\r\n", "id:cr@y", "a\rb"},
		{"an empty field name", ": nothing\r\nMessage-ID: <e@y>\r\n", "id:e@y", ""},
		{"a field name with a control byte", "X\x01: y\r\nMessage-ID: <c@y>\r\n", "id:c@y", ""},
		{"the continuation of a line without a colon", "garbage\r\n Message-ID: <no@y>\r\nSubject: s\r\n", "", "s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, _, err := viaTextproto([]byte(tt.raw))
			require.Error(t, err, "textproto gives up")
			k, _, s, _ := viaScan([]byte(tt.raw))
			if tt.key != "" {
				require.Equal(t, tt.key, k)
			} else {
				require.True(t, strings.HasPrefix(k, "h:"), k)
			}
			require.Equal(t, tt.subject, s)
		})
	}
}

// FuzzScanFields: on any header textproto reads without error, the scanner
// gives textproto's results; on any other, it does not fail.
func FuzzScanFields(f *testing.F) {
	for _, h := range textprotoReads {
		if len(h) < 4096 {
			f.Add([]byte(h))
		}
	}
	f.Add([]byte("Subject: a\rb\r\nMessage-ID: <cr@y>\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		k, fr, s, d := viaScan(raw)
		key, from, subject, date, err := viaTextproto(raw)
		if err != nil {
			return
		}
		if key != k || from != fr || subject != s || !date.Equal(d) {
			t.Fatalf("%q: scanner %q %q %q %v, textproto %q %q %q %v", raw, k, fr, s, d, key, from, subject, date)
		}
	})
}

// TestKeyIsBounded: the key of a message is short whatever its Message-ID
// (the verification keeps one per message read), and still tells a long
// Message-ID from another.
func TestKeyIsBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 60<<10)
	a, b := viaKey("Message-ID: <"+long+"a@X>\r\n"), viaKey("Message-ID: <"+long+"b@X>\r\n")
	require.LessOrEqual(t, len(a), 64)
	require.True(t, strings.HasPrefix(a, "id:"), "a Message-ID still: %s", a)
	require.NotEqual(t, a, b)
	require.Equal(t, a, viaKey("Message-ID: <"+strings.ToUpper(long)+"A@x>\r\n"), "in any case")
	id := strings.Repeat("y", maxKeyID)
	require.Equal(t, "id:"+id, viaKey("Message-ID: <"+id+">\r\n"), "up to maxKeyID as it is")
}

// TestBodyKey: the key taken from a message's bytes as the copy holds them
// is the key of its header, wherever the header ends; a header longer than
// maxHeader gives none (the verification then asks the source).
func TestBodyKey(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return "X-Long: " + strings.Repeat("y", n) + "\r\n" }
	for _, tt := range []struct {
		name string
		raw  string
		key  string // "" for none
	}{
		{"a small message", "Message-ID: <Small@x>\r\n\r\nbody\r\n", "id:small@x"},
		{"a header in the first chunk of a large message", "Message-ID: <big@x>\r\n\r\n" + strings.Repeat("b", 3*chunkSize), "id:big@x"},
		{"a header across chunks", long(chunkSize) + "Message-ID: <across@x>\r\n\r\n" + strings.Repeat("b", chunkSize), "id:across@x"},
		{"a header ending at a chunk's end", long(chunkSize-len("X-Long: \r\n")-len("Message-ID: <edge@x>\r\n")) + "Message-ID: <edge@x>\r\n" + "\r\nbody" + strings.Repeat("b", chunkSize), "id:edge@x"},
		{"a header of almost maxHeader", long(maxHeader-100) + "Message-ID: <near@x>\r\n\r\nbody", "id:near@x"},
		{"a header longer than maxHeader", long(maxHeader) + "Message-ID: <far@x>\r\n\r\nbody", ""},
		{"all header, small", "Message-ID: <only@x>\r\nSubject: s", "id:only@x"},
		{"all header, across chunks", long(2*chunkSize) + "Message-ID: <onlybig@x>\r\n", "id:onlybig@x"},
		{"all header, longer than maxHeader", long(maxHeader+10) + "Message-ID: <onlyhuge@x>\r\n", ""},
		{"no header", "\r\nMessage-ID: <body@x>\r\n", viaKey("")},
		{"bare LF", "Message-ID: <lf@x>\n\nbody\n", "id:lf@x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, ok := bodyOf([]byte(tt.raw)).key()
			if tt.key == "" {
				require.False(t, ok, "no key: %s", k)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.key, k)
		})
	}
}

func viaKey(raw string) string {
	k, _, _, _ := viaScan([]byte(raw))
	return k
}

// BenchmarkHeaderFields: reading the identifying fields of a header, as
// before (textproto, every value decoded) and as now (the key only; the
// rest decoded for the few messages shown).
func BenchmarkHeaderFields(b *testing.B) {
	raw := []byte(sampleHeader + "\r\n")
	b.Run("textproto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _, _, _ = viaTextproto(raw)
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, _ := scanFields(bytes.TrimRight(raw, "\r\n"))
			_ = f.key()
		}
	})
	body := bodyOf(testenv.BuildMessage(1, 1, 20000).Raw)
	b.Run("body", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = body.key()
		}
	})
}
