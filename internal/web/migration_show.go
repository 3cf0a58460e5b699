package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
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
	notify, err := store.NotifyAddresses(ctx, s.Pool, c.Tenant.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := views.MigrationDetail{
		NotifyEmail:     strings.Join(notify, ", "),
		ID:              m.ID,
		Name:            m.Name,
		PresetLabel:     presetLabel(l, m.Preset),
		Status:          statusView(l, m, runs, c.Loc),
		FirstRun:        formatTime(l, m.FirstRunAt, c.Loc),
		Timezone:        i18n.Zone(l, c.Tenant.Timezone),
		InsecureTLS:     m.InsecureTLS,
		MasterUser:      m.MasterUser,
		Failed:          m.FailedCount,
		ErrorText:       m.Reason(l),
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
	// A red migration whose lines all fit on the page shows each reason
	// once, in its line's row; when they do not, the first reasons are
	// listed above the table too, so none hides on a later page.
	if m.Status == store.MigrationRed && (page.HasNext || q.Page > 1) {
		reasons, err := store.FailedReasons(ctx, s.Pool, []store.MigrationKey{{TenantID: c.Tenant.ID, ID: m.ID}}, maxShownReasons)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, r := range reasons[m.ID] {
			d.RedReasons = append(d.RedReasons, r.In(l))
		}
		d.MoreReasons = max(m.FailedCount-len(d.RedReasons), 0)
	}
	previews, longest := linePreviews(l, page.Lines)
	pt, err := store.MigrationPreviewTotals(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Preview = previewTotal(l, pt, longest)
	for _, ln := range page.Lines {
		d.Lines = append(d.Lines, views.LineRow{
			Preview:     previews[ln.ID],
			No:          ln.LineNo,
			LocalUser:   ln.LocalUser,
			RemoteHost:  ln.RemoteHost,
			RemoteUser:  ln.RemoteUser,
			PinnedAddr:  ln.PinnedAddr,
			Status:      string(ln.Status),
			StatusLabel: lineStatusLabel(l, ln.Status),
			Error:       lineReason(l, ln),
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
	if m.Status == store.MigrationRed {
		d.ServerTypeHint = serverTypeHint(l, m.Preset, page.Lines)
	}
	if b, ok := betweenRuns(m, runs); ok {
		d.Between = &views.BetweenRuns{
			FirstStatus: string(b.first.Status),
			FirstLabel:  strings.ToLower(runStatusLabel(l, b.first.Status)),
			FirstEnded:  optionalTime(l, b.first.EndedAt, c.Loc),
			SecondAt:    formatTime(l, b.second.ScheduledAt, c.Loc),
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
			Duration:        runDuration(rn),
			EmailSentAt:     optionalTime(l, rn.EmailSentAt, c.Loc),
			EmailFailed:     rn.EmailError != "",
			FailedMailboxes: t.Failed,
			Retryable:       t.Retryable,
		})
	}
	if rn, ok := currentRun(runs); ok {
		mbs, err := store.ListLinesMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID, lineIDs(page.Lines))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.HasResources = true
		var cur []store.MailboxRun // in line order, as listed
		for _, mb := range mbs {
			if mb.RunID == rn.ID {
				cur = append(cur, mb)
			}
		}
		d.Progress = progressView(l, rn, totals[rn.ID], cur, knownTotals(page.Lines), time.Now())
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

// withoutLinePrefix drops the "Riga N: " ("Line N: ") a line's reason starts
// with: the table shows the line number in its own column.
// lineReason is why ln was refused, in l, without its "Riga N: " (the
// table says which line).
func lineReason(l i18n.Lang, ln store.Line) string {
	if ln.Error.Code == "csv.line" && len(ln.Error.Args) == 2 {
		return ln.Error.Args[1].Text(l)
	}
	return withoutLinePrefix(ln.LineNo, ln.Reason(l))
}

func withoutLinePrefix(no int, reason string) string {
	for _, l := range []i18n.Lang{i18n.Italian, i18n.English} {
		if rest, ok := strings.CutPrefix(reason, i18n.T(l, "csv.line", no, "")); ok {
			return rest
		}
	}
	return reason
}

// serverTypeHint suggests the other standard server type when a line of a
// red migration failed on the secure connection the chosen type asked for
// (Standard-SSL on a plain port), or because the server wants encryption
// that Standard-no-SSL did not use; "" otherwise.
func serverTypeHint(l i18n.Lang, preset string, lines []store.Line) string {
	for _, ln := range lines {
		if ln.Status != store.LineFailed {
			continue
		}
		e := ln.ErrorText // a reason stored before codes: its words
		switch {
		case preset == string(transfer.PresetStandardSSL) && (ln.Error.HasKey("check.reason.tls") || containsAny(e, reasonPrefix("check.reason.tls"))):
			return i18n.T(l, "web.detail.try_preset", presetLabel(l, string(transfer.PresetStandardNoSSL)))
		case preset == string(transfer.PresetStandardNoSSL) && (ln.Error.HasKey("check.reason.plain_refuse") || containsAny(e, reasonPrefix("check.reason.plain_refuse"))):
			return i18n.T(l, "web.detail.try_preset", presetLabel(l, string(transfer.PresetStandardSSL)))
		}
	}
	return ""
}

// reasonPrefix is the fixed start of a reason in each language (up to its
// first argument), to recognise a stored reason.
func reasonPrefix(key string) []string {
	var out []string
	for _, l := range []i18n.Lang{i18n.Italian, i18n.English} {
		t := i18n.T(l, key, "\x00")
		if i := strings.Index(t, "\x00"); i > 0 {
			t = t[:i]
		}
		out = append(out, t)
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// runDuration is how long an ended run took ("12 s", "1 h 05 min"), so
// that a run started and ended in the same minute does not look like
// nothing; "" before it ends or when it never started.
func runDuration(rn store.Run) string {
	if rn.StartedAt == nil || rn.EndedAt == nil {
		return ""
	}
	return i18n.Duration(max(rn.EndedAt.Sub(*rn.StartedAt), 0))
}
