package transfer_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// firstExpected is a hostileLog that keeps the first total the copy
// reported before its first body.
type firstExpected struct {
	*hostileLog
	mu    sync.Mutex
	first int
}

func (f *firstExpected) Progress(p transfer.Progress) {
	f.mu.Lock()
	if f.first == 0 {
		f.first = p.Expected
	}
	f.mu.Unlock()
	f.hostileLog.Progress(p)
}

// A server that announces LIST-STATUS and then refuses a LIST asking for
// it (BAD), or drops the connection on it, is listed the plain way and
// counted with a STATUS per folder, as before: the copy is whole, its
// total known from the start.
func TestHostileListStatusFailsPlainListing(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"bad", "drop"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			hook := func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
				if cmd.Name != "LIST" || !strings.Contains(strings.ToUpper(cmd.Args), "STATUS") {
					return false
				}
				if fault == "drop" {
					c.Close()
					return true
				}
				c.Printf("%s BAD Unknown return option\r\n", cmd.Tag)
				return true
			}
			h := hostileSetup(t, testenv.HostileOptions{Hook: hook}, standardFolders()...)
			job := h.job()
			rep := &firstExpected{hostileLog: h.rep}
			job.Reporter = rep
			res, err, _ := h.run(t, job)
			require.NoError(t, err)
			require.True(t, res.Complete())
			requireLedger(t, res, foundN)
			require.Equal(t, foundN, res.Copied)
			require.Equal(t, foundN, rep.first, "the total from a STATUS per folder")
			var lists, statuses int
			for _, c := range h.srv.Commands() {
				switch c.Name {
				case "LIST":
					lists++
				case "STATUS":
					statuses++
				}
			}
			require.Equal(t, 2, lists, "the LIST-STATUS, then a plain LIST")
			require.Equal(t, 3, statuses, "INBOX, Lavoro, Sent")
			require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t),
				map[string]string{"INBOX": "INBOX", "Lavoro": "Lavoro", "Sent": "Sent"}))
			requireReadOnly(t, h.srv)
		})
	}
}

// The well-behaved server answers the counts in its LIST: no STATUS.
func TestHostileListStatusCounts(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{}, standardFolders()...)
	job := h.job()
	rep := &firstExpected{hostileLog: h.rep}
	job.Reporter = rep
	res, err, _ := h.run(t, job)
	require.NoError(t, err)
	require.Equal(t, foundN, res.Copied)
	require.Equal(t, foundN, rep.first)
	for _, c := range h.srv.Commands() {
		require.NotEqual(t, "STATUS", c.Name)
	}
}
