package transfer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// The preview of a mailbox counts what the copy then copies: the same
// folders and messages, those over the size limit apart, and names the
// folders left behind; the source is left as it was.
func TestCheckPreviewMatchesTheCopy(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seedStandard(t, f)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", testenv.BuildMessage(99, 0, 200<<10)) // over the limit below
	before := snapshot(t, f.src.Dial(t, f.srcUser, f.srcPass))

	job := f.job(transfer.NewMemoryCheckpoints(), nil)
	job.MaxMessageSize = 128 << 10
	pv, err := transfer.CheckPreview(context.Background(), job.Preset, job.Source, transfer.Timeouts{}, job.MaxMessageSize)
	require.NoError(t, err)
	require.Equal(t, 5, pv.Folders)
	require.Equal(t, 48, pv.Messages)
	require.Equal(t, 1, pv.TooLarge)
	require.Greater(t, pv.TooLargeBytes, int64(128<<10))
	require.ElementsMatch(t, []string{"INBOX.Cestino", "INBOX.Posta indesiderata", "INBOX.Bulk", "INBOX.Trash"}, pv.Excluded)
	require.Equal(t, before, snapshot(t, f.src.Dial(t, f.srcUser, f.srcPass)), "the preview changes nothing at the source")

	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, pv.Messages, res.Copied)
	require.Equal(t, pv.Folders, res.Folders)
	require.Equal(t, pv.TooLarge, res.TooLarge)
	require.Equal(t, len(pv.Excluded), res.ExcludedFolders)
	require.Equal(t, pv.Bytes, res.Bytes)

	// A wrong password is the same ConnError as the test login's.
	job.Source.Password = "wrong"
	_, err = transfer.CheckPreview(context.Background(), job.Preset, job.Source, transfer.Timeouts{}, 0)
	ce, ok := transfer.IsConnError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, transfer.ReasonAuth, ce.Reason)
}
