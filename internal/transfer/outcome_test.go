package transfer_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// Every message the metadata FETCH lists ends in exactly one outcome,
// whatever the source does with its body FETCH; a refusal costs that
// message alone, and the customer finds it in the list of messages not
// copied with its reason.
func TestEveryMessageEndsInOneOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults testenv.HostileFaults
		// uid is the message that is not copied; reason its listed reason
		// ("" when it is not listed: gone).
		uid    uint32
		reason string
		tweak  func(ms []testenv.HostileMessage)
	}{
		{name: "BODY[] NIL", faults: testenv.HostileFaults{NilBodyUID: 2}, uid: 2, reason: transfer.ReasonNotDelivered},
		{name: "a message left out of the answer", faults: testenv.HostileFaults{OmitUID: 3}, uid: 3, reason: transfer.ReasonNotDelivered},
		{name: "a tagged NO for one unreadable message", faults: testenv.HostileFaults{RefuseUID: 4}, uid: 4, reason: transfer.ReasonSourceRefuse},
		{name: "EXISTS of 2^32-1", faults: testenv.HostileFaults{Exists: 4294967295}},
		{
			name: "a 40 MiB body declared as 900 bytes", uid: 5, reason: transfer.ReasonSizeMismatch,
			tweak: func(ms []testenv.HostileMessage) { ms[4].Pad, ms[4].DeclaredSize = 40<<20, 900 },
		},
		{
			name: "a 40 MiB body declared as 29.5 MiB", uid: 5, reason: transfer.ReasonTooLarge,
			tweak: func(ms []testenv.HostileMessage) { ms[4].Pad, ms[4].DeclaredSize = 40<<20, 29<<20+1<<19 },
		},
		{
			name: "a body three times its declared size", uid: 6, reason: transfer.ReasonSizeMismatch,
			tweak: func(ms []testenv.HostileMessage) { ms[5].Pad, ms[5].DeclaredSize = 3<<20, 1<<20 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inbox := corpus(71, 6, 2000)
			if tt.tweak != nil {
				tt.tweak(inbox)
			}
			lavoro := corpus(72, 3, 3000)
			for i := range lavoro {
				lavoro[i].UID = uint32(101 + i) // the faults are for INBOX's UIDs
			}
			h := hostileSetup(t, testenv.HostileOptions{Faults: tt.faults},
				testenv.HostileFolder{Name: "INBOX", Messages: inbox},
				testenv.HostileFolder{Name: "Lavoro", Messages: lavoro})
			res, err, _ := h.run(t, h.job())
			require.NoError(t, err, "a message's fault ends that message, not the mailbox")
			requireLedger(t, res, 9)
			requireReadOnly(t, h.srv)
			require.Len(t, h.dstFolder(t, "Lavoro"), 3, "later folders are copied")
			if tt.uid == 0 {
				require.True(t, res.Complete())
				require.Equal(t, 9, res.Copied)
				return
			}
			require.Equal(t, 8, res.Copied)
			// Too large is no error (the 30 MB rule), the others are.
			require.Equal(t, tt.reason == transfer.ReasonTooLarge, res.Complete(), "the mailbox ends completed with errors")
			require.Len(t, h.dstFolder(t, "INBOX"), 5)
			sk := h.rep.skipped()
			require.Len(t, sk, 1, "the message not copied is listed")
			got := sk["INBOX/"+itoa(tt.uid)]
			require.Equal(t, tt.reason, got.Reason)
			require.NotEmpty(t, got.Subject, "listed with its subject")
			require.False(t, got.Date.IsZero())
			if tt.reason == transfer.ReasonTooLarge {
				require.Equal(t, 1, res.TooLarge)
			} else {
				require.Equal(t, 1, res.Failed)
			}
			require.True(t, h.rep.mentions("INBOX", tt.uid), "the log names the message")
		})
	}
}

func itoa(n uint32) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

// panicky is a Reporter that panics on the first log line containing word,
// or on the first progress report when word is empty.
type panicky struct {
	transfer.NopReporter
	word string
}

func (p panicky) Log(e transfer.LogEntry) {
	if p.word != "" && strings.Contains(e.Message, p.word) {
		panic("reporter: " + e.Message)
	}
}

func (p panicky) Progress(transfer.Progress) {
	if p.word == "" {
		panic("reporter: progress")
	}
}

// A panic in any goroutine of the engine (here the reporter it calls, from
// the goroutine that fetches bodies or from the one that records them) is
// an error of the mailbox, with its stack, never the end of the process.
func TestPanicIsAnErrorOfTheMailbox(t *testing.T) {
	t.Parallel()
	for _, word := range []string{"did not deliver", ""} {
		t.Run(word, func(t *testing.T) {
			t.Parallel()
			h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{NilBodyUID: 2}},
				testenv.HostileFolder{Name: "INBOX", Messages: corpus(73, 4, 1000)})
			job := h.job()
			job.Reporter = panicky{word: word}
			_, err := transfer.Run(context.Background(), job)
			var perr *transfer.PanicError
			require.ErrorAs(t, err, &perr)
			require.Contains(t, string(perr.Stack), "transfer_test.panicky")
			requireReadOnly(t, h.srv)
		})
	}
}

// Slow is allowed, stalled is not: a source that delivers under the rate
// floor over a window of waiting for it is cut with a StallError, retried
// later; a mailbox past its time budget stops with ErrTimeBudget.
func TestStalledSourceIsCut(t *testing.T) {
	t.Parallel()
	t.Run("rate floor", func(t *testing.T) {
		t.Parallel()
		h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Drip: 20 * time.Millisecond, DripUID: 2}},
			testenv.HostileFolder{Name: "INBOX", Messages: corpus(74, 3, 4000)})
		job := h.job()
		job.Timeouts.Command = time.Minute // the floor cuts, not the watchdog
		job.MinRate, job.RateWindow = 1000, time.Second
		job.MaxAttempts = 2
		_, err, _ := h.run(t, job)
		var stall *transfer.StallError
		require.ErrorAs(t, err, &stall)
		require.Less(t, stall.Bytes, int64(stall.Window/time.Second)*1000)
		require.Contains(t, h.rep.text(), "under the floor of 1000 bytes a second")
		require.Len(t, h.dstFolder(t, "INBOX"), 1, "what came before the stall is copied")
		requireReadOnly(t, h.srv)
	})
	t.Run("time budget", func(t *testing.T) {
		t.Parallel()
		h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Drip: 50 * time.Millisecond}},
			testenv.HostileFolder{Name: "INBOX", Messages: corpus(75, 3, 4000)})
		job := h.job()
		job.Timeouts.Command = time.Minute
		job.Deadline = time.Now().Add(2 * time.Second)
		_, err, _ := h.run(t, job)
		require.ErrorIs(t, err, transfer.ErrTimeBudget)
		require.Contains(t, h.rep.text(), "time budget")
		requireReadOnly(t, h.srv)
	})
}

// firstProgress keeps the first progress report.
type firstProgress struct {
	transfer.NopReporter
	mu    sync.Mutex
	first *transfer.Progress
}

func (f *firstProgress) Progress(p transfer.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == nil {
		f.first = &p
	}
}

// Before the first body the engine reports the mailbox's total, by STATUS
// of every folder to copy (Trash left out), so a page can show it at once.
func TestTotalIsKnownBeforeTheFirstBody(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{}, standardFolders()...)
	job := h.job()
	rep := &firstProgress{}
	job.Reporter = rep
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, 11, res.Copied)
	require.NotNil(t, rep.first)
	require.Equal(t, 11, rep.first.Expected, "6 + 3 + 2, Trash left out")
	require.Zero(t, rep.first.Copied, "reported before the first message is copied")
}
