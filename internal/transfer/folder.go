package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/emersion/go-imap/v2"
)

func (r *runner) copyFolderWithRetry(ctx context.Context, p FolderPlan) error {
	r.t.mark()
	for attempt := 1; ; attempt++ {
		err := r.copyFolder(ctx, p)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// Stopped, not retried: the counters keep what this pass did
			// copy (and recorded), so a caller that resumes later counts
			// those messages as copied, not as already there.
			return ctx.Err()
		}
		if te, ok := IsThrottled(err); ok {
			// The source asks to slow down: the copy stops here, with its
			// checkpoints, for the caller to wait and go on.
			r.t.event(slog.LevelWarn, p.Source, "log.transfer.throttled", clip(r.scrub(te.Text)))
			return te
		}
		// A retry recounts the folder from scratch.
		r.t.rewind()
		var fe folderError
		if errors.As(err, &fe) {
			r.t.update(func(res *Result) { res.FailedFolders = append(res.FailedFolders, p.Source) })
			r.t.event(slog.LevelError, p.Source, "log.folder.not_copied", fe.err)
			r.folderSkipped(p, ExclFailed)
			return nil
		}
		if !retriable(err) {
			return err
		}
		if attempt >= r.job.MaxAttempts {
			return fmt.Errorf("copy folder %q: giving up after %d attempts: %w", p.Source, attempt, err)
		}
		wait := r.job.Backoff(attempt)
		r.t.event(slog.LevelWarn, p.Source, "log.conn.lost", err, wait, attempt+1, r.job.MaxAttempts)
		r.c.closeAll()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if err := r.c.connect(ctx); err != nil {
			if ce, ok := IsConnError(err); ok && !retriable(ce) {
				return err
			}
			r.t.event(slog.LevelWarn, p.Source, "log.conn.reconnect_failed", err)
		}
	}
}

// meta is what the engine knows of a source message before its body.
type meta struct {
	uid   uint32
	flags []string
	date  time.Time
	size  int64
}

// opened is a folder open on both sides.
type opened struct {
	p   FolderPlan
	sel *imap.SelectData
	// dstUV and dstCount are the destination folder's UIDVALIDITY and
	// number of messages; zero when it does not exist yet (a dry run).
	dstUV, dstCount uint32
}

// copyFolder copies one folder, in order: open it on both sides, reconcile
// the checkpoint, list and partition the messages, apply the provider's
// filter, match what is already at the destination, apply the rest.
func (r *runner) copyFolder(ctx context.Context, p FolderPlan) error {
	if !r.c.ready() {
		if err := r.c.connect(ctx); err != nil {
			return err
		}
	}
	f, err := r.open(p)
	if err != nil {
		return err
	}
	r.t.validity(p.Source, f.sel.UIDValidity)
	st, err := r.reconcile(ctx, f)
	if err != nil {
		return err
	}
	metas, err := r.fetchMeta(r.c.src, f.sel.NumMessages)
	if err != nil {
		return err
	}
	r.t.open(p.Source, metas)
	parts := partition(metas, st, r.copiedNow[p.Source], r.t.decisions(p.Source), r.job.MaxMessageSize)
	r.settleKnown(p, parts)

	todo, err := r.providerFilter(p, metas, parts.todo)
	if err != nil {
		return err
	}
	// Messages at the destination that no checkpoint accounts for (a crash
	// between APPEND and record, a lost checkpoint, a changed UIDVALIDITY):
	// recognise them by Message-ID instead of copying them again.
	if len(todo) > 0 && f.dstCount > 0 {
		todo, err = r.matchExisting(ctx, p, r.c.dst(), &st, todo)
		if err != nil {
			return err
		}
	}
	if r.job.DryRun {
		r.t.update(func(res *Result) { res.ToCopy += len(todo) })
		r.t.event(slog.LevelInfo, p.Source, "log.folder.would_copy", len(todo), len(metas), p.Dest)
		return nil
	}
	if err := r.apply(ctx, f, st, parts.flagChanges, todo); err != nil {
		return err
	}
	r.closeLedger(p)
	r.listFailed(p.Source)
	r.folderEnd(p)
	r.t.progress(true)
	n := r.t.fates()
	r.t.event(slog.LevelInfo, p.Source, "log.folder.done",
		p.Dest, len(metas), n[fateCopied], n[fateAlready], n[fateTooLarge], n[fateGone], n[fateFailed])
	return nil
}

// open examines the source folder (read-only) and creates the destination
// folder, with its parents, when missing.
func (r *runner) open(p FolderPlan) (opened, error) {
	f := opened{p: p}
	var err error
	if f.sel, err = r.c.src.examine(p.Source); err != nil {
		return f, asFolderError(err)
	}
	dst := r.c.dst()
	if !r.dstFolders[p.Dest] && !r.job.DryRun {
		if err := r.createDest(dst, p); err != nil {
			return f, err
		}
	}
	if r.dstFolders[p.Dest] {
		if err := dst.do("STATUS", r.job.Timeouts.Command, func() error {
			st, err := dst.c.Status(p.Dest, &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
			if err != nil {
				return err
			}
			f.dstUV = st.UIDValidity
			if st.NumMessages != nil {
				f.dstCount = *st.NumMessages
			}
			return nil
		}); err != nil {
			return f, asFolderError(err)
		}
	}
	return f, nil
}

// reconcile loads the folder's checkpoint, and starts it afresh when it no
// longer matches the folders (a changed UIDVALIDITY on either side, another
// destination folder).
func (r *runner) reconcile(ctx context.Context, f opened) (FolderState, error) {
	p := f.p
	st, err := r.job.Checkpoints.LoadFolder(ctx, p.Source)
	if err != nil {
		return st, fmt.Errorf("load checkpoint: %w", err)
	}
	if st.UIDValidity == f.sel.UIDValidity && st.DestFolder == p.Dest && st.DestUIDValidity == f.dstUV {
		return st, nil
	}
	if len(st.Messages) > 0 {
		r.t.event(slog.LevelWarn, p.Source, "log.folder.uidvalidity")
	}
	st = FolderState{UIDValidity: f.sel.UIDValidity, DestFolder: p.Dest, DestUIDValidity: f.dstUV, Messages: map[uint32]Copied{}}
	if !r.job.DryRun {
		if err := r.job.Checkpoints.ResetFolder(ctx, p.Source, st); err != nil {
			return st, fmt.Errorf("reset checkpoint: %w", err)
		}
	}
	return st, nil
}

// settleKnown settles the messages whose fate the partition decided.
func (r *runner) settleKnown(p FolderPlan, parts parts) {
	decided := r.t.decisions(p.Source)
	for _, m := range parts.decided {
		r.t.settle(m, decided[m.uid], 0)
	}
	for _, m := range parts.already {
		r.t.settle(m, fateAlready, 0)
	}
	now := r.copiedNow[p.Source]
	for _, m := range parts.copiedNow {
		r.t.settle(m, fateCopied, now[m.uid])
	}
	for _, m := range parts.tooLarge {
		r.t.settle(m, fateTooLarge, 0)
	}
	if len(parts.tooLarge) > 0 {
		r.reportLarge(r.c.src, p.Source, parts.tooLarge)
	}
}

// providerFilter applies the source provider's rules to todo: for Gmail,
// All Mail brings only what no label folder has.
func (r *runner) providerFilter(p FolderPlan, metas, todo []meta) ([]meta, error) {
	if r.labelled == nil {
		return todo, nil
	}
	if p.OnlyUnlabelled {
		return r.dropLabelled(r.c.src, p.Source, todo)
	}
	return todo, r.rememberLabelled(r.c.src, metas)
}

// apply writes to the destination: the flag changes of messages copied
// before, then the messages to copy.
func (r *runner) apply(ctx context.Context, f opened, st FolderState, flagChanges, todo []meta) error {
	p := f.p
	if len(flagChanges) > 0 {
		if err := r.updateFlags(ctx, p, r.c.dst(), st, flagChanges); err != nil {
			return err
		}
	}
	if len(todo) == 0 {
		return nil
	}
	r.c.prepareAppend(ctx, len(todo))
	return r.pipeline(ctx, f, todo)
}

// closeLedger checks that every message of the folder has its one fate: a
// message without one is a failure with a reason, never a silent hole.
func (r *runner) closeLedger(p FolderPlan) {
	lost := r.t.unsettled()
	if len(lost) == 0 {
		return
	}
	for _, m := range lost {
		r.t.decide(p.Source, m, fateFailed, ReasonNoOutcome, "")
	}
	r.t.event(slog.LevelError, p.Source, "log.folder.no_outcome", len(lost), fmt.Sprint(uidsOf(lost[:min(len(lost), 20)])))
}
