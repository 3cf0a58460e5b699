package jobs_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// concurrencyProxy forwards to target, holding each new connection for
// hold first, and remembers the most connections open at once. A
// connection counts as open once it has lasted settleOpen, as a
// silentServer's does: the client closes a connection before it lets its
// slot go, but on a loaded machine the proxy may see that close after the
// slot's next line connected (seen in a fresh-clone CI as a cap of 3
// "passed" with 4). A line really above the cap holds its connection the
// whole hold, and is counted.
type concurrencyProxy struct {
	addr string
	mu   sync.Mutex
	now  int
	max  int
}

func newConcurrencyProxy(t *testing.T, target string, hold time.Duration) *concurrencyProxy {
	require.Greater(t, hold, settleOpen, "a connection must last beyond settleOpen to be counted")
	p := &concurrencyProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		time.Sleep(settleOpen)
		p.mu.Lock()
		p.now++
		p.max = max(p.max, p.now)
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.now--
			p.mu.Unlock()
		}()
		time.Sleep(hold - settleOpen)
		testenv.ProxyPipe(c, up)
	})
	return p
}

func (p *concurrencyProxy) most() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
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
