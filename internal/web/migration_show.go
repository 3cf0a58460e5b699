package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationShow is the page of one of the tenant's migrations.
func (s *server) migrationShow(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	s.renderMigration(w, r, http.StatusOK, m, nil)
}

// renderMigration renders the migration's page; replaceProblems are the
// refusals of a corrected CSV just uploaded.
func (s *server) renderMigration(w http.ResponseWriter, r *http.Request, status int, m store.Migration, replaceProblems []string) {
	ctx, l, c := r.Context(), lang(r), me(r)
	lines, err := store.ListLines(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var mbs []store.MailboxRun
	if len(runs) > 0 {
		mbs, err = store.ListMigrationMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
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
	}
	if m.SecondRunAt != nil {
		d.SecondRun = formatTime(l, *m.SecondRunAt, c.Loc)
	}
	for _, ln := range lines {
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
	// A failed mailbox can be retried while its password (or the master
	// user's) is still kept: the same rule as store.ReopenFailedMailboxes.
	hasPassword := make(map[int64]bool, len(lines))
	for _, ln := range lines {
		hasPassword[ln.ID] = ln.RemotePasswordEnc != nil || m.MasterPasswordEnc != nil
	}
	for _, rn := range runs {
		row := views.RunRow{
			No:          rn.RunNo,
			Status:      string(rn.Status),
			StatusLabel: runStatusLabel(l, rn.Status),
			ScheduledAt: formatTime(l, rn.ScheduledAt, c.Loc),
			StartedAt:   optionalTime(l, rn.StartedAt, c.Loc),
			EndedAt:     optionalTime(l, rn.EndedAt, c.Loc),
			EmailSentAt: optionalTime(l, rn.EmailSentAt, c.Loc),
			EmailFailed: rn.EmailError != "",
		}
		for _, mb := range mbs {
			if mb.RunID != rn.ID {
				continue
			}
			if mb.Status == store.MailboxFailed {
				row.FailedMailboxes++
			}
			if mb.Retryable() && hasPassword[mb.LineID] {
				row.Retryable++
			}
		}
		d.Runs = append(d.Runs, row)
	}
	d.HasResources = len(runs) > 0
	if rn, ok := currentRun(runs); ok {
		var cur []store.MailboxRun // in line order, as listed
		for _, mb := range mbs {
			if mb.RunID == rn.ID {
				cur = append(cur, mb)
			}
		}
		d.Progress = progressView(l, rn, cur)
	}
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

// cancellable reports whether a migration may still be cancelled: only
// before its first run starts (store.CancelMigration decides for good).
func cancellable(st store.MigrationStatus) bool {
	switch st {
	case store.MigrationValidating, store.MigrationRed, store.MigrationScheduled:
		return true
	}
	return false
}
