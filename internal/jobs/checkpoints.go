package jobs

import (
	"context"
	"maps"
	"sync"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// batchedCheckpoints is the engine's checkpoint store of one mailbox
// attempt. It reads the line's folder checkpoints in one query, and keeps
// the resets and records the engine makes in memory until the reporter
// writes them, with the counters and the log, in the one transaction of
// its flush (every Deps.FlushInterval and at the end of the attempt): a
// small mailbox writes its checkpoints in one commit instead of three
// statements per folder, a big one once a second instead of once per
// engine batch.
//
// It stays crash-safe: what a killed worker had not written yet is what
// the engine's own batches could already lose, messages at the destination
// the checkpoint does not know, and the next attempt recognises them there
// by Message-ID (TestWorkerKilledBetweenCheckpointBatches). A reset not
// written leaves the old checkpoint, which the next attempt resets again.
type batchedCheckpoints struct {
	db store.Checkpoints

	mu       sync.Mutex
	folders  map[string]transfer.FolderState // the line's checkpoints as written, nil until read
	inflight store.CheckpointBatch           // taken by a flush, not yet written
	pending  store.CheckpointBatch
	// beforeForget writes what waits before records are forgotten (the
	// reporter's flush); nil: nothing to write.
	beforeForget func(context.Context) error
}

var _ transfer.CheckpointStore = (*batchedCheckpoints)(nil)

func newBatchedCheckpoints(db store.Checkpoints) *batchedCheckpoints {
	return &batchedCheckpoints{db: db, pending: store.CheckpointBatch{}}
}

// LoadFolder implements transfer.CheckpointStore: the checkpoint as
// written, with what is waiting to be written on top.
func (b *batchedCheckpoints) LoadFolder(ctx context.Context, folder string) (transfer.FolderState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.folders == nil {
		fs, err := b.db.LoadFolders(ctx)
		if err != nil {
			return transfer.FolderState{}, err
		}
		b.folders = fs
	}
	st, ok := b.folders[folder]
	if ok && !resets(b.inflight, folder) && !resets(b.pending, folder) {
		msgs, err := b.db.LoadRecords(ctx, folder)
		if err != nil {
			return transfer.FolderState{}, err
		}
		st.Messages = msgs
	}
	for _, w := range []*store.FolderWrite{b.inflight[folder], b.pending[folder]} {
		if w == nil {
			continue
		}
		if w.Reset != nil {
			st = *w.Reset
			st.Messages = nil
		}
		if len(w.Records) > 0 && st.Messages == nil {
			st.Messages = map[uint32]transfer.Copied{}
		}
		for uid, c := range w.Records {
			// A record written again (its flags brought) stays the
			// earlier run's, as the database keeps it.
			c.Earlier = c.Earlier || st.Messages[uid].Earlier
			st.Messages[uid] = c
		}
	}
	return st, nil
}

func resets(b store.CheckpointBatch, folder string) bool {
	w := b[folder]
	return w != nil && w.Reset != nil
}

// ResetFolder implements transfer.CheckpointStore: the reset replaces
// whatever of the folder waits to be written.
func (b *batchedCheckpoints) ResetFolder(_ context.Context, folder string, st transfer.FolderState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	st.Messages = nil
	b.pending[folder] = &store.FolderWrite{Reset: &st}
	return nil
}

// RecordMessages implements transfer.CheckpointStore.
func (b *batchedCheckpoints) RecordMessages(_ context.Context, folder string, msgs map[uint32]transfer.Copied) error {
	if len(msgs) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.pending[folder]
	if w == nil {
		w = &store.FolderWrite{}
		b.pending[folder] = w
	}
	if w.Records == nil {
		w.Records = make(map[uint32]transfer.Copied, len(msgs))
	}
	maps.Copy(w.Records, msgs)
	return nil
}

// take hands what waits to be written to a flush (nil when nothing
// does); the flush then calls done.
func (b *batchedCheckpoints) take() store.CheckpointBatch {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return nil
	}
	b.inflight, b.pending = b.pending, store.CheckpointBatch{}
	return b.inflight
}

// done ends the flush of batch: written, its resets are the folders'
// checkpoints now; not written, it waits again under what came after it
// (a later reset of a folder supersedes it, later records win).
func (b *batchedCheckpoints) done(batch store.CheckpointBatch, written bool) {
	if b == nil || batch == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight = nil
	if written {
		for folder, w := range batch {
			if w.Reset != nil && b.folders != nil {
				b.folders[folder] = *w.Reset
			}
		}
		return
	}
	for folder, old := range batch {
		now := b.pending[folder]
		switch {
		case now == nil:
			b.pending[folder] = old
		case now.Reset == nil:
			if old.Records == nil {
				old.Records = map[uint32]transfer.Copied{}
			}
			maps.Copy(old.Records, now.Records)
			b.pending[folder] = old
		}
	}
}

// batchCheckpoints makes the reporter write the checkpoints of db with
// its flushes, and returns the store the engine is to use.
func (r *dbReporter) batchCheckpoints(db store.Checkpoints) *batchedCheckpoints {
	r.flushMu.Lock() // flushOnce reads cp under it
	defer r.flushMu.Unlock()
	r.cp = newBatchedCheckpoints(db)
	r.cp.beforeForget = r.flushOnce
	return r.cp
}
