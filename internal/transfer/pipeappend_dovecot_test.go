package transfer

import (
	"context"
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// latencyProxy forwards to target with delay added in each direction, like
// a distant server.
func latencyProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	return testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		go delayed(up, c, delay)
		delayed(c, up, delay)
	})
}

// delayed copies src to dst, each chunk delay after it was read.
func delayed(dst io.WriteCloser, src io.Reader, delay time.Duration) {
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
				q <- chunk{time.Now().Add(delay), b[:n]}
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

// TestPipeAppendsToDovecot appends through pipeConn to the destination
// Dovecot, logged in every way dial logs in, and reads back what arrived.
func TestPipeAppendsToDovecot(t *testing.T) {
	t.Parallel()
	_, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "pipe.test")
	require.NoError(t, dst.AddUser(user, "own-pàss"))
	admin := dst.Dial(t, user+"*"+dst.MasterUser(), dst.MasterPassword())
	for _, f := range []string{"Clienti/Società", "Posta inviata"} {
		require.NoError(t, admin.Create(f, nil).Wait())
	}

	ends := []struct {
		name   string
		folder string
		e      Endpoint
	}{
		{"implicit TLS, master user with SASL PLAIN", "INBOX",
			Endpoint{Host: dst.TLSAddr(), TLS: TLSImplicit, User: user, AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool(), MasterForm: MasterSASL}},
		{"STARTTLS, master user as user*master", "Clienti/Società",
			Endpoint{Host: dst.PlainAddr(), TLS: TLSStartTLS, User: user, AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool(), MasterForm: MasterSeparator}},
		{"no TLS, the user's own password", "Posta inviata",
			Endpoint{Host: dst.PlainAddr(), TLS: TLSNone, User: user, Password: "own-pàss"}},
	}
	base := 0
	for _, end := range ends {
		t.Run(end.name, func(t *testing.T) {
			p, err := dialPipe(context.Background(), end.e, Timeouts{}, false)
			require.NoError(t, err)
			defer p.Close()
			require.True(t, p.multi, "Dovecot has MULTIAPPEND")

			its := testItems(60, 800, 30000, 5000, 300000)
			for i := range its {
				its[i].m.uid = uint32(base + i + 1)
			}
			base += len(its)
			sums := map[uint32][32]byte{}
			for _, it := range its {
				var b writerBuf
				_, _ = it.body.WriteTo(&b)
				sums[it.m.uid] = sha256.Sum256(b)
			}
			byUID := map[uint32]meta{}
			for _, it := range its {
				byUID[it.m.uid] = it.m
			}
			got := map[uint32]uint32{}
			// Half in MULTIAPPEND batches, half one per command.
			for _, half := range [][]item{its[:30], its[30:]} {
				lim := multiBatch
				if len(got) > 0 {
					lim = singleBatch
				}
				err = p.appendStream(context.Background(), end.folder, lim, feed(half), func(it item) { it.body.free() },
					func(m meta, uid uint32, err error) {
						require.NoError(t, err)
						got[m.uid] = uid
					})
				require.NoError(t, err)
			}
			require.Len(t, got, 60)

			// What the destination holds: each message under the UID
			// APPENDUID gave, byte for byte, with its flags and date.
			sel, err := admin.Select(end.folder, &imap.SelectOptions{ReadOnly: true}).Wait()
			require.NoError(t, err)
			require.Equal(t, uint32(60), sel.NumMessages)
			var all imap.UIDSet
			all.AddRange(1, 0)
			sec := &imap.FetchItemBodySection{Peek: true}
			bufs, err := admin.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
			require.NoError(t, err)
			atUID := map[uint32]int{}
			for i, b := range bufs {
				atUID[uint32(b.UID)] = i
			}
			for src, uid := range got {
				require.NotZero(t, uid)
				b := bufs[atUID[uid]]
				require.Equal(t, sums[src], sha256.Sum256(b.FindBodySection(sec)), "message %d", src)
				require.Equal(t, byUID[src].flags, flagStrings(b.Flags))
				require.True(t, byUID[src].date.Equal(b.InternalDate))
			}
		})
	}
}

type writerBuf []byte

func (w *writerBuf) Write(b []byte) (int, error) { *w = append(*w, b...); return len(b), nil }

// TestPipeKeepsTheLinkFull sends APPENDs over a link with a 50 ms delay
// each way: one at a time they would take a round trip each.
func TestPipeKeepsTheLinkFull(t *testing.T) {
	t.Parallel()
	_, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "pipe.test")
	require.NoError(t, dst.AddUser(user, "x"))
	const delay = 50 * time.Millisecond
	addr := latencyProxy(t, dst.PlainAddr(), delay)
	p, err := dialPipe(context.Background(), Endpoint{Host: addr, TLS: TLSNone, User: user, AuthUser: dst.MasterUser(), Password: dst.MasterPassword()}, Timeouts{}, false)
	require.NoError(t, err)
	defer p.Close()

	const n = 40
	its := testItems(n, 6000) // over 4 KiB: go-imap would wait for "+" on each
	start := time.Now()
	ok := 0
	err = p.appendStream(context.Background(), "INBOX", singleBatch, feed(its), func(item) {},
		func(m meta, uid uint32, err error) {
			require.NoError(t, err)
			require.NotZero(t, uid)
			ok++
		})
	require.NoError(t, err)
	require.Equal(t, n, ok)
	took := time.Since(start)
	require.Less(t, took, n*2*delay/2, "%d APPENDs took %s: not pipelined", n, took)
	t.Logf("%d APPENDs, one per command, over a %s round trip: %s", n, 2*delay, took)
}
