package jobs

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// shownTotals records the mailbox total the reporter would store after
// every snapshot the engine sends: each one, not only those a flush
// happens to catch (every FlushInterval, later on a busy machine).
type shownTotals struct {
	*dbReporter
	mu     sync.Mutex
	totals []int
}

// FolderDone and FolderVerified keep the per-folder figures out of this
// test: its reporter has no database to write them to (the embedded
// dbReporter's would flush to a nil pool).
func (s *shownTotals) FolderDone(transfer.FolderFigures)   {}
func (s *shownTotals) FolderVerified(transfer.FolderCheck) {}

func (s *shownTotals) Progress(p transfer.Progress) {
	s.dbReporter.Progress(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.totals = append(s.totals, s.counters().Total)
}

// A mailbox holding a message over the size limit: STATUS counts it before
// the first body, the copy's total never does. The total stored while the
// copy goes (the page's "almeno N") must never be above the final one, or
// the page shows it go down (TestBrowserMigration saw 23 then 22 under
// load: the engine's first snapshot, Expected 23 with nothing found too
// large yet, was flushed before INBOX was listed). The line's test login
// counted the message over the limit; the reporter takes it off from the
// start. A snapshot arriving after the final counters changes nothing.
func TestReporterTotalNeverAboveTheFinalOne(t *testing.T) {
	t.Parallel()
	src, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(user, "old-pass"))
	require.NoError(t, dst.AddUser(user, "new-pass"))
	c := src.Dial(t, user, "old-pass")
	testenv.Append(t, c, "INBOX", testenv.BuildMessage(1, 0, 1000), testenv.BuildMessage(1, 1, 1000))
	testenv.Append(t, c, "INBOX", testenv.BuildMessage(1, 2, 64<<10)) // over the limit below
	testenv.Append(t, c, "INBOX.Lavoro", testenv.BuildMessage(2, 0, 1000), testenv.BuildMessage(2, 1, 1000))

	preview, err := json.Marshal(transfer.Preview{Folders: 2, Messages: 4, TooLarge: 1})
	require.NoError(t, err)
	rep := &shownTotals{dbReporter: newDBReporter(Deps{FlushInterval: time.Hour}, store.MailboxRun{})}
	defer rep.close()
	rep.expectTooLarge(preview)
	res, err := transfer.Run(context.Background(), transfer.Job{
		Preset: transfer.PresetStandardSSL,
		Source: transfer.Endpoint{Host: src.TLSAddr(), TLS: transfer.TLSImplicit, RootCAs: src.CAPool(), User: user, Password: "old-pass"},
		Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, RootCAs: dst.CAPool(), User: user,
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword()},
		MaxMessageSize: 32 << 10,
		Reporter:       rep,
		Timeouts:       transfer.Timeouts{Dial: 30 * time.Second, Command: 30 * time.Second},
		MaxAttempts:    3,
		Backoff:        func(int) time.Duration { return 50 * time.Millisecond },
	})
	require.NoError(t, err)
	require.Equal(t, 4, res.Copied)
	require.Equal(t, 1, res.TooLarge)
	rep.result(res, true)
	final := rep.counters().Total
	require.Equal(t, 4, final, "the message over the limit is not in the total")

	rep.mu.Lock()
	totals := rep.totals
	rep.mu.Unlock()
	require.NotEmpty(t, totals)
	require.Equal(t, 4, totals[0], "before the first body: STATUS's 5 less the one the test found too large")
	for i, n := range totals {
		require.LessOrEqual(t, n, final, "snapshot %d of %v: above the final total", i, totals)
		if i > 0 {
			require.GreaterOrEqual(t, n, totals[i-1], "snapshot %d of %v: the total went down", i, totals)
		}
	}

	// A snapshot the engine took before its result (mid-INBOX), arriving
	// after it.
	want := rep.counters()
	rep.Progress(transfer.Progress{Expected: 5, Total: 2, Done: 1, Counters: transfer.Counters{Copied: 1}, Folder: "INBOX"})
	require.Equal(t, want, rep.counters(), "a late snapshot does not undo the final counters")
}

// A copy that did not reach every folder (a slice's end, a retry, a stop)
// keeps the total STATUS gave for the folders not listed yet: its result
// is not the whole mailbox.
func TestReporterUnfinishedKeepsTheExpectedTotal(t *testing.T) {
	r := newDBReporter(Deps{FlushInterval: time.Hour}, store.MailboxRun{})
	defer r.close()
	r.Progress(transfer.Progress{Expected: 10})
	r.Progress(transfer.Progress{Expected: 10, Total: 4, Done: 2, Counters: transfer.Counters{Copied: 2}})
	require.Equal(t, 10, r.counters().Total)
	r.result(transfer.Result{Counters: transfer.Counters{Copied: 2}}, false)
	require.Equal(t, 10, r.counters().Total, "the folders not reached still count")
}
