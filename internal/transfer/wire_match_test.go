package transfer

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expressions the lexer's scanners (wireconn.go) replace, kept as
// their specification: every scanner must answer as its expression does,
// on any bytes.
var (
	capsStartRE = regexp.MustCompile(`^(?:\* (?i:CAPABILITY|ENABLED)|[^ ]{1,64} (?i:OK|NO|BAD|PREAUTH|BYE) \[(?i:CAPABILITY))`)
	fetchHeadRE = regexp.MustCompile(`^\* ([0-9]+) (?i:FETCH) `)
	fetchUIDRE  = regexp.MustCompile(`[ (](?i:UID) ([0-9]+)[ )]`)
	bodyItemRE  = regexp.MustCompile(`(?i)(?:(?:^|[ (])(?:BODY|BINARY)\[[0-9.]*(?:TEXT)?\](?:<[0-9]+>)?|(?:^|[ (])RFC822(?:\.TEXT)?) ?$`)
)

// sameAsExpressions fails t where a scanner and its expression disagree
// on b.
func sameAsExpressions(t *testing.T, b []byte) {
	t.Helper()
	want := -1
	if m := capsStartRE.FindIndex(b); m != nil {
		want = m[1]
	}
	require.Equal(t, want, capsStart(b), "capsStart(%q)", b)

	var wantSeq []byte
	m := fetchHeadRE.FindSubmatch(b)
	if m != nil {
		wantSeq = m[1]
	}
	seq, ok := fetchHead(b)
	require.Equal(t, m != nil, ok, "fetchHead(%q)", b)
	require.Equal(t, string(wantSeq), string(seq), "fetchHead(%q)", b)

	var wantUID []byte
	m = fetchUIDRE.FindSubmatch(b)
	if m != nil {
		wantUID = m[1]
	}
	uid, ok := fetchUID(b)
	require.Equal(t, m != nil, ok, "fetchUID(%q)", b)
	require.Equal(t, string(wantUID), string(uid), "fetchUID(%q)", b)

	require.Equal(t, bodyItemRE.Match(b), isBodyItem(b), "isBodyItem(%q)", b)
}

var matchSeeds = []string{
	"* CAPABILITY IMAP4rev1 LITERAL+",
	"* capability imap4rev1",
	"* ENABLED UTF8=ACCEPT",
	"* OK [CAPABILITY IMAP4rev1] ready",
	"* o\u212a [capability IMAP4rev1] Kelvin's K folds to k",
	"A1 PREAUTH [CAPABILITY IMAP4rev1] hi",
	"P12 BYE [CAPABILITY X] bye",
	"P1 NO [CAPABILITYX",
	"P1 BAD [CAP",
	"\xff\xfe OK [CAPABILITY",
	"\u00e9\u00e9\u00e9 OK [CAPABILITY",
	"0123456789012345678901234567890123456789012345678901234567890123 OK [CAPABILITY",
	"01234567890123456789012345678901234567890123456789012345678901234 OK [CAPABILITY",
	" OK [CAPABILITY",
	"* 12 FETCH (UID 7 BODY[] ",
	"* 12 fetch (uid 7 body[] ",
	"* FETCH ",
	"* 1 FETCH",
	"* 4294967296 FETCH (UID 4294967296)",
	"(UID 7 ",
	" UID 7)",
	" UID 7",
	"UID 7 ",
	"x(UID 8 (UID 9 ",
	" UID  7 ",
	" UID 7a UID 8)",
	"BODY[]",
	"BODY[] ",
	"BODY[]  ",
	"(BODY[TEXT]",
	" binary[1.2]<0>",
	" BODY[1.2.TEXT]<12> ",
	" BODY[1.2.TEXT]<> ",
	" BODY[1.2.TEXT]<1",
	" BODY[HEADER]",
	" BODY[1.MIME]",
	"xBODY[]",
	" RFC822",
	"(rfc822.text ",
	" RFC822.SIZE",
	" RFC822.HEADER",
	"XRFC822",
	"]",
	"[]",
	"<1>",
	" BODY[]<1>",
	"* 1 FETCH (BINARY[1] ~",
	"",
	"*",
	"* ",
}

// TestScannersMatchTheirExpressions: the lexer's scanners answer as the
// expressions they replace, on the lines servers send and on their edges.
func TestScannersMatchTheirExpressions(t *testing.T) {
	t.Parallel()
	for _, s := range append(matchSeeds, wireSeeds...) {
		sameAsExpressions(t, []byte(s))
	}
	// What the lexer decides with them.
	require.Equal(t, len("* OK [CAPABILITY"), capsStart([]byte("* OK [CAPABILITY IMAP4rev1] x")))
	require.Equal(t, -1, capsStart([]byte("* OK ready")))
	seq, uid := fetchIDs([]byte("* 12 FETCH (FLAGS () "), []byte(" UID 7 BODY[] "))
	require.Equal(t, [2]uint32{12, 7}, [2]uint32{seq, uid})
	require.True(t, isBodyItem([]byte("* 1 FETCH (UID 1 BODY[]")))
	require.False(t, isBodyItem([]byte("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)]")))
}

// FuzzWireMatchers: on any bytes, every scanner answers as its
// expression.
func FuzzWireMatchers(f *testing.F) {
	for _, s := range append(matchSeeds, wireSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsExpressions(t, b)
	})
}

// BenchmarkWireLexer: what the bounds cost per message on a body FETCH's
// stream (20 KB bodies, read 4 KiB at a time as go-imap reads).
func BenchmarkWireLexer(b *testing.B) {
	var stream []byte
	body := make([]byte, 20000)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	const msgs = 100
	for i := 1; i <= msgs; i++ {
		stream = fmt.Appendf(stream, "* %d FETCH (UID %d BODY[] {%d}\r\n", i, i+1000, len(body))
		stream = append(stream, body...)
		stream = append(stream, ")\r\n"...)
	}
	stream = append(stream, "T1 OK [CAPABILITY IMAP4rev1] done\r\n"...)
	b.SetBytes(int64(len(stream)) / msgs)
	b.ResetTimer()
	for range b.N / msgs {
		l := newWireLexer(DefaultMaxLine, DefaultMaxMessageSize)
		for s := stream; len(s) > 0; {
			n := min(len(s), 4096)
			if err := l.feed(s[:n]); err != nil {
				b.Fatal(err)
			}
			s = s[n:]
		}
	}
}
