package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxShownReasons is how many reasons of a red migration its page lists
// above the table; the table, paged and searchable, has every line.
const maxShownReasons = 50

// migrationShow is the page of one of the tenant's migrations.
func (s *server) migrationShow(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	s.renderMigration(w, r, http.StatusOK, m, nil)
}

// migrationExtras are what a failed form adds to the migration's page.
type migrationExtras struct {
	replaceProblems []string // refusals of a corrected CSV just uploaded
	addProblems     []string // refusals of mailboxes to add
}

// renderMigration renders the migration's page; replaceProblems are the
// refusals of a corrected CSV just uploaded.
func (s *server) renderMigration(w http.ResponseWriter, r *http.Request, status int, m store.Migration, replaceProblems []string) {
	s.renderMigrationWith(w, r, status, m, migrationExtras{replaceProblems: replaceProblems})
}

// renderMigrationWith renders the migration's page with what a form left. The mailbox table is one page
// of the lines (searchable by address), the progress table the same
// mailboxes in the current run, and the totals are added up in SQL: the
// page costs the same for 5 mailboxes or 5,000.
func (s *server) renderMigrationWith(w http.ResponseWriter, r *http.Request, status int, m store.Migration, x migrationExtras) {
	ctx, l, c := r.Context(), lang(r), me(r)
	replaceProblems := x.replaceProblems
	q := readListQuery(r)
	q.Status, q.Tenant = "", 0
	page, err := store.ListLinesPage(ctx, s.Pool, c.Tenant.ID, m.ID, store.LineFilter{Query: q.Q, Paging: store.Paging{Page: q.Page, PerPage: mailboxesPerPage}})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := views.MigrationDetail{
		ID:              m.ID,
		Name:            m.Name,
		PresetLabel:     presetLabel(l, m.Preset),
		Status:          statusView(l, m),
		FirstRun:        formatTime(l, m.FirstRunAt, c.Loc),
		Timezone:        c.Tenant.Timezone,
		InsecureTLS:     m.InsecureTLS,
		MasterUser:      m.MasterUser,
		Failed:          m.FailedCount,
		ErrorText:       m.ErrorText,
		CanCancel:       cancellable(m.Status),
		CanReplace:      m.Status == store.MigrationRed,
		ReplaceProblems: replaceProblems,
		MaxBytes:        s.MaxCSVBytes,
		MaxLines:        s.MaxCSVLines,
		LineCount:       m.LineCount,
		LineFilter:      views.ListFilter{Action: views.MigrationPath(m.ID), Query: q.Q, Placeholder: lineSearchHint(l), Anchor: "#lines"},
		LinePager:       q.pager(views.MigrationPath(m.ID), "#lines", page.HasNext),
		Filtered:        q.Q != "" || q.Page > 1,
		StatusQuery:     q.url("", q.Page),
	}
	if m.SecondRunAt != nil {
		d.SecondRun = formatTime(l, *m.SecondRunAt, c.Loc)
	}
	if m.Status == store.MigrationRed {
		reasons, err := store.FailedReasons(ctx, s.Pool, []store.MigrationKey{{TenantID: c.Tenant.ID, ID: m.ID}}, maxShownReasons)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.RedReasons = reasons[m.ID]
		d.MoreReasons = max(m.FailedCount-len(d.RedReasons), 0)
	}
	for _, ln := range page.Lines {
		d.Lines = append(d.Lines, views.LineRow{
			No:          ln.LineNo,
			LocalUser:   ln.LocalUser,
			RemoteHost:  ln.RemoteHost,
			RemoteUser:  ln.RemoteUser,
			PinnedAddr:  ln.PinnedAddr,
			Status:      string(ln.Status),
			StatusLabel: lineStatusLabel(l, ln.Status),
			Error:       ln.ErrorText,
		})
	}
	var totals map[int64]store.RunTotals
	if len(runs) > 0 {
		totals, err = store.MigrationRunTotals(ctx, s.Pool, c.Tenant.ID, m.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	for _, rn := range runs {
		// A failed mailbox can be retried while its password (or the
		// master user's) is still kept: the rule of store.ReopenFailedMailboxes.
		t := totals[rn.ID]
		d.Runs = append(d.Runs, views.RunRow{
			No:              rn.RunNo,
			Status:          string(rn.Status),
			StatusLabel:     runStatusLabel(l, rn.Status),
			ScheduledAt:     formatTime(l, rn.ScheduledAt, c.Loc),
			StartedAt:       optionalTime(l, rn.StartedAt, c.Loc),
			EndedAt:         optionalTime(l, rn.EndedAt, c.Loc),
			EmailSentAt:     optionalTime(l, rn.EmailSentAt, c.Loc),
			EmailFailed:     rn.EmailError != "",
			FailedMailboxes: t.Failed,
			Retryable:       t.Retryable,
		})
	}
	d.HasResources = len(runs) > 0
	if rn, ok := currentRun(runs); ok {
		mbs, err := store.ListLinesMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID, lineIDs(page.Lines))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		var cur []store.MailboxRun // in line order, as listed
		for _, mb := range mbs {
			if mb.RunID == rn.ID {
				cur = append(cur, mb)
			}
		}
		d.Progress = progressView(l, rn, totals[rn.ID], cur)
	}
	notStarted := store.NotStarted(runs)
	d.Actions = views.MigrationActions{
		ID:             m.ID,
		CanEdit:        m.Changeable() && notStarted,
		CanStart:       m.Status == store.MigrationScheduled && len(runs) > 0 && notStarted,
		CanStop:        m.Status == store.MigrationRunning,
		CanResume:      m.Status == store.MigrationCancelled && stoppedRun(runs),
		CanDelete:      m.Deletable(),
		CanChangeLines: m.Changeable() && notStarted,
		AddProblems:    x.addProblems,
		MaxBytes:       s.MaxCSVBytes,
		MaxLines:       s.MaxCSVLines,
	}
	if m.Status == store.MigrationCompleted || m.Status == store.MigrationCompletedWithErrors {
		usable, err := store.UsableLines(ctx, s.Pool, c.Tenant.ID, m.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Actions.CanAddRun = len(runs) < store.MaxRuns
		d.Actions.PasswordsKept = usable > 0
		d.Actions.MinRunAt = formValue(s.Now(), c.Loc)
	}
	events, err := store.ListMigrationEvents(ctx, s.Pool, c.Tenant.ID, m.ID, maxHistory)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.History = historyView(l, c.Loc, events)
	p := s.page(r, m.Name)
	switch m.Status {
	case store.MigrationValidating:
		p.Scripts = []string{"/static/status.js"}
		p.RefreshSeconds = 5
	case store.MigrationRunning:
		p.Scripts = []string{"/static/status.js"}
		p.RefreshSeconds = 10
	case store.MigrationScheduled:
		// Polls slowly, to show the run when it starts.
		p.Scripts = []string{"/static/status.js"}
	}
	s.render(w, r, status, p, views.MigrationPage(p, d))
}

// stoppedRun reports whether one of runs was stopped while copying (a run
// cancelled before it started has no start).
func stoppedRun(runs []store.Run) bool {
	for _, rn := range runs {
		if rn.Status == store.RunCancelled && rn.StartedAt != nil {
			return true
		}
	}
	return false
}

func lineIDs(lines []store.Line) []int64 {
	ids := make([]int64, len(lines))
	for i, ln := range lines {
		ids[i] = ln.ID
	}
	return ids
}

// cancellable reports whether a migration may still be cancelled: only
// before its first run starts (store.CancelMigration decides for good).
func cancellable(st store.MigrationStatus) bool {
	switch st {
	case store.MigrationValidating, store.MigrationRed, store.MigrationScheduled:
		return true
	}
	return false
}
