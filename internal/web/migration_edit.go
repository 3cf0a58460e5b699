package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// migrationEditShow is the form that changes a migration not yet started,
// filled with what it has now. When its first run's time has passed it
// says so: a new time must be chosen.
func (s *server) migrationEditShow(w http.ResponseWriter, r *http.Request) {
	l, c := lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.changeable(w, r, m) {
		return
	}
	f := s.newForm(r)
	f.Name, f.Preset, f.InsecureTLS, f.MasterUser = m.Name, m.Preset, m.InsecureTLS, m.MasterUser
	f.FirstRunAt = formValue(m.FirstRunAt, c.Loc)
	if m.SecondRunAt != nil {
		f.SecondRunAt = formValue(*m.SecondRunAt, c.Loc)
	}
	e := views.MigrationEdit{ID: m.ID, Name: m.Name, Form: f}
	if !m.FirstRunAt.After(s.Now()) {
		e.TimePassed = i18n.T(l, "web.edit.time_passed", formatTime(l, m.FirstRunAt, c.Loc))
	}
	s.renderEdit(w, r, http.StatusOK, e)
}

func (s *server) renderEdit(w http.ResponseWriter, r *http.Request, status int, e views.MigrationEdit) {
	p := s.page(r, i18n.T(lang(r), "web.edit.title", e.Name))
	s.render(w, r, status, p, views.MigrationEditPage(p, e))
}

// changeable answers for a migration that can no longer be changed (it
// has started, ended or is being validated): back to its page with a flash.
func (s *server) changeable(w http.ResponseWriter, r *http.Request, m store.Migration) bool {
	ok := m.Changeable()
	if ok && m.Status == store.MigrationScheduled {
		runs, err := store.ListRuns(r.Context(), s.Pool, m.TenantID, m.ID)
		if err != nil {
			s.serverError(w, r, err)
			return false
		}
		ok = store.NotStarted(runs)
	}
	if !ok {
		s.flash(r, i18n.T(lang(r), "web.edit.not_changeable"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
	}
	return ok
}

// migrationEditSubmit stores the changes of a migration not yet started.
// The times follow the rules of Nuova Migrazione (the first in the future,
// the second after it and within 23 hours). In one transaction: a blue
// migration's runs move to the new times with their River jobs (run 2 is
// added or removed with its job); a changed server type or Master User, or
// a red migration whose lines all passed (red because its time had
// passed), sends it back to validation, its scheduled runs removed. The
// change is written to the migration's history.
func (s *server) migrationEditSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.changeable(w, r, m) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	f := s.newForm(r)
	form := r.PostForm
	f.Name = strings.TrimSpace(form.Get("name"))
	f.Preset = form.Get("preset")
	f.FirstRunAt = strings.TrimSpace(form.Get("first_run_at"))
	f.SecondRunAt = strings.TrimSpace(form.Get("second_run_at"))
	f.InsecureTLS = form.Get("insecure_tls") != ""
	f.MasterUser = strings.TrimSpace(form.Get("master_user"))
	masterPassword := form.Get("master_password")

	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		f.Errors["name"] = i18n.T(l, "web.name.required")
	case n > maxNameLen:
		f.Errors["name"] = i18n.T(l, "web.name.too_long", maxNameLen)
	}
	preset, err := transfer.ParsePreset(f.Preset)
	if err != nil {
		f.Errors["preset"] = i18n.T(l, "web.preset.required")
	}
	// The master password may stay as it is while the Master User does.
	keepMaster := f.MasterUser != "" && f.MasterUser == m.MasterUser && masterPassword == "" && m.MasterPasswordEnc != nil
	switch {
	case f.MasterUser != "" && masterPassword == "" && !keepMaster:
		f.Errors["master_password"] = i18n.T(l, "web.master.password_required")
	case f.MasterUser == "" && masterPassword != "":
		f.Errors["master_user"] = i18n.T(l, "web.master.user_required")
	case masterUserProblem(preset, f.MasterUser):
		f.Errors["master_user"] = i18n.T(l, "web.master.exchange_form")
	}
	sc, schedErrs := parseSchedule(l, f.FirstRunAt, f.SecondRunAt, c.Loc, s.Now())
	for k, v := range schedErrs {
		f.Errors[k] = v
	}
	s.checkAhead(l, sc, f.Errors)
	if len(f.Errors) > 0 {
		f.FormError = i18n.T(l, "web.form.has_errors")
		s.renderEdit(w, r, http.StatusUnprocessableEntity, views.MigrationEdit{ID: m.ID, Name: m.Name, Form: f})
		return
	}
	st := store.MigrationSettings{
		Name: f.Name, Preset: string(preset), InsecureTLS: f.InsecureTLS, MasterUser: f.MasterUser,
		FirstRunAt: sc.First, SecondRunAt: sc.Second,
	}
	switch {
	case keepMaster:
		st.MasterPasswordEnc = m.MasterPasswordEnc
	case f.MasterUser != "":
		st.MasterPasswordEnc, err = s.Box.Seal([]byte(masterPassword), jobs.MasterSecretAD(c.Tenant.ID, f.MasterUser))
		if err != nil {
			s.serverError(w, r, fmt.Errorf("seal master password: %w", err))
			return
		}
	}

	var changed []string
	if st.Name != m.Name {
		changed = append(changed, "name")
	}
	if st.Preset != m.Preset {
		changed = append(changed, "preset")
	}
	if st.InsecureTLS != m.InsecureTLS {
		changed = append(changed, "insecure_tls")
	}
	if st.MasterUser != m.MasterUser {
		changed = append(changed, "master_user")
	} else if !keepMaster && st.MasterUser != "" {
		changed = append(changed, "master_password")
	}
	// What the test login depends on: the lines are checked again.
	recheck := slices.ContainsFunc(changed, func(f string) bool { return f != "name" })
	if !st.FirstRunAt.Equal(m.FirstRunAt) {
		changed = append(changed, "first_run_at")
	}
	if (st.SecondRunAt == nil) != (m.SecondRunAt == nil) || (st.SecondRunAt != nil && !st.SecondRunAt.Equal(*m.SecondRunAt)) {
		changed = append(changed, "second_run_at")
	}
	if len(changed) == 0 {
		s.flash(r, i18n.T(l, "web.edit.unchanged"), false)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	}

	revalidated := false
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		cur, runs, err := store.LockChangeable(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if err := store.SetMigrationSettings(ctx, tx, c.Tenant.ID, m.ID, st); err != nil {
			return err
		}
		// A red migration whose lines all passed was red for its time
		// (or the upload): with the new settings it is checked again.
		revalidated = recheck || (cur.Status == store.MigrationRed && cur.FailedCount == 0 && cur.LineCount > 0)
		if revalidated {
			ids, err := store.DeleteScheduledRuns(ctx, tx, c.Tenant.ID, m.ID, 0)
			if err != nil {
				return err
			}
			if err := s.deleteRunJobs(ctx, tx, ids); err != nil {
				return err
			}
			if err := store.Revalidate(ctx, tx, c.Tenant.ID, m.ID); err != nil {
				return err
			}
			if _, err := s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil); err != nil {
				return err
			}
		} else if cur.Status == store.MigrationScheduled {
			if err := s.moveRuns(ctx, tx, c.Tenant.ID, m.ID, runs, st); err != nil {
				return err
			}
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventEdited, changed...)
	})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState), errors.Is(err, errRunStarted):
		s.flash(r, i18n.T(l, "web.edit.not_changeable"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	default:
		s.serverError(w, r, fmt.Errorf("edit migration: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "migration changed", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "user_id", c.User.ID, "changed", changed, "revalidated", revalidated)
	s.audit(r, store.AuditMigrationEdited, m.ID, strings.Join(changed, ", "))
	if revalidated {
		s.flash(r, i18n.T(l, "web.edit.done_revalidate"), false)
	} else {
		s.flash(r, i18n.T(l, "web.edit.done"), false)
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}

// moveRuns brings a blue migration's runs to the schedule st: run 1 moves
// when its time changed, run 2 moves, appears or goes, each with its job.
func (s *server) moveRuns(ctx context.Context, tx pgx.Tx, tenantID, migrationID int64, runs []store.Run, st store.MigrationSettings) error {
	var run1, run2 *store.Run
	for i := range runs {
		switch runs[i].RunNo {
		case 1:
			run1 = &runs[i]
		case 2:
			run2 = &runs[i]
		}
	}
	if run1 != nil && !run1.ScheduledAt.Equal(st.FirstRunAt) {
		if err := s.moveRun(ctx, tx, tenantID, *run1, st.FirstRunAt); err != nil {
			return err
		}
	}
	switch {
	case run2 != nil && st.SecondRunAt == nil:
		ids, err := store.DeleteScheduledRuns(ctx, tx, tenantID, migrationID, 2)
		if err != nil {
			return err
		}
		return s.deleteRunJobs(ctx, tx, ids)
	case run2 != nil && !run2.ScheduledAt.Equal(*st.SecondRunAt):
		return s.moveRun(ctx, tx, tenantID, *run2, *st.SecondRunAt)
	case run2 == nil && st.SecondRunAt != nil:
		rn, err := store.CreateRun(ctx, tx, tenantID, store.NewRun{MigrationID: migrationID, RunNo: 2, ScheduledAt: *st.SecondRunAt})
		if err != nil {
			return err
		}
		return s.scheduleRunJob(ctx, tx, tenantID, rn, *st.SecondRunAt)
	}
	return nil
}
