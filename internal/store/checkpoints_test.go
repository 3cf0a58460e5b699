package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestCheckpointsRoundTripAndTenantScope(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	cp := store.Checkpoints{DB: f.db, TenantID: f.acme.ID, LineID: lines[0].ID}

	st, err := cp.LoadFolder(f.ctx, "INBOX")
	require.NoError(t, err)
	require.Zero(t, st.UIDValidity, "no checkpoint yet")

	err = cp.RecordMessages(f.ctx, "INBOX", map[uint32]transfer.Copied{1: {DestUID: 1}})
	require.ErrorIs(t, err, store.ErrNotFound, "recording before a reset is refused")

	require.NoError(t, cp.ResetFolder(f.ctx, "INBOX", transfer.FolderState{UIDValidity: 77, DestFolder: "INBOX", DestUIDValidity: 4000000000}))
	require.NoError(t, cp.RecordMessages(f.ctx, "INBOX", map[uint32]transfer.Copied{
		1: {DestUID: 10, Flags: []string{`\Seen`, "$Label1"}}, 2: {DestUID: 11}, 3: {DestUID: 0, Flags: []string{`\Flagged`}},
	}))
	require.NoError(t, cp.RecordMessages(f.ctx, "INBOX", map[uint32]transfer.Copied{2: {DestUID: 11, Flags: []string{`\Answered`}}}))
	st, err = cp.LoadFolder(f.ctx, "INBOX")
	require.NoError(t, err)
	require.Equal(t, transfer.FolderState{UIDValidity: 77, DestFolder: "INBOX", DestUIDValidity: 4000000000, Messages: map[uint32]transfer.Copied{
		1: {DestUID: 10, Flags: []string{`\Seen`, "$Label1"}}, 2: {DestUID: 11, Flags: []string{`\Answered`}}, 3: {Flags: []string{`\Flagged`}},
	}}, st)

	// Another tenant guessing the line id sees nothing and writes nothing.
	other := store.Checkpoints{DB: f.db, TenantID: f.beta.ID, LineID: lines[0].ID}
	st, err = other.LoadFolder(f.ctx, "INBOX")
	require.NoError(t, err)
	require.Empty(t, st.Messages)
	require.ErrorIs(t, other.ResetFolder(f.ctx, "INBOX", transfer.FolderState{UIDValidity: 1}), store.ErrNotFound)
	require.ErrorIs(t, other.RecordMessages(f.ctx, "INBOX", map[uint32]transfer.Copied{9: {DestUID: 9}}), store.ErrNotFound)
	st, err = cp.LoadFolder(f.ctx, "INBOX")
	require.NoError(t, err)
	require.Len(t, st.Messages, 3)
	require.Equal(t, uint32(77), st.UIDValidity)

	// A reset forgets the folder's records.
	require.NoError(t, cp.ResetFolder(f.ctx, "INBOX", transfer.FolderState{UIDValidity: 78, DestFolder: "INBOX", DestUIDValidity: 5}))
	st, err = cp.LoadFolder(f.ctx, "INBOX")
	require.NoError(t, err)
	require.Empty(t, st.Messages)
	require.Equal(t, uint32(78), st.UIDValidity)
}

func TestCheckpointsWriteBatchIsOneTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.newMigration(t, f.acme.ID, line(1, "anna@acme.test"))
	lines, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	cp := store.Checkpoints{DB: f.db, TenantID: f.acme.ID, LineID: lines[0].ID}
	require.NoError(t, cp.ResetFolder(f.ctx, "Old", transfer.FolderState{UIDValidity: 1, DestFolder: "Old"}))
	require.NoError(t, cp.RecordMessages(f.ctx, "Old", map[uint32]transfer.Copied{1: {DestUID: 1}, 2: {DestUID: 2}}))

	// Three folders in one batch: a new one, one reset (its records go),
	// one only recorded.
	require.NoError(t, cp.ResetFolder(f.ctx, "Kept", transfer.FolderState{UIDValidity: 3, DestFolder: "Kept"}))
	require.NoError(t, cp.WriteBatch(f.ctx, store.CheckpointBatch{
		"INBOX": {Reset: &transfer.FolderState{UIDValidity: 7, DestFolder: "INBOX", DestUIDValidity: 70},
			Records: map[uint32]transfer.Copied{5: {DestUID: 50, Flags: []string{`\Seen`}}}},
		"Old":  {Reset: &transfer.FolderState{UIDValidity: 2, DestFolder: "Old"}, Records: map[uint32]transfer.Copied{9: {DestUID: 90}}},
		"Kept": {Records: map[uint32]transfer.Copied{4: {DestUID: 40}}},
	}))
	folders, err := cp.LoadFolders(f.ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]transfer.FolderState{
		"INBOX": {UIDValidity: 7, DestFolder: "INBOX", DestUIDValidity: 70},
		"Old":   {UIDValidity: 2, DestFolder: "Old"},
		"Kept":  {UIDValidity: 3, DestFolder: "Kept"},
	}, folders)
	for folder, want := range map[string]map[uint32]transfer.Copied{
		"INBOX": {5: {DestUID: 50, Flags: []string{`\Seen`}}},
		"Old":   {9: {DestUID: 90, Flags: []string{}}},
		"Kept":  {4: {DestUID: 40, Flags: []string{}}},
	} {
		got, err := cp.LoadRecords(f.ctx, folder)
		require.NoError(t, err)
		require.Equal(t, want, got, folder)
	}

	// A record of a folder never reset refuses the whole batch.
	err = cp.WriteBatch(f.ctx, store.CheckpointBatch{
		"Kept":  {Records: map[uint32]transfer.Copied{6: {DestUID: 60}}},
		"Never": {Records: map[uint32]transfer.Copied{1: {DestUID: 1}}},
	})
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err := cp.LoadRecords(f.ctx, "Kept")
	require.NoError(t, err)
	require.Len(t, got, 1, "nothing of a refused batch is written")

	// Another tenant writes nothing and reads nothing.
	other := store.Checkpoints{DB: f.db, TenantID: f.beta.ID, LineID: lines[0].ID}
	require.ErrorIs(t, other.WriteBatch(f.ctx, store.CheckpointBatch{"X": {Reset: &transfer.FolderState{UIDValidity: 1}}}), store.ErrNotFound)
	fs, err := other.LoadFolders(f.ctx)
	require.NoError(t, err)
	require.Empty(t, fs)
}
