package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// proofPending are the folder figures and checks the engine reported and
// the reporter has not written yet, in the order they came.
type proofPending struct {
	items []proofItem
	// position numbers the folders in the order the engine ends them.
	position int
}

type proofItem struct {
	position int
	figures  *store.FolderRow
	check    *store.FolderRow
	findings []store.Finding
}

var _ transfer.FolderReporter = (*dbReporter)(nil)

// FolderDone implements transfer.FolderReporter. The figures wait for the
// next flush, which writes them after the checkpoints in its one
// transaction (a flush per folder made a small mailbox's dozen folders a
// dozen commits, and their figures a dozen more); a verification that
// forgets records of the folder flushes them first (ForgetMessages).
func (r *dbReporter) FolderDone(f transfer.FolderFigures) {
	r.mu.Lock()
	r.proof.position++
	it := proofItem{position: r.proof.position, figures: &store.FolderRow{
		Source: f.Source, Dest: f.Dest, Excluded: excludedCode(f.Excluded), Messages: f.Messages, Bytes: f.Bytes,
		Copied: f.Copied, AlreadyThere: f.AlreadyThere, TooLarge: f.TooLarge, Failed: f.Failed, Gone: f.Gone,
	}}
	r.proof.items = append(r.proof.items, it)
	r.mu.Unlock()
}

var _ transfer.CheckpointForgetter = (*batchedCheckpoints)(nil)

// ForgetMessages implements transfer.CheckpointForgetter: the records of
// uids go from what waits to be written and from the database. The
// folder figures waiting to be written are flushed first, as they count
// the records; a flush writing records of the folder is waited for, so it
// cannot bring a forgotten record back.
func (b *batchedCheckpoints) ForgetMessages(ctx context.Context, folder string, uids []uint32) error {
	if b.beforeForget != nil {
		if err := b.beforeForget(ctx); err != nil {
			return err
		}
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		b.mu.Lock()
		if w := b.inflight[folder]; w == nil || len(w.Records) == 0 {
			if w := b.pending[folder]; w != nil {
				for _, u := range uids {
					delete(w.Records, u)
				}
			}
			b.mu.Unlock()
			break
		}
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return b.db.ForgetMessages(ctx, folder, uids)
}

// FolderVerified implements transfer.FolderReporter.
func (r *dbReporter) FolderVerified(c transfer.FolderCheck) {
	r.mu.Lock()
	defer r.mu.Unlock()
	verified := c.Verified
	row := &store.FolderRow{
		Source: c.Source, Dest: c.Dest, Verified: &verified, Expected: c.Expected, Missing: c.Lost(),
		Duplicates: len(c.Duplicates), Removed: c.Removed, DeletedByCustomer: c.DeletedByCustomer,
		StillThere: c.StillThere, ExcludedCopied: len(c.ExcludedCopied), FlagsBehind: c.FlagsBehind,
	}
	var fs []store.Finding
	add := func(kind string, list []transfer.Finding) {
		for _, f := range list {
			if kind == "missing" && f.Reason != transfer.ReasonNotAtDest {
				continue // failed in the copy: listed with the messages not copied
			}
			x := store.Finding{MailboxRunID: r.mb.ID, Folder: c.Source, Kind: kind, UID: f.UID, Size: f.Size,
				Sender: clip(r.scrub.text(f.From), 500), Subject: clip(r.scrub.text(f.Subject), 500), Reason: f.Reason}
			if !f.Date.IsZero() {
				d := f.Date
				x.Date = &d
			}
			fs = append(fs, x)
		}
	}
	add("missing", c.Missing)
	if c.Removed < len(c.Duplicates) {
		add("duplicate", c.Duplicates)
	}
	add("excluded_copied", c.ExcludedCopied)
	r.proof.items = append(r.proof.items, proofItem{check: row, findings: fs})
}

// takeProof hands the pending folder figures and checks to a flush.
func (r *dbReporter) takeProof() []proofItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	items := r.proof.items
	r.proof.items = nil
	return items
}

// requeueProof puts back, before what came since, the items a flush could
// not write.
func (r *dbReporter) requeueProof(items []proofItem) {
	if len(items) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.proof.items = append(append([]proofItem(nil), items...), r.proof.items...)
}

// writeProof writes folder figures and checks in tx: a statement for the
// figures of several folders and at most three for their checks (a
// statement or three per folder made them most of a small mailbox's
// statements). Figures and checks write columns of their own, so only the
// order of one folder's figures (or checks) matters: a folder met again
// starts the next group.
func (r *dbReporter) writeProof(ctx context.Context, tx pgx.Tx, items []proofItem) error {
	for len(items) > 0 {
		var figs []store.PositionedFolder
		var checks []store.FolderCheck
		seenFig, seenCheck := map[string]bool{}, map[string]bool{}
		n := 0
		for ; n < len(items); n++ {
			it := items[n]
			if it.figures != nil {
				if seenFig[it.figures.Source] {
					break
				}
				seenFig[it.figures.Source] = true
				figs = append(figs, store.PositionedFolder{Position: it.position, Row: *it.figures})
				continue
			}
			if seenCheck[it.check.Source] {
				break
			}
			seenCheck[it.check.Source] = true
			checks = append(checks, store.FolderCheck{Row: *it.check, Findings: it.findings})
		}
		if err := store.SaveFoldersFigures(ctx, tx, r.mb.TenantID, r.mb.ID, figs); err != nil {
			return err
		}
		if err := store.SaveFolderChecks(ctx, tx, r.mb.TenantID, r.mb.ID, checks); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// flushProof writes what is pending, the folder figures and checks with
// it, and reports an error when some of them are not written.
func (r *dbReporter) flushProof(ctx context.Context) error {
	if err := r.flushOnce(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.proof.items); n > 0 {
		return fmt.Errorf("mailbox: %d folder figures not written", n)
	}
	return nil
}

// excludedCode is the stored code of why a folder was not copied.
func excludedCode(why string) string {
	switch why {
	case "":
		return ""
	case transfer.ExclTrash:
		return "trash"
	case transfer.ExclJunk:
		return "junk"
	case transfer.ExclNoSelect:
		return "noselect"
	case transfer.ExclVirtual:
		return "virtual"
	case transfer.ExclNonMail:
		return "nonmail"
	case transfer.ExclShared:
		return "shared"
	case transfer.ExclParentSkip:
		return "parent"
	case transfer.ExclFailed:
		return "failed"
	}
	return "other"
}

// verifyOptions sets the engine's verification for this attempt: on, with
// the folders earlier attempts verified, and removing duplicates when the
// mailbox run was reopened ("Riprova") after its verification found some.
func (c *mailboxCopy) verifyOptions(ctx context.Context, tj *transfer.Job) error {
	d := c.w.d
	done, err := store.VerifiedFolders(ctx, d.Pool, c.mb.TenantID, c.mb.ID)
	if err != nil {
		return err
	}
	tj.Verify, tj.VerifiedFolders = true, done
	tj.Repair = c.mb.Verdict.Duplicates > 0
	return nil
}

// completed ends a mailbox whose copy ran to its end: its verdict is
// summed from its folders, and a verification that found something wrong
// ends it completed with errors, so "Riprova" can mend it.
func (c *mailboxCopy) completed(ctx context.Context, rep *dbReporter, res transfer.Result) error {
	d := c.w.d
	rep.flush(context.WithoutCancel(ctx))
	if err := rep.flushProof(context.WithoutCancel(ctx)); err != nil {
		return err // the folders are written again by the next attempt
	}
	v, err := store.SaveVerdict(context.WithoutCancel(ctx), d.Pool, c.mb.TenantID, c.mb.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	status := store.MailboxCompleted
	var text i18n.Msg
	if !res.Complete() {
		status = store.MailboxCompletedWithErrors
		text = i18n.New("run.some_failed", res.Failed+len(res.FailedFolders))
	}
	if res.Verification != nil && (!v.OK() || !res.Verification.OK()) {
		status = store.MailboxCompletedWithErrors
		switch {
		case !text.IsZero():
		case v.OK():
			// Every folder verified holds what it should, but some
			// folder could not be verified (gone from a server meanwhile).
			text = i18n.New("run.verify_incomplete", len(res.Verification.Unverified))
		default:
			text = i18n.New("run.verify_failed", v.Missing, v.Duplicates, v.FlagsBehind+v.ExcludedCopied)
		}
	}
	if v.Done() {
		rep.event(slog.LevelInfo, "log.verify.verdict", *v.Verified, v.Expected, v.Missing, v.Duplicates, v.DeletedByCustomer)
	} else {
		rep.event(slog.LevelInfo, "log.verify.none")
	}
	c.log.Info("mailbox: verified", "verified", v.Verified, "expected", v.Expected, "missing", v.Missing,
		"duplicates", v.Duplicates, "deleted_by_customer", v.DeletedByCustomer)
	return c.finish(ctx, status, rep, text)
}

// VerdictOf is a mailbox run's verdict for i18n.VerdictText: the email's
// and Risorse's words.
func VerdictOf(mb store.MailboxRun) i18n.Verdict {
	v := mb.Verdict
	return i18n.Verdict{Verified: v.Verified, Expected: v.Expected, Missing: v.Missing, Failed: mb.Failed,
		Duplicates: v.Duplicates, DeletedByCustomer: v.DeletedByCustomer, StillThere: v.StillThere,
		ExcludedCopied: v.ExcludedCopied, FlagsBehind: v.FlagsBehind}
}
