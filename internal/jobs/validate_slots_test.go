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
// hold first, and remembers the most connections open at once.
type concurrencyProxy struct {
	addr string
	mu   sync.Mutex
	now  int
	max  int
}

func newConcurrencyProxy(t *testing.T, target string, hold time.Duration) *concurrencyProxy {
	p := &concurrencyProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		p.mu.Lock()
		p.now++
		p.max = max(p.max, p.now)
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.now--
			p.mu.Unlock()
		}()
		time.Sleep(hold)
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
