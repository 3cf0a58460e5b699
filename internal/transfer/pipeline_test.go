package transfer_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// rewriteProxy forwards to target, replacing old by new in what the client
// sends; once the client has sent an APPEND, it delays the server's answers
// by delay.
func rewriteProxy(t *testing.T, target, old, new string, delay time.Duration) string {
	t.Helper()
	return testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		var appending atomic.Bool
		go delayedCopy(c, up, func() time.Duration {
			if appending.Load() {
				return delay
			}
			return 0
		})
		var carry []byte
		b := make([]byte, 32<<10)
		for {
			n, err := c.Read(b)
			if n > 0 {
				if bytes.Contains(b[:n], []byte(" APPEND ")) {
					appending.Store(true)
				}
				buf := bytes.ReplaceAll(append(carry, b[:n]...), []byte(old), []byte(new))
				// Keep what may be the beginning of old for the next read.
				keep := 0
				for k := min(len(old)-1, len(buf)); k > 0; k-- {
					if bytes.HasSuffix(buf, []byte(old[:k])) {
						keep = k
						break
					}
				}
				if _, werr := up.Write(buf[:len(buf)-keep]); werr != nil {
					return
				}
				carry = append([]byte(nil), buf[len(buf)-keep:]...)
			}
			if err != nil {
				return
			}
		}
	})
}

// delayedCopy copies src to dst, each chunk delay() after it was read.
func delayedCopy(dst io.WriteCloser, src io.Reader, delay func() time.Duration) {
	type chunk struct {
		due time.Time
		b   []byte
	}
	q := make(chan chunk, 1<<16)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{time.Now().Add(delay()), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
}

// A message the destination refuses inside a MULTIAPPEND fails the whole
// command: its companions are appended again one by one, and only it fails.
func TestRefusedMessageInAGroupIsRetriedAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ms := msgs(101, 0, 60, 3000)
	// Dovecot refuses keywords over 50 characters; the source cannot hold
	// one either, so the proxy lengthens this one on its way.
	const refused = 45
	ms[refused].Flags = append(ms[refused].Flags, "$Refuse")
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", ms...)

	job := f.job(transfer.NewMemoryCheckpoints(), nil)
	rep := &logRec{}
	job.Reporter = rep
	// Answers to APPENDs come 500ms late: the engine sends a command for
	// each message ready (a group when several are), up to its window of
	// 32; while it waits for answers the source gets ahead, so the message
	// is sent in a group even when the source is slow (under -race).
	job.Dest.Host = rewriteProxy(t, f.dst.PlainAddr(), "$Refuse", "$Refuse"+strings.Repeat("x", 60), 500*time.Millisecond)
	job.Dest.TLS = transfer.TLSNone
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err, rep.text())
	require.Equal(t, 59, res.Copied, rep.text())
	require.Equal(t, 1, res.Failed)
	require.Contains(t, rep.text(), "one by one")
	require.Contains(t, rep.text(), "refused by the destination")
	require.Contains(t, rep.text(), "Keyword length too long")

	got := readFolder(t, f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()), "INBOX")
	require.Len(t, got, 59)
	require.NotContains(t, got, messageID(ms[refused].Raw))
}

// With one destination connection the engine appends through go-imap, as
// it does with a server without LITERAL+.
func TestOneDestinationConnectionAppendsThroughGoIMAP(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	job := f.job(transfer.NewMemoryCheckpoints(), nil)
	job.DestConns = 1
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, 48, res.Copied)
	requireSameMail(t, f, wantMapping)
}
