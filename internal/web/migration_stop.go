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

// migrationStopConfirm asks before stopping a running migration, saying
// what will happen.
func (s *server) migrationStopConfirm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if m.Status != store.MigrationRunning {
		s.flash(r, i18n.T(l, "web.stop.not_running"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	}
	s.renderConfirm(w, r, views.Confirm{
		Title:       i18n.T(l, "web.stop.title", m.Name),
		Lines:       []string{i18n.T(l, "web.stop.what"), i18n.T(l, "web.stop.later"), i18n.T(l, "web.stop.resume_hint")},
		Action:      views.MigrationPath(m.ID) + "/stop",
		Button:      i18n.T(l, "web.stop.submit"),
		ButtonClass: "danger",
		BackURL:     views.MigrationPath(m.ID),
	})
}

// migrationStop ("Interrompi"), once confirmed, stops the running run: the
// mailboxes not started are cancelled and the runs after it too (their
// River jobs deleted), and the copying ones see the stop at their next
// look (jobs.Deps.StopPoll), write their checkpoints and end cancelled;
// the last to end ends the run, cancelled, and queues its email. With no
// mailbox copying, the run ends here, in the same transaction.
func (s *server) migrationStop(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.confirmed(w, r, views.MigrationPath(m.ID)+"/stop") {
		return
	}
	err := store.RetryTx(ctx, s.Pool, func(tx pgx.Tx) error {
		rn, jobIDs, err := store.RequestStop(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if err := s.deleteRunJobs(ctx, tx, jobIDs); err != nil {
			return err
		}
		if err := jobs.EndRunIfDone(ctx, tx, jobs.Deps{Pool: s.Pool, Inserter: s.River, Logger: s.Logger}, c.Tenant.ID, rn.ID); err != nil {
			return err
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventStopped)
	})
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "migration stop requested", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
			"migration_id", m.ID, "user_id", c.User.ID)
		s.audit(r, store.AuditMigrationStopped, m.ID, "")
		s.flash(r, i18n.T(l, "web.stop.done"), false)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrWrongState), errors.Is(err, errRunStarted):
		if _, gerr := store.GetMigration(ctx, s.Pool, c.Tenant.ID, m.ID); errors.Is(gerr, store.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		s.flash(r, i18n.T(l, "web.stop.not_running"), true)
	default:
		s.serverError(w, r, fmt.Errorf("stop migration: %w", err))
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}

// migrationResume ("Riprendi la copia") takes a stopped run up again: the
// mailboxes it stopped go on from their checkpoints, so only what is
// missing is copied; those whose password is no longer kept cannot.
func (s *server) migrationResume(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	n, err := jobs.ResumeStoppedRun(ctx, s.Pool, s.River, c.Tenant.ID, m.ID, func(tx pgx.Tx) error {
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventResumed)
	})
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "migration resumed", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
			"migration_id", m.ID, "user_id", c.User.ID, "mailboxes", n)
		s.audit(r, store.AuditMigrationResumed, m.ID, strconv.Itoa(n))
		s.flash(r, i18n.T(l, "web.resume.done", n), false)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState):
		s.flash(r, i18n.T(l, "web.resume.nothing"), true)
	default:
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
