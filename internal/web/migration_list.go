package web

import (
	"net/http"
	"strconv"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxListedProblems is how many reasons of a red migration the list shows;
// its page shows them all.
const maxListedProblems = 10

// listStatuses are the statuses Migrazioni can be filtered by, in the
// order of a migration's life.
var listStatuses = []store.MigrationStatus{
	store.MigrationValidating, store.MigrationRed, store.MigrationScheduled, store.MigrationRunning,
	store.MigrationCompleted, store.MigrationCompletedWithErrors, store.MigrationCancelled,
}

// migrationList is Migrazioni: one page of the tenant's migrations, newest
// first, searchable by name and mailbox address and filterable by status;
// for an operator, every tenant's (or one tenant's), with the tenant's
// name. A page costs the same whatever the tenant has: one query for the
// rows, one for the reasons of the red ones.
func (s *server) migrationList(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	q := readListQuery(r)
	f := store.MigrationFilter{Query: q.Q, Paging: store.Paging{Page: q.Page, PerPage: migrationsPerPage}}
	for _, st := range listStatuses {
		if string(st) == q.Status {
			f.Status = st
		}
	}
	if f.Status == "" {
		q.Status = ""
	}
	var page store.MigrationsPage
	var err error
	if c.User.Operator {
		f.TenantID = q.Tenant
		page, err = store.ListAllMigrationsPage(ctx, s.Pool, f)
	} else {
		q.Tenant = 0
		page, err = store.ListMigrationsPage(ctx, s.Pool, c.Tenant.ID, f)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var red []store.MigrationKey
	for _, tm := range page.Rows {
		if tm.Status == store.MigrationRed {
			red = append(red, store.MigrationKey{TenantID: tm.TenantID, ID: tm.ID})
		}
	}
	reasons, err := store.FailedReasons(ctx, s.Pool, red, maxListedProblems)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	list := views.MigrationList{Timezone: i18n.Zone(l, c.Tenant.Timezone), ShowTenant: c.User.Operator, Rows: make([]views.MigrationRow, 0, len(page.Rows))}
	for _, tm := range page.Rows {
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
			var problems []string
			if m.HasReason() {
				problems = append(problems, m.Reason(l))
			}
			for _, r := range reasons[m.ID] {
				problems = append(problems, r.In(l))
			}
			shown := min(len(problems), maxListedProblems)
			total := m.FailedCount
			if m.HasReason() {
				total++
			}
			row.Problems = problems[:shown]
			row.MoreProblems = max(total-shown, 0)
		}
		list.Rows = append(list.Rows, row)
	}
	filter := views.ListFilter{Action: "/migrations", Query: q.Q, Placeholder: i18n.T(l, "web.filter.migrations")}
	filter.Statuses = append(filter.Statuses, views.Option{Value: "", Label: i18n.T(l, "web.filter.any_status")})
	for _, st := range listStatuses {
		filter.Statuses = append(filter.Statuses, views.Option{Value: string(st), Label: i18n.T(l, "web.status."+string(st)), Selected: st == f.Status})
	}
	if c.User.Operator {
		tenants, err := store.ListTenants(ctx, s.Pool)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		filter.Tenants = append(filter.Tenants, views.Option{Value: "", Label: i18n.T(l, "web.filter.any_tenant")})
		for _, tn := range tenants {
			filter.Tenants = append(filter.Tenants, views.Option{Value: strconv.FormatInt(tn.ID, 10), Label: tn.Name, Selected: tn.ID == q.Tenant})
		}
	}
	list.Filter = filter
	list.Filtered = q.Q != "" || q.Status != "" || q.Tenant != 0 || q.Page > 1
	list.Pager = q.pager("/migrations", "", page.HasNext)
	p := s.page(r, i18n.T(l, "web.migrations.title"))
	s.render(w, r, http.StatusOK, p, views.MigrationListPage(p, list))
}
