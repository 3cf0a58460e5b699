package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// The folders of a mailbox run, its verification and verdict, the
// checkpoint's record of which run copied what; another tenant's ids reach
// none of it.
func TestFolderFiguresVerdictAndCheckpointRuns(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	ctx, db, tenant := f.ctx, f.db, f.acme.ID
	mb := f.boxes[0]
	cp := store.Checkpoints{DB: db, TenantID: tenant, LineID: mb.LineID, MailboxRunID: mb.ID}
	require.NoError(t, cp.ResetFolder(ctx, "INBOX", transfer.FolderState{UIDValidity: 1, DestFolder: "INBOX", DestUIDValidity: 2}))
	// An earlier run of the line recorded 1; this one 2 and 3.
	earlier := store.Checkpoints{DB: db, TenantID: tenant, LineID: mb.LineID, MailboxRunID: f.boxes[1].ID}
	require.NoError(t, earlier.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{1: {DestUID: 11}}))
	require.NoError(t, cp.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{2: {DestUID: 12}, 3: {DestUID: 13}}))
	st, err := cp.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.True(t, st.Messages[1].Earlier)
	require.False(t, st.Messages[2].Earlier)
	// A flag update does not make an earlier run's record this run's.
	require.NoError(t, cp.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{1: {DestUID: 11, Flags: []string{`\Seen`}}}))
	st, err = cp.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.True(t, st.Messages[1].Earlier)

	// A later attempt counted nothing copied: the checkpoint says 2.
	require.NoError(t, store.SaveFolderFigures(ctx, db, tenant, mb.ID, 1, store.FolderRow{Source: "INBOX", Dest: "INBOX", Messages: 3, Bytes: 300, AlreadyThere: 3}))
	require.NoError(t, store.SaveFolderFigures(ctx, db, tenant, mb.ID, 2, store.FolderRow{Source: "INBOX.Trash", Excluded: "trash"}))
	require.NoError(t, store.SaveFolderFigures(ctx, db, f.beta.ID, mb.ID, 1, store.FolderRow{Source: "Spia", Messages: 9}))
	rows, err := store.ListFolderRows(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	require.Len(t, rows[mb.ID], 2, "another tenant wrote nothing")
	in := rows[mb.ID][0]
	require.Equal(t, "INBOX", in.Source)
	require.Equal(t, 2, in.Copied)
	require.Equal(t, 1, in.AlreadyThere)
	require.Nil(t, in.Verified)
	other, err := store.ListFolderRows(ctx, db, f.beta.ID, []int64{mb.ID})
	require.NoError(t, err)
	require.Empty(t, other)

	// Not verified yet: no verdict.
	v, err := store.SaveVerdict(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.False(t, v.Done())
	three, two := 3, 2
	require.NoError(t, store.SaveFolderCheck(ctx, db, tenant, mb.ID, store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: &two, Expected: 3, Missing: 1},
		[]store.Finding{{Folder: "INBOX", Kind: "missing", UID: 3, Reason: transfer.ReasonNotAtDest}}))
	v, err = store.SaveVerdict(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.Equal(t, 2, *v.Verified)
	require.Equal(t, 1, v.Missing)
	require.False(t, v.OK())
	done, err := store.VerifiedFolders(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.Empty(t, done, "a folder with findings is verified again")
	fs, err := store.ListFindings(ctx, db, f.beta.ID, []int64{mb.ID})
	require.NoError(t, err)
	require.Empty(t, fs)
	_, err = store.SaveVerdict(ctx, db, f.beta.ID, mb.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	// Forgetting takes only this run's records.
	require.NoError(t, cp.ForgetMessages(ctx, "INBOX", []uint32{1, 3}))
	st, err = cp.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.Contains(t, st.Messages, uint32(1), "an earlier run's record stays")
	require.NotContains(t, st.Messages, uint32(3))

	// Verified again, clean: the findings are replaced.
	require.NoError(t, store.SaveFolderCheck(ctx, db, tenant, mb.ID, store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: &three, Expected: 3}, nil))
	fs, err = store.ListFindings(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	require.Empty(t, fs)
	v, err = store.SaveVerdict(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.True(t, v.OK())
	require.Equal(t, 3, *v.Verified)
	done, err = store.VerifiedFolders(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"INBOX": true}, done)
	got, err := store.GetMailboxRun(ctx, db, tenant, mb.ID)
	require.NoError(t, err)
	require.Equal(t, 3, *got.Verdict.Verified)
}

// Several folders' figures and checks in a few statements write what one
// statement per folder wrote: the copied count from the checkpoint, the
// findings replaced, another tenant's ids reaching nothing.
func TestFolderFiguresAndChecksInBatches(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	ctx, db, tenant := f.ctx, f.db, f.acme.ID
	mb := f.boxes[0]
	cp := store.Checkpoints{DB: db, TenantID: tenant, LineID: mb.LineID, MailboxRunID: mb.ID}
	require.NoError(t, cp.ResetFolder(ctx, "INBOX", transfer.FolderState{UIDValidity: 1, DestFolder: "INBOX", DestUIDValidity: 2}))
	require.NoError(t, cp.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{2: {DestUID: 12}, 3: {DestUID: 13}}))

	require.NoError(t, store.SaveFoldersFigures(ctx, db, tenant, mb.ID, []store.PositionedFolder{
		{Position: 1, Row: store.FolderRow{Source: "INBOX", Dest: "INBOX", Messages: 3, Bytes: 300, AlreadyThere: 3, Gone: 1}},
		{Position: 2, Row: store.FolderRow{Source: "Lavoro", Dest: "Lavoro", Messages: 2, Bytes: 20, Copied: 2}},
		{Position: 3, Row: store.FolderRow{Source: "INBOX.Trash", Excluded: "trash"}},
	}))
	require.NoError(t, store.SaveFoldersFigures(ctx, db, f.beta.ID, mb.ID, []store.PositionedFolder{{Position: 1, Row: store.FolderRow{Source: "Spia"}}}))
	two, one := 2, 1
	require.NoError(t, store.SaveFolderChecks(ctx, db, tenant, mb.ID, []store.FolderCheck{
		{Row: store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: &two, Expected: 3, Missing: 1},
			Findings: []store.Finding{{Folder: "INBOX", Kind: "missing", UID: 3, Size: 30, Subject: "Ciao", Reason: transfer.ReasonNotAtDest}}},
		{Row: store.FolderRow{Source: "Lavoro", Dest: "Lavoro", Verified: &two, Expected: 2, Duplicates: 1},
			Findings: []store.Finding{{Folder: "Lavoro", Kind: "duplicate", UID: 1, Reason: "duplicate"}}},
	}))
	require.NoError(t, store.SaveFolderChecks(ctx, db, f.beta.ID, mb.ID, []store.FolderCheck{{Row: store.FolderRow{Source: "INBOX", Verified: &one}}}))

	rows, err := store.ListFolderRows(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	require.Len(t, rows[mb.ID], 3, "another tenant wrote nothing")
	byName := map[string]store.FolderRow{}
	for _, r := range rows[mb.ID] {
		byName[r.Source] = r
	}
	in := byName["INBOX"]
	require.Equal(t, 2, in.Copied, "what the checkpoint records this run copied")
	require.Equal(t, 1, in.AlreadyThere)
	require.Equal(t, 1, in.Gone)
	require.Equal(t, 2, *in.Verified, "not the other tenant's 1")
	require.Equal(t, 1, in.Missing)
	require.Equal(t, 2, byName["Lavoro"].Copied)
	require.Equal(t, 1, byName["Lavoro"].Duplicates)
	require.Equal(t, "trash", byName["INBOX.Trash"].Excluded)
	require.Nil(t, byName["INBOX.Trash"].Verified)
	fs, err := store.ListFindings(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	require.Len(t, fs, 2)
	require.Equal(t, "Ciao", fs[0].Subject)
	require.Equal(t, int64(30), fs[0].Size)

	// Verified again: INBOX clean, its finding replaced; Lavoro's stays.
	three := 3
	require.NoError(t, store.SaveFolderChecks(ctx, db, tenant, mb.ID, []store.FolderCheck{{Row: store.FolderRow{Source: "INBOX", Dest: "INBOX", Verified: &three, Expected: 3}}}))
	fs, err = store.ListFindings(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	require.Len(t, fs, 1)
	require.Equal(t, "Lavoro", fs[0].Folder)
	// Figures again: gone adds up, as SaveFolderFigures does.
	require.NoError(t, store.SaveFoldersFigures(ctx, db, tenant, mb.ID, []store.PositionedFolder{
		{Position: 1, Row: store.FolderRow{Source: "INBOX", Dest: "INBOX", Messages: 3, AlreadyThere: 3, Gone: 1}}}))
	rows, err = store.ListFolderRows(ctx, db, tenant, []int64{mb.ID})
	require.NoError(t, err)
	for _, r := range rows[mb.ID] {
		if r.Source == "INBOX" {
			require.Equal(t, 2, r.Gone)
			require.Equal(t, 3, *r.Verified, "the figures leave the check alone")
		}
	}
}
