package jobs_test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// concurrencyProxy forwards to target, holding each new connection for
// hold first, and remembers when each connection was open: from its
// accept to the client's close (its first failed read), the earliest the
// proxy can see it.
type concurrencyProxy struct {
	addr  string
	mu    sync.Mutex
	spans [][2]time.Time
}

// closeSeen reports the client's close to end once.
type closeSeen struct {
	net.Conn
	once sync.Once
	end  func()
}

func (c *closeSeen) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.once.Do(c.end)
	}
	return n, err
}

func newConcurrencyProxy(t *testing.T, target string, hold time.Duration) *concurrencyProxy {
	p := &concurrencyProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		p.mu.Lock()
		i := len(p.spans)
		p.spans = append(p.spans, [2]time.Time{time.Now()})
		p.mu.Unlock()
		end := func() {
			p.mu.Lock()
			p.spans[i][1] = time.Now()
			p.mu.Unlock()
		}
		cc := &closeSeen{Conn: c, end: end}
		defer cc.once.Do(end)
		time.Sleep(hold)
		testenv.ProxyPipe(cc, up)
	})
	return p
}

// most is the most connections open at once. Each connection's end is
// taken back by closeLag: on a loaded machine the proxy may read the
// client's close a few milliseconds after the client, whose slot is then
// free, opened the next connection (seen in a fresh-clone CI as a cap of
// 3 "passed" with 4). Every connection here lasts at least the hold
// (150 ms), so a line really above the cap overlaps the others far longer.
func (p *concurrencyProxy) most() int {
	const closeLag = 25 * time.Millisecond
	p.mu.Lock()
	defer p.mu.Unlock()
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, s := range p.spans {
		end := s[1]
		if end.IsZero() {
			end = time.Now()
		}
		edges = append(edges, edge{s[0], +1}, edge{end.Add(-closeLag), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.d - b.d // an end before a start at the same instant
	})
	now, most := 0, 0
	for _, e := range edges {
		now += e.d
		most = max(most, now)
	}
	return most
}

// A validation reaches the per-host cap on the old server and never goes
// above it, and the rest of a line's check (the database, the test login
// to our own server) does not hold the old server's slot: our server sees
// more lines at once than the old server's cap.
func TestValidateHoldsTheHostSlotOnlyForTheRemote(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.PerHostLimit = 3
	old := newConcurrencyProxy(t, f.src.TLSAddr(), 150*time.Millisecond)
	ours := newConcurrencyProxy(t, f.dst.TLSAddr(), 150*time.Millisecond)
	f.deps.Dest.Host = ours.addr
	var csv strings.Builder
	for range 15 {
		u := f.user(t, "pw", true)
		fmt.Fprintf(&csv, "%s;%s;%s;pw\n", u, old.addr, u)
	}
	m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	f.work(t, m)
	require.Empty(t, f.lineErrors(t, m))
	require.Equal(t, 3, old.most(), "the old server's cap, reached and never passed")
	require.Greater(t, ours.most(), 3, "our server's logins are not held to the old server's cap")
}
