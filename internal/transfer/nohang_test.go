package transfer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

// A server that never answers LOGOUT holds neither client: Close returns
// (the test would hang otherwise) and leaves no goroutine behind.
func TestCloseDoesNotWaitForLogout(t *testing.T) {
	ctx := context.Background()
	silentLogout := map[string]func(io.Writer, string){"LOGOUT": func(io.Writer, string) {}}
	to := Timeouts{Command: 300 * time.Millisecond}
	t.Run("go-imap", func(t *testing.T) {
		sc := &scriptServer{on: silentLogout}
		addr := sc.start(t)
		bounded(t, sc, 8<<20, func() {
			s, err := dial(ctx, SideSource, PresetStandardNoSSL, scriptEndpoint(addr), to, func(i18n.Msg) {})
			require.NoError(t, err)
			s.Close()
		})
	})
	t.Run("pipelined", func(t *testing.T) {
		sc := &scriptServer{on: silentLogout}
		addr := sc.start(t)
		bounded(t, sc, 8<<20, func() {
			p, err := dialPipe(ctx, scriptEndpoint(addr), to, false)
			require.NoError(t, err)
			p.Close()
			require.False(t, p.usable())
		})
	})
}

// A greeting that never comes, or comes a byte at a time for ever, ends
// the dial with a timeout, for both clients.
func TestGreetingIsBounded(t *testing.T) {
	ctx := context.Background()
	to := Timeouts{Dial: 300 * time.Millisecond}
	for _, tc := range []struct {
		name     string
		greeting func(w *bufio.Writer)
	}{
		{"silent", func(*bufio.Writer) {}},
		{"dripping", func(w *bufio.Writer) {
			w.WriteString("* OK ")
			for {
				w.WriteByte('x')
				if w.Flush() != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, client := range []struct {
				name string
				dial func(addr string) error
			}{
				{"go-imap", func(addr string) error {
					_, err := Check(ctx, PresetStandardNoSSL, scriptEndpoint(addr), to, false)
					return err
				}},
				{"pipelined", func(addr string) error {
					_, err := dialPipe(ctx, scriptEndpoint(addr), to, false)
					return err
				}},
			} {
				t.Run(client.name, func(t *testing.T) {
					sc := &scriptServer{greeting: tc.greeting}
					addr := sc.start(t)
					bounded(t, sc, 8<<20, func() {
						err := client.dial(addr)
						ce, ok := IsConnError(err)
						if !ok {
							ce = classifyDial(SideDestination, addr, err)
						}
						require.Equal(t, ReasonTimeout, ce.Reason, "%v / %#v", err, ce.Err)
					})
				})
			}
		})
	}
}

// A panic in either side of appendStream (here: release, called by its
// writer goroutine, and done, called by its reader) is an error, with the
// connection cut and no goroutine left.
func TestAppendStreamRecoversPanics(t *testing.T) {
	ok := map[string]func(io.Writer, string){"APPEND": func(w io.Writer, tag string) { io.WriteString(w, tag+" OK [APPENDUID 1 1] done\r\n") }}
	for _, side := range []string{"writer", "reader"} {
		t.Run(side, func(t *testing.T) {
			sc := &scriptServer{on: ok}
			addr := sc.start(t)
			bounded(t, sc, 8<<20, func() {
				p, err := dialPipe(context.Background(), scriptEndpoint(addr), Timeouts{}, false)
				require.NoError(t, err)
				defer p.Close()
				release, done := func(item) {}, func(meta, uint32, error) {}
				if side == "writer" {
					release = func(item) { panic("boom in release") }
				} else {
					done = func(meta, uint32, error) { panic("boom in done") }
				}
				err = p.appendStream(context.Background(), "INBOX", singleBatch, feed(testItems(3, 100)), release, done)
				var perr *PanicError
				require.True(t, errors.As(err, &perr), "%v", err)
				require.Contains(t, perr.Error(), "boom")
				require.NotEmpty(t, perr.Stack)
				require.False(t, p.usable())
			})
		})
	}
}

// go-imap's reader waits, for ever, for a FETCH literal to be read to its
// end before it reads anything else; a copy that gives up on a message
// half-way and closes the session must not wait with it. Close returns and
// the connection is cut (the server's goroutine ends); go-imap's reader
// stays parked until the literal is read, which is why the engine drains a
// literal it abandons.
func TestCloseWithAnAbandonedLiteral(t *testing.T) {
	sc := &scriptServer{on: map[string]func(io.Writer, string){
		"EXAMINE": func(w io.Writer, tag string) {
			io.WriteString(w, "* 1 EXISTS\r\n"+tag+" OK [READ-ONLY] done\r\n")
		},
		"FETCH": func(w io.Writer, tag string) {
			io.WriteString(w, "* 1 FETCH (UID 1 BODY[] {1000}\r\n")
			writeRepeat(w, 'x', 500)
		},
		"LOGOUT": func(io.Writer, string) {},
	}}
	addr := sc.start(t)
	s, err := dial(context.Background(), SideSource, PresetStandardNoSSL, scriptEndpoint(addr), Timeouts{Command: 300 * time.Millisecond}, func(i18n.Msg) {})
	require.NoError(t, err)
	_, err = s.c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	cmd := s.c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	msg := cmd.Next()
	require.NotNil(t, msg)
	var body imapclient.FetchItemDataBodySection
	for it := msg.Next(); it != nil; it = msg.Next() {
		if b, ok := it.(imapclient.FetchItemDataBodySection); ok {
			body = b
			break
		}
	}
	require.NotNil(t, body.Literal)
	_, err = io.ReadFull(body.Literal, make([]byte, 10))
	require.NoError(t, err)
	s.Close() // with the literal half read
	sc.stop()
	// Reading what is left now fails at once, and frees go-imap's reader.
	_, err = io.Copy(io.Discard, body.Literal)
	require.Error(t, err)
}
