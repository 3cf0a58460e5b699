package transfer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

func TestWireLexer(t *testing.T) {
	t.Parallel()
	const maxLine, maxLit = 512, 1000
	body := func(n int) string { return strings.Repeat("x", n) }
	tooLong := &LineTooLongError{Limit: maxLine}
	for _, tc := range []struct {
		name   string
		stream string
		want   error
	}{
		{"short lines", "* OK ready\r\nA1 OK done\r\n", nil},
		{"a line at the limit", "* " + strings.Repeat("a", maxLine-4) + "\r\n", nil},
		{"a line over the limit", "* " + strings.Repeat("a", maxLine-1), tooLong},
		{"many lines, each short", strings.Repeat("* 1 EXISTS\r\n", 100), nil},
		{"a body literal is not counted", "* 1 FETCH (BODY[] {900}\r\n" + body(900) + " UID 1)\r\n", nil},
		{"BODY[TEXT], a part, a partial, RFC822, BINARY", "* 1 FETCH (BODY[TEXT] {900}\r\n" + body(900) + " BODY[1.2] {900}\r\n" + body(900) +
			" BODY[]<0> {900}\r\n" + body(900) + " RFC822 {900}\r\n" + body(900) + " BINARY[1] ~{900}\r\n" + body(900) + ")\r\n", nil},
		{"a non-synchronising literal", "* 2 fetch (UID 2 BODY[] {900+}\r\n" + body(900) + ")\r\n", nil},
		{"a body literal over the cap", "* 1 FETCH (BODY[] {1001}\r\n" + body(1001) + ")\r\n", &LiteralTooLargeError{Size: 1001, Limit: maxLit, SeqNum: 1}},
		{"its UID, when it comes first", "* 12 FETCH (UID 345 RFC822.SIZE 900 BODY[] {1001}\r\n", &LiteralTooLargeError{Size: 1001, Limit: maxLit, SeqNum: 12, UID: 345}},
		{"its UID, after another literal", "* 12 FETCH (BODY[HEADER] {3}\r\nabc UID 345 BODY[] {1001}\r\n", &LiteralTooLargeError{Size: 1001, Limit: maxLit, SeqNum: 12, UID: 345}},
		{"an absurd literal", "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", &LiteralTooLargeError{Size: math.MaxInt64, Limit: maxLit, SeqNum: 1}},
		{"a mailbox name literal counts in its line", "* LIST () \"/\" {600}\r\n" + body(600) + "\r\n", tooLong},
		{"a header literal counts in its line", "* 1 FETCH (BODY[HEADER] {600}\r\n" + body(600) + ")\r\n", tooLong},
		{"a literal outside a FETCH counts", "* OK BODY[] {600}\r\n" + body(600) + "\r\n", tooLong},
		{"a small header literal passes", "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] {10}\r\n" + body(10) + ")\r\n", nil},
		{"bytes after a literal are the same line", "* 1 FETCH (BODY[] {5}\r\n" + body(5) + strings.Repeat(" ", maxLine), tooLong},
		{"a lone LF ends a line", strings.Repeat("* 1 EXISTS\n", 100), nil},
		{"a '(' in * CAPABILITY", "* CAPABILITY IMAP4rev1 (\r\n", &WireSyntaxError{Reason: "a '(' in a capability list"}},
		{"a '(' in * ENABLED", "* enabled (\r\n", &WireSyntaxError{Reason: "a '(' in a capability list"}},
		{"a '(' in a [CAPABILITY] code", "A1 OK [CAPABILITY IMAP4rev1 (] x\r\n", &WireSyntaxError{Reason: "a '(' in a capability list"}},
		{"a '(' after the [CAPABILITY] code", "* OK [CAPABILITY IMAP4rev1 " + strings.Repeat("X-CAP ", 30) + "] Logged in (0.001 secs)\r\n", nil},
		{"parens elsewhere", "* 1 FETCH (FLAGS (\\Seen))\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\n", nil},
		{"a tag over 64 bytes", strings.Repeat("T", 65) + " OK [CAPABILITY (\r\n", &WireSyntaxError{Reason: "a tag over 64 bytes"}},
		{"braces that are no literal", "* OK {not a literal}\r\n* OK {}\r\n* OK {12a}\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The result must not depend on how the stream is cut into reads.
			for _, step := range []int{len(tc.stream), 1, 7, 4096} {
				l := newWireLexer(maxLine, maxLit)
				var err error
				for s := tc.stream; s != "" && err == nil; {
					n := min(step, len(s))
					err = l.feed([]byte(s[:n]))
					s = s[n:]
				}
				require.Equal(t, tc.want, err, "reads of %d", step)
			}
		})
	}
}

// scriptServer is a loopback IMAP server that follows a script: a greeting,
// then an answer per command verb ("UID FETCH" is "FETCH"). CAPABILITY,
// LOGIN and LOGOUT have ordinary answers unless the script says otherwise.
type scriptServer struct {
	greeting func(w *bufio.Writer)
	caps     string
	on       map[string]func(w io.Writer, tag string)

	ln net.Listener
	wg sync.WaitGroup
}

func (sc *scriptServer) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sc.ln = ln
	sc.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			sc.wg.Go(func() {
				defer c.Close()
				sc.serve(c)
			})
		}
	})
	t.Cleanup(sc.stop)
	return ln.Addr().String()
}

// stop closes the listener and waits for every connection's goroutine.
func (sc *scriptServer) stop() {
	sc.ln.Close()
	sc.wg.Wait()
}

func (sc *scriptServer) serve(c net.Conn) {
	w := bufio.NewWriter(c)
	if sc.greeting != nil {
		sc.greeting(w)
	} else {
		fmt.Fprintf(w, "* OK [CAPABILITY %s] ready\r\n", sc.capsOr())
	}
	w.Flush()
	br := bufio.NewReader(c)
	for {
		line, err := readCommand(br)
		if err != nil {
			return
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return
		}
		tag, verb := fields[0], strings.ToUpper(fields[1])
		if verb == "UID" && len(fields) > 2 {
			verb = strings.ToUpper(fields[2])
		}
		if f, ok := sc.on[verb]; ok {
			f(w, tag)
		} else {
			switch verb {
			case "CAPABILITY":
				fmt.Fprintf(w, "* CAPABILITY %s\r\n%s OK done\r\n", sc.capsOr(), tag)
			case "LOGOUT":
				fmt.Fprintf(w, "* BYE bye\r\n%s OK done\r\n", tag)
			default:
				fmt.Fprintf(w, "%s OK done\r\n", tag)
			}
		}
		if w.Flush() != nil || verb == "LOGOUT" {
			return
		}
	}
}

func (sc *scriptServer) capsOr() string {
	if sc.caps != "" {
		return sc.caps
	}
	return "IMAP4rev1 LITERAL+"
}

// readCommand reads one command line, with the literals in it, and returns
// it without them.
func readCommand(br *bufio.Reader) (string, error) {
	var out strings.Builder
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = strings.TrimRight(l, "\r\n")
		n, ok := trailingLiteral([]byte(l))
		if !ok {
			out.WriteString(l)
			return out.String(), nil
		}
		out.WriteString(l[:strings.LastIndexByte(l, '{')])
		if _, err := io.CopyN(io.Discard, br, n); err != nil {
			return "", err
		}
	}
}

// writeRepeat writes n bytes of c, a chunk at a time (the server's own
// memory stays small); it stops at the first failed write.
func writeRepeat(w io.Writer, c byte, n int64) {
	chunk := []byte(strings.Repeat(string(c), 32<<10))
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

// writeGarbage writes n random bytes, a chunk at a time, without a LF when
// noLF is set.
func writeGarbage(w io.Writer, n int64, noLF bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 32<<10)
	for n > 0 {
		for i := range chunk {
			chunk[i] = byte(rng.Uint32())
			if noLF && chunk[i] == '\n' {
				chunk[i] = ' '
			}
		}
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

// bounded runs f and checks that it allocated less than maxAlloc bytes in
// all (the peak cannot be higher) and left no goroutine behind once the
// server sc has wound down.
func bounded(t *testing.T, sc *scriptServer, maxAlloc uint64, f func()) {
	t.Helper()
	runtime.GC()
	before := runtime.NumGoroutine()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	sc.stop()
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("allocated %d KiB", alloc>>10)
	require.Less(t, alloc, maxAlloc, "allocated %d MiB", alloc>>20)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before }, 10*time.Second, 10*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

func scriptEndpoint(addr string) Endpoint {
	return Endpoint{Host: addr, TLS: TLSNone, User: "anna", Password: "pw"}
}

// The hostile servers' rows: a bound passed is a typed error, memory stays
// far below what the server sends, and nothing is left running.
func TestWireBoundsAgainstScriptedServers(t *testing.T) {
	ctx := context.Background()
	t.Run("a 64 MiB LIST line", func(t *testing.T) {
		sc := &scriptServer{on: map[string]func(io.Writer, string){
			"LIST": func(w io.Writer, tag string) {
				io.WriteString(w, `* LIST () "/" `)
				writeRepeat(w, 'a', 64<<20)
				fmt.Fprintf(w, "\r\n%s OK done\r\n", tag)
			},
		}}
		addr := sc.start(t)
		bounded(t, sc, 40<<20, func() {
			_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, true)
			var lerr *LineTooLongError
			require.ErrorAs(t, err, &lerr, "%v", err)
			require.EqualValues(t, DefaultMaxLine, lerr.Limit)
		})
	})
	t.Run("a greeting of 64 MiB", func(t *testing.T) {
		sc := &scriptServer{greeting: func(w *bufio.Writer) {
			io.WriteString(w, "* OK ")
			writeRepeat(w, 'x', 64<<20)
			io.WriteString(w, "\r\n")
		}}
		addr := sc.start(t)
		bounded(t, sc, 40<<20, func() {
			_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, false)
			var lerr *LineTooLongError
			require.ErrorAs(t, err, &lerr, "%v", err)
		})
	})
	t.Run("a 40 MiB literal declared as 900 bytes", func(t *testing.T) {
		sc := &scriptServer{on: map[string]func(io.Writer, string){
			"EXAMINE": func(w io.Writer, tag string) {
				fmt.Fprintf(w, "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n%s OK [READ-ONLY] done\r\n", tag)
			},
			"FETCH": func(w io.Writer, tag string) {
				fmt.Fprintf(w, "* 1 FETCH (UID 1 RFC822.SIZE 900 BODY[] {%d}\r\n", 40<<20)
				writeRepeat(w, 'x', 40<<20)
				fmt.Fprintf(w, ")\r\n%s OK done\r\n", tag)
			},
		}}
		addr := sc.start(t)
		bounded(t, sc, 16<<20, func() {
			s, err := dial(ctx, SideSource, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, func(i18n.Msg) {})
			require.NoError(t, err)
			defer s.Close()
			_, err = s.c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
			require.NoError(t, err)
			cmd := s.c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
			for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
				_, _ = msg.Collect()
			}
			err = s.cause(cmd.Close())
			var lerr *LiteralTooLargeError
			require.ErrorAs(t, err, &lerr, "%v", err)
			require.EqualValues(t, 40<<20, lerr.Size)
			require.EqualValues(t, 1, lerr.UID)
			require.EqualValues(t, DefaultMaxMessageSize+literalSlack, lerr.Limit)
		})
	})
	// go-imap spins for ever, reading nothing, on a '(' in a capability
	// list (found by FuzzGoIMAPOverWire): the read fails before it can.
	for name, sc := range map[string]*scriptServer{
		"a '(' in the greeting's capabilities": {greeting: func(w *bufio.Writer) { io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 (] ready\r\n") }},
		"a '(' in CAPABILITY's answer": {greeting: func(w *bufio.Writer) { io.WriteString(w, "* OK ready\r\n") }, on: map[string]func(io.Writer, string){
			"CAPABILITY": func(w io.Writer, tag string) { fmt.Fprintf(w, "* CAPABILITY IMAP4rev1 (\r\n%s OK done\r\n", tag) },
		}},
	} {
		t.Run(name, func(t *testing.T) {
			addr := sc.start(t)
			bounded(t, sc, 8<<20, func() {
				_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, false)
				var serr *WireSyntaxError
				require.ErrorAs(t, err, &serr, "%v", err)
			})
		})
	}
	t.Run("garbage for a greeting", func(t *testing.T) {
		sc := &scriptServer{greeting: func(w *bufio.Writer) { writeGarbage(w, 16<<20, true) }}
		addr := sc.start(t)
		bounded(t, sc, 40<<20, func() {
			_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, false)
			require.Error(t, err)
		})
	})
	t.Run("garbage for a LIST", func(t *testing.T) {
		sc := &scriptServer{on: map[string]func(io.Writer, string){
			"LIST": func(w io.Writer, tag string) { writeGarbage(w, 16<<20, false) },
		}}
		addr := sc.start(t)
		bounded(t, sc, 40<<20, func() {
			_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{}, true)
			require.Error(t, err)
		})
	})
	t.Run("the pipelined appender and a 64 MiB answer", func(t *testing.T) {
		sc := &scriptServer{on: map[string]func(io.Writer, string){
			"APPEND": func(w io.Writer, tag string) {
				io.WriteString(w, "* OK ")
				writeRepeat(w, 'a', 64<<20)
				fmt.Fprintf(w, "\r\n%s OK [APPENDUID 1 1] done\r\n", tag)
			},
		}}
		addr := sc.start(t)
		bounded(t, sc, 40<<20, func() {
			p, err := dialPipe(ctx, scriptEndpoint(addr), Timeouts{}, false)
			require.NoError(t, err)
			defer p.Close()
			var got []error
			err = p.appendStream(ctx, "INBOX", singleBatch, feed(testItems(1, 100)), func(item) {}, func(_ meta, _ uint32, err error) { got = append(got, err) })
			var lerr *LineTooLongError
			require.ErrorAs(t, err, &lerr, "%v", err)
			require.Empty(t, got, "no message is said to be saved")
			require.False(t, p.usable())
		})
	})
	t.Run("the pipelined appender and a 40 MiB literal", func(t *testing.T) {
		sc := &scriptServer{on: map[string]func(io.Writer, string){
			"APPEND": func(w io.Writer, tag string) {
				fmt.Fprintf(w, "* 1 FETCH (BODY[] {%d}\r\n", 40<<20)
				writeRepeat(w, 'x', 40<<20)
				fmt.Fprintf(w, ")\r\n%s OK done\r\n", tag)
			},
		}}
		addr := sc.start(t)
		bounded(t, sc, 16<<20, func() {
			p, err := dialPipe(ctx, scriptEndpoint(addr), Timeouts{}, false)
			require.NoError(t, err)
			defer p.Close()
			err = p.appendStream(ctx, "INBOX", singleBatch, feed(testItems(1, 100)), func(item) {}, func(meta, uint32, error) {})
			require.True(t, errors.As(err, new(*LiteralTooLargeError)), "%v", err)
		})
	})
}
