package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxListedProblems is how many reasons of a red migration the list shows;
// its page shows them all.
const maxListedProblems = 10

// migrationList is Migrazioni: the tenant's migrations, newest first; for
// an operator, every tenant's, with the tenant's name.
func (s *server) migrationList(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	var ms []store.TenantMigration
	if c.User.Operator {
		all, err := store.ListAllMigrations(ctx, s.Pool)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		ms = all
	} else {
		own, err := store.ListMigrations(ctx, s.Pool, c.Tenant.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, m := range own {
			ms = append(ms, store.TenantMigration{Migration: m, TenantName: c.Tenant.Name})
		}
	}
	list := views.MigrationList{Timezone: i18n.Zone(l, c.Tenant.Timezone), ShowTenant: c.User.Operator, Rows: make([]views.MigrationRow, 0, len(ms))}
	for _, tm := range ms {
		m := tm.Migration
		row := views.MigrationRow{
			ID:          m.ID,
			TenantName:  tm.TenantName,
			Name:        m.Name,
			PresetLabel: presetLabel(l, m.Preset),
			Mailboxes:   m.LineCount,
			FirstRun:    formatTime(l, m.FirstRunAt, c.Loc),
		}
		// Only a scheduled migration with a run 2 can be between the runs.
		var runs []store.Run
		if m.Status == store.MigrationScheduled && m.SecondRunAt != nil {
			rs, err := store.ListRuns(ctx, s.Pool, m.TenantID, m.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			runs = rs
		}
		row.Status = statusView(l, m, runs, c.Loc)
		switch m.Status {
		case store.MigrationRunning, store.MigrationCompleted, store.MigrationCompletedWithErrors:
			row.HasResources = true
		case store.MigrationScheduled:
			row.HasResources = row.Status.Code == "between_runs"
		}
		if m.SecondRunAt != nil {
			row.SecondRun = formatTime(l, *m.SecondRunAt, c.Loc)
		}
		if m.Status == store.MigrationRed {
			problems, err := s.problems(r, m)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if len(problems) > maxListedProblems {
				row.MoreProblems = len(problems) - maxListedProblems
				problems = problems[:maxListedProblems]
			}
			row.Problems = problems
		}
		list.Rows = append(list.Rows, row)
	}
	p := s.page(r, i18n.T(l, "web.migrations.title"))
	s.render(w, r, http.StatusOK, p, views.MigrationListPage(p, list))
}

// problems returns the reasons a migration is red: the upload's own error,
// then each failed line's.
func (s *server) problems(r *http.Request, m store.Migration) ([]string, error) {
	var out []string
	if m.ErrorText != "" {
		out = append(out, m.ErrorText)
	}
	lines, err := store.ListLines(r.Context(), s.Pool, m.TenantID, m.ID)
	if err != nil {
		return nil, err
	}
	for _, ln := range lines {
		if ln.Status == store.LineFailed && ln.ErrorText != "" {
			out = append(out, ln.ErrorText)
		}
	}
	return out, nil
}
