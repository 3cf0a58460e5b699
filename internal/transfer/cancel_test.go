package transfer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// A copy stopped by its context (a shutdown, the end of a slice) records
// every message the destination confirmed and reports them as copied; the
// next pass resumes from there.
func TestCancelledCopyRecordsWhatItCopied(t *testing.T) {
	t.Parallel()
	// Enough messages that what is in flight when the stop comes (up to
	// three MULTIAPPENDs of 50, each filled while the server is busy) is
	// never the whole folder, however the progress reports fall.
	const n = 400
	f := setup(t)
	testenv.Append(t, f.src.Dial(t, f.srcUser, f.srcPass), "INBOX", msgs(95, 0, n, 20000)...)
	cp := transfer.NewMemoryCheckpoints()
	ctx, cancel := context.WithCancel(context.Background())
	job := f.job(cp, &progressCanceller{cancel: cancel})
	// A small in-flight budget: what was sent when the copy is stopped is
	// answered and recorded, and that must not be the whole folder.
	job.InFlightBytes = 1 << 20
	res, err := transfer.Run(ctx, job)
	require.ErrorIs(t, err, context.Canceled)
	st, err := cp.LoadFolder(context.Background(), "INBOX")
	require.NoError(t, err)
	require.Greater(t, res.Copied, 10)
	require.Less(t, res.Copied, n)
	require.Len(t, st.Messages, res.Copied, "every message counted is recorded, and only those")

	res2, err := transfer.Run(context.Background(), f.job(cp, nil))
	require.NoError(t, err)
	require.Equal(t, n, res.Copied+res2.Copied+(res2.AlreadyThere-res.Copied))
	require.GreaterOrEqual(t, res2.AlreadyThere, res.Copied)
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX"})
}
