package jobs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// A message gone from the source in an earlier attempt is not seen by the
// next one: the mailbox run's count adds the attempts up, like the copies.
func TestReporterGoneAddsUpAcrossAttempts(t *testing.T) {
	earlier := store.MailboxRun{MailboxCounters: store.MailboxCounters{Copied: 5, Gone: 2, TooLarge: 1}}
	r := newDBReporter(Deps{FlushInterval: time.Hour}, earlier)
	defer r.close()
	r.result(transfer.Result{Counters: transfer.Counters{AlreadyThere: 5, TooLarge: 1, Gone: 3}}, true)
	c := r.counters()
	require.Equal(t, 5, c.Gone)
	require.Equal(t, 5, c.Copied)
	require.Equal(t, 1, c.TooLarge, "seen again, not added up")
}
