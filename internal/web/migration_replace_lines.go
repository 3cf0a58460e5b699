package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationReplaceLines takes a corrected CSV for a red migration: its
// lines are replaced, it goes back to validating and a new validation job
// is inserted, in one transaction. Schedule and settings are kept.
func (s *server) migrationReplaceLines(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if m.Status != store.MigrationRed {
		s.flash(r, i18n.T(l, "web.replace.not_red"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	}
	// A corrected CSV validates and, all lines good, schedules at once: a
	// first run whose time has passed would start copying without asking.
	if !m.FirstRunAt.After(s.Now()) {
		s.renderMigration(w, r, http.StatusUnprocessableEntity, m, []string{i18n.T(l, "web.replace.time_passed", formatTime(l, m.FirstRunAt, c.Loc))})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxCSVBytes+formOverhead)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		msg := i18n.T(l, "web.upload.bad_form")
		status := http.StatusBadRequest
		if isTooLarge(err) {
			msg, status = i18n.T(l, "web.upload.too_large", megabytesText(s.MaxCSVBytes)), http.StatusRequestEntityTooLarge
		}
		s.renderMigration(w, r, status, m, []string{msg})
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("csv")
	if errors.Is(err, http.ErrMissingFile) {
		s.renderMigration(w, r, http.StatusUnprocessableEntity, m, []string{i18n.T(l, "web.csv.required")})
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	defer file.Close()
	res, problem, err := s.parseUpload(r, file, m.MasterUser != "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if problem != "" {
		s.renderMigration(w, r, http.StatusUnprocessableEntity, m, []string{problem})
		return
	}
	if probs := wholeFileRefused(l, res); len(probs) > 0 {
		s.renderMigration(w, r, http.StatusUnprocessableEntity, m, probs)
		return
	}
	lines, fileProblems, err := s.newLines(c.Tenant.ID, res)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(fileProblems) > 0 {
		s.renderMigration(w, r, http.StatusUnprocessableEntity, m, texts(l, fileProblems))
		return
	}
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := store.ReplaceLines(ctx, tx, c.Tenant.ID, m.ID, lines); err != nil {
			return err
		}
		if err := store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventLinesReplaced, strconv.Itoa(len(lines))); err != nil {
			return err
		}
		_, err := s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil)
		return err
	})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState):
		// It stopped being red meanwhile (cancelled in another tab).
		s.flash(r, i18n.T(l, "web.replace.not_red"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	default:
		s.serverError(w, r, fmt.Errorf("replace lines: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "migration lines replaced", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "lines", len(lines))
	s.audit(r, store.AuditLinesReplaced, m.ID, strconv.Itoa(len(lines)))
	msg := i18n.T(l, "web.replace.done")
	if n := notesText(l, res); n != "" {
		msg += " " + n
	}
	s.flash(r, msg, false)
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
