package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationResources is Risorse: every mailbox of the migration with its
// result in each run (counters, size, duration, the reason of a failure),
// links to its logs, and the messages over 30 MB that stayed on the old
// server, so the customer knows what to move by hand.
func (s *server) migrationResources(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	q := readListQuery(r)
	q.Status, q.Tenant = "", 0
	page, err := store.ListLinesPage(ctx, s.Pool, c.Tenant.ID, m.ID, store.LineFilter{Query: q.Q, OnlyOK: true, Paging: store.Paging{Page: q.Page, PerPage: mailboxesPerPage}})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	lines := page.Lines
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	totals, err := store.MigrationRunTotals(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mbs, err := store.ListLinesMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID, lineIDs(lines))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Only a mailbox run that skipped something or failed some messages
	// (or may be doing so now) has messages to list; all of the page's in
	// one query.
	var withSkipped []int64
	for _, mb := range mbs {
		if mb.TooLarge > 0 || mb.Failed > 0 || mb.Status == store.MailboxRunning {
			withSkipped = append(withSkipped, mb.ID)
		}
	}
	skippedAll, err := store.ListSkippedOfMailboxes(ctx, s.Pool, c.Tenant.ID, withSkipped)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	skippedOf := make(map[int64][]store.SkippedMessage, len(withSkipped))
	for _, sk := range skippedAll {
		skippedOf[sk.MailboxRunID] = append(skippedOf[sk.MailboxRunID], sk)
	}
	proof, err := s.loadProof(ctx, c.Tenant.ID, mbs)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rules, err := store.MailboxRunRules(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	skippedCount, err := store.CountSkipped(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	type lineRun struct {
		lineID int64
		runNo  int
	}
	byLineRun := make(map[lineRun]store.MailboxRun, len(mbs))
	for _, mb := range mbs {
		byLineRun[lineRun{mb.LineID, mb.RunNo}] = mb
	}

	started := false
	for _, t := range totals {
		started = started || t.Mailboxes > 0
	}
	d := views.Resources{
		MigrationID:   m.ID,
		MigrationName: m.Name,
		Timezone:      i18n.Zone(l, c.Tenant.Timezone),
		Started:       started,
		SkippedTotal:  skippedCount,
		Filter:        views.ListFilter{Action: views.ResourcesPath(m.ID), Query: q.Q, Placeholder: lineSearchHint(l)},
		Pager:         q.pager(views.ResourcesPath(m.ID), "", page.HasNext),
		Filtered:      q.Q != "" || q.Page > 1,
	}
	d.Reports = reportLinks(l, m.ID, runs, totals)
	for _, rn := range runs {
		d.Runs = append(d.Runs, views.ResourceRun{
			No:          rn.RunNo,
			Status:      string(rn.Status),
			StatusLabel: runStatusLabel(l, rn.Status),
			ScheduledAt: formatTime(l, rn.ScheduledAt, c.Loc),
			StartedAt:   optionalTime(l, rn.StartedAt, c.Loc),
			EndedAt:     optionalTime(l, rn.EndedAt, c.Loc),
		})
		if t, ok := totals[rn.ID]; ok && t.Mailboxes > 0 {
			d.Totals = append(d.Totals, views.ResourceTotal{
				RunNo:        rn.RunNo,
				Mailboxes:    t.Mailboxes,
				Failed:       t.Failed,
				Copied:       t.Copied,
				AlreadyThere: t.AlreadyThere,
				TooLarge:     t.TooLarge,
				FailedMsgs:   t.FailedMsgs,
				Bytes:        i18n.Bytes(l, t.Bytes),
			})
		}
	}
	now := s.Now()
	for _, ln := range lines {
		if ln.Status != store.LineOK {
			continue // never copied: the migration page shows why
		}
		rm := views.ResourceMailbox{LineNo: ln.LineNo, LocalUser: ln.LocalUser}
		// A message still too large in run 2 is the one run 1 listed:
		// the customer sees it once.
		type folderUID struct {
			folder string
			uid    uint32
		}
		listed := map[folderUID]bool{}
		for _, rn := range runs {
			mb, ok := byLineRun[lineRun{ln.ID, rn.RunNo}]
			if !ok {
				row := views.MailboxRunRow{RunNo: rn.RunNo, StatusLabel: i18n.T(l, "web.mailbox.not_started")}
				if rn.Status == store.RunCancelled {
					row.StatusLabel = mailboxStatusLabel(l, store.MailboxCancelled)
				}
				rm.Runs = append(rm.Runs, row)
				continue
			}
			row := views.MailboxRunRow{
				ID:              mb.ID,
				RunNo:           mb.RunNo,
				Status:          string(mb.Status),
				StatusLabel:     mailboxStatusLabel(l, mb.Status),
				Copied:          mb.Copied,
				AlreadyThere:    mb.AlreadyThere,
				TooLarge:        mb.TooLarge,
				Gone:            mb.Gone,
				ExcludedFolders: mb.ExcludedFolders,
				Failed:          mb.Failed,
				Bytes:           i18n.Bytes(l, mb.Bytes),
				Error:           mb.Reason(l),
				LogPath:         views.MailboxLogPath(m.ID, mb.ID),
				Rules:           appliedRulesText(l, rules[mb.ID]),
			}
			if mb.StartedAt != nil {
				row.Duration = i18n.Duration(mb.Duration(now))
			}
			proof.add(l, c.Loc, &rm, &row, mb) // resources_proof.go
			rm.Runs = append(rm.Runs, row)
			skipped := skippedOf[mb.ID]
			for _, sk := range skipped {
				k := folderUID{sk.Folder, sk.UID}
				if listed[k] {
					continue
				}
				listed[k] = true
				d.Skipped++
				row := views.SkippedRow{
					RunNo:   mb.RunNo,
					Folder:  sk.Folder,
					UID:     sk.UID,
					Reason:  skippedReason(l, sk.Reason, sk.Detail),
					Sender:  sk.Sender,
					Subject: sk.Subject,
					Size:    i18n.Bytes(l, sk.Size),
				}
				if sk.Date != nil {
					row.Date = formatTime(l, *sk.Date, c.Loc)
				}
				rm.Skipped = append(rm.Skipped, row)
			}
		}
		d.Mailboxes = append(d.Mailboxes, rm)
	}
	p := s.page(r, i18n.T(l, "web.resources.title"))
	s.render(w, r, http.StatusOK, p, views.ResourcesPage(p, d))
}

// skippedReason is why a message was not copied, in the reader's language.
func skippedReason(l i18n.Lang, code, detail string) string {
	key := "web.resources.reason." + code
	if !i18n.Has(key) {
		key = "web.resources.reason.other"
	}
	if detail == "" || code == "too_large" {
		return i18n.T(l, key)
	}
	return i18n.T(l, key) + " (" + detail + ")"
}

// reportLinks are the CSV reports of Risorse: every run's, then each
// started run's.
func reportLinks(l i18n.Lang, migrationID int64, runs []store.Run, totals map[int64]store.RunTotals) []views.ReportLink {
	links := []views.ReportLink{
		{Label: i18n.T(l, "web.report.mailboxes"), Href: views.ReportPath(migrationID, "mailboxes", 0), Kind: "mailboxes"},
		{Label: i18n.T(l, "web.report.messages"), Href: views.ReportPath(migrationID, "messages", 0), Kind: "messages"},
	}
	for _, rn := range runs {
		if totals[rn.ID].Mailboxes == 0 {
			continue
		}
		links = append(links,
			views.ReportLink{Label: i18n.T(l, "web.report.mailboxes_run", rn.RunNo), Href: views.ReportPath(migrationID, "mailboxes", rn.RunNo), Kind: "mailboxes", RunNo: rn.RunNo},
			views.ReportLink{Label: i18n.T(l, "web.report.messages_run", rn.RunNo), Href: views.ReportPath(migrationID, "messages", rn.RunNo), Kind: "messages", RunNo: rn.RunNo})
	}
	return links
}
