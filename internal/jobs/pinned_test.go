package jobs_test

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// The runs dial the address validation reached (the pinned address), not
// the host name again: the host the CSV names stops answering after the
// validation, the pinned address is another way to the same server, and
// the run copies through it.
func TestRunsDialThePinnedAddress(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 2)
	anna := f.user(t, "pw-anna", true)
	f.seedMailbox(t, anna, "pw-anna", 30, false)

	var named, pinned atomic.Int32
	var namedOpen atomic.Bool
	namedOpen.Store(true)
	namedAddr := testenv.Proxy(t, f.src.TLSAddr(), func(c, up net.Conn, _ int) {
		named.Add(1)
		if namedOpen.Load() {
			testenv.ProxyPipe(c, up)
		}
	})
	pinnedAddr := testenv.Proxy(t, f.src.TLSAddr(), func(c, up net.Conn, _ int) {
		pinned.Add(1)
		testenv.ProxyPipe(c, up)
	})

	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, namedAddr, anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, namedAddr, lines[0].PinnedAddr, "validation pins the address it reached")

	// From now on the name leads nowhere; the pinned address still does.
	namedOpen.Store(false)
	viaName := named.Load()
	_, err = f.pool.Exec(f.ctx, `UPDATE migration_lines SET pinned_addr = $1 WHERE id = $2`, pinnedAddr, lines[0].ID)
	require.NoError(t, err)

	f.startNow(t, rc, runs[0])
	r := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	require.Equal(t, 19, f.mailboxes(t, runs[0].ID)[anna].Copied)
	require.Positive(t, pinned.Load(), "the run dialled the pinned address")
	require.Equal(t, viaName, named.Load(), "the run never dialled the host name")
}
