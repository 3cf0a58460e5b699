package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// errLastLine refuses removing the only mailbox of a migration.
var errLastLine = errors.New("the migration's last line")

// migrationLineRemove removes one mailbox from a migration not yet
// started. A red migration left with no failed line is checked again
// (validating: what passed stays passed), which schedules it when its time
// is still ahead. The last mailbox cannot go: the migration is cancelled
// or deleted instead.
func (s *server) migrationLineRemove(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	lineNo, err := strconv.Atoi(chi.URLParam(r, "lineNo"))
	if err != nil || lineNo <= 0 {
		s.notFound(w, r)
		return
	}
	if !s.changeable(w, r, m) {
		return
	}
	var removed store.Line
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		cur, _, err := store.LockChangeable(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if cur.LineCount <= 1 {
			return errLastLine
		}
		if removed, err = store.DeleteLine(ctx, tx, c.Tenant.ID, m.ID, lineNo); err != nil {
			return err
		}
		after, err := store.GetMigration(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if after.Status == store.MigrationRed && after.FailedCount == 0 && !after.HasReason() {
			if err := store.SetMigrationStatus(ctx, tx, c.Tenant.ID, m.ID, store.MigrationValidating, store.MigrationRed); err != nil {
				return err
			}
			if _, err := s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil); err != nil {
				return err
			}
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventLineRemoved, strconv.Itoa(lineNo), removed.LocalUser)
	})
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "migration line removed", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
			"migration_id", m.ID, "line", lineNo, "user_id", c.User.ID)
		s.audit(r, store.AuditLineRemoved, m.ID, fmt.Sprintf("%d %s", lineNo, removed.LocalUser))
		s.flash(r, i18n.T(l, "web.lines.removed", lineNo, removed.LocalUser), false)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, errLastLine):
		s.flash(r, i18n.T(l, "web.lines.last"), true)
	case errors.Is(err, store.ErrWrongState):
		s.flash(r, i18n.T(l, "web.edit.not_changeable"), true)
	default:
		s.serverError(w, r, fmt.Errorf("remove line: %w", err))
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID)+"#lines", http.StatusSeeOther)
}

// migrationLinesAdd adds the mailboxes of a CSV to a migration not yet
// started, all of them or none: a line refused, or a mailbox the migration
// has already, refuses the file with its reasons. The new lines are
// checked (validating); a blue migration's runs are removed with their
// jobs until the check schedules them again at the migration's times.
func (s *server) migrationLinesAdd(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.changeable(w, r, m) {
		return
	}
	refuse := func(status int, problems ...string) {
		s.renderMigrationWith(w, r, status, m, migrationExtras{addProblems: problems})
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxCSVBytes+formOverhead)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		if isTooLarge(err) {
			refuse(http.StatusRequestEntityTooLarge, i18n.T(l, "web.upload.too_large", megabytesText(s.MaxCSVBytes)))
			return
		}
		refuse(http.StatusBadRequest, i18n.T(l, "web.upload.bad_form"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("csv")
	if errors.Is(err, http.ErrMissingFile) {
		refuse(http.StatusUnprocessableEntity, i18n.T(l, "web.csv.required"))
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
		refuse(http.StatusUnprocessableEntity, problem)
		return
	}
	lines, fileProblems, err := s.newLines(c.Tenant.ID, res)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var problems []string
	problems = append(problems, texts(l, fileProblems)...)
	var users []string
	for _, ln := range lines {
		if ln.Status == store.LineFailed {
			problems = append(problems, ln.Error.Text(l))
			continue
		}
		users = append(users, ln.LocalUser)
	}
	taken, err := store.LocalUsersTaken(ctx, s.Pool, c.Tenant.ID, m.ID, users)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, ln := range lines {
		if ln.Status != store.LineFailed && taken[strings.ToLower(ln.LocalUser)] {
			problems = append(problems, i18n.T(l, "csv.line", ln.LineNo, i18n.T(l, "web.lines.already_there", ln.LocalUser)))
		}
	}
	if len(lines) == 0 && len(problems) == 0 {
		problems = append(problems, i18n.T(l, "csv.file.empty"))
	}
	if len(problems) > 0 {
		refuse(http.StatusUnprocessableEntity, problems...)
		return
	}
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		_, _, err := store.LockChangeable(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		ids, err := store.DeleteScheduledRuns(ctx, tx, c.Tenant.ID, m.ID, 0)
		if err != nil {
			return err
		}
		if err := s.deleteRunJobs(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := store.AddLines(ctx, tx, c.Tenant.ID, m.ID, lines); err != nil {
			return err
		}
		if err := store.SetMigrationStatus(ctx, tx, c.Tenant.ID, m.ID, store.MigrationValidating, store.MigrationRed, store.MigrationScheduled); err != nil {
			return err
		}
		if _, err := s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil); err != nil {
			return err
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventLinesAdded, strconv.Itoa(len(lines)))
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
		s.serverError(w, r, fmt.Errorf("add lines: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "migration lines added", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "lines", len(lines), "user_id", c.User.ID)
	s.audit(r, store.AuditLinesAdded, m.ID, strconv.Itoa(len(lines)))
	s.flash(r, i18n.T(l, "web.lines.added", len(lines)), false)
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
