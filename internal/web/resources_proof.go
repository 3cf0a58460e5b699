package web

import (
	"context"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// proofOf is what Risorse shows of the verification: per mailbox run, its
// folders and what the verification pointed at.
type proofOf struct {
	folders  map[int64][]store.FolderRow
	findings map[int64][]store.Finding
}

// loadProof reads the folders and findings of the page's mailbox runs, in
// two queries.
func (s *server) loadProof(ctx context.Context, tenantID int64, mbs []store.MailboxRun) (proofOf, error) {
	ids := make([]int64, 0, len(mbs))
	for _, mb := range mbs {
		ids = append(ids, mb.ID)
	}
	folders, err := store.ListFolderRows(ctx, s.Pool, tenantID, ids)
	if err != nil {
		return proofOf{}, err
	}
	fs, err := store.ListFindings(ctx, s.Pool, tenantID, ids)
	if err != nil {
		return proofOf{}, err
	}
	findings := map[int64][]store.Finding{}
	for _, f := range fs {
		findings[f.MailboxRunID] = append(findings[f.MailboxRunID], f)
	}
	return proofOf{folders: folders, findings: findings}, nil
}

// add puts the verdict of mb on its row and its folders and findings on
// the mailbox.
func (p proofOf) add(l i18n.Lang, loc *time.Location, rm *views.ResourceMailbox, row *views.MailboxRunRow, mb store.MailboxRun) {
	v := jobs.VerdictOf(mb)
	row.Verdict = i18n.VerdictText(l, v)
	row.VerdictOK = v.OK()
	if row.Verdict == "" && mb.Status.Ended() && mb.Status != store.MailboxFailed && mb.Status != store.MailboxCancelled {
		row.Verdict = i18n.T(l, "verify.not_verified")
	}
	folders := p.folders[mb.ID]
	if len(folders) == 0 {
		return
	}
	ft := views.FolderTable{RunNo: mb.RunNo, Caption: i18n.T(l, "web.folders.caption", mb.LocalUser, mb.RunNo),
		Verdict: row.Verdict, OK: row.VerdictOK}
	for _, f := range folders {
		fr := views.FolderRow{Source: f.Source, Dest: f.Dest}
		if f.Excluded != "" {
			key := "web.folders.excl." + f.Excluded
			if !i18n.Has(key) {
				key = "web.folders.excl.other"
			}
			fr.Excluded = i18n.T(l, "web.folders.not_copied", i18n.T(l, key))
			ft.Rows = append(ft.Rows, fr)
			continue
		}
		fr.Messages, fr.Bytes = i18n.Int(l, f.Messages), i18n.Bytes(l, f.Bytes)
		fr.Copied, fr.AlreadyThere, fr.TooLarge = i18n.Int(l, f.Copied), i18n.Int(l, f.AlreadyThere), i18n.Int(l, f.TooLarge)
		fr.Failed, fr.Gone = i18n.Int(l, f.Failed), i18n.Int(l, f.Gone)
		if f.Verified != nil {
			fv := i18n.Verdict{Verified: f.Verified, Expected: f.Expected, Missing: f.Missing, Failed: f.Failed,
				Duplicates: f.Duplicates - f.Removed, DeletedByCustomer: f.DeletedByCustomer, StillThere: f.StillThere,
				ExcludedCopied: f.ExcludedCopied, FlagsBehind: f.FlagsBehind}
			fr.Verified = i18n.T(l, "web.folders.verified_of", i18n.Int(l, *f.Verified), i18n.Int(l, f.Expected))
			fr.VerifiedOK = fv.OK()
			fr.Problems = i18n.VerdictNotes(l, fv)
		}
		ft.Rows = append(ft.Rows, fr)
	}
	for _, f := range p.findings[mb.ID] {
		fr := views.FindingRow{Folder: f.Folder, UID: f.UID, Kind: f.Kind, KindLabel: i18n.T(l, "web.findings.kind."+f.Kind),
			Sender: f.Sender, Subject: f.Subject, Size: i18n.Bytes(l, f.Size)}
		if f.Date != nil {
			fr.Date = formatTime(l, *f.Date, loc)
		}
		ft.Findings = append(ft.Findings, fr)
	}
	rm.Folders = append(rm.Folders, ft)
}
