package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// errRunStarted means a run's job began while the cancel was under way.
var errRunStarted = errors.New("a run has started")

// migrationCancelConfirm asks before cancelling a migration not yet
// started, saying what will happen.
func (s *server) migrationCancelConfirm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !cancellable(m.Status) {
		s.flash(r, i18n.T(l, "web.cancel.too_late"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	}
	s.renderConfirm(w, r, views.Confirm{
		Title:       i18n.T(l, "web.cancel.title", m.Name),
		Lines:       []string{i18n.T(l, "web.cancel.what"), i18n.T(l, "web.confirm.no_undo")},
		Action:      views.MigrationPath(m.ID) + "/cancel",
		Button:      i18n.T(l, "web.cancel.submit"),
		ButtonClass: "danger",
		BackURL:     views.MigrationPath(m.ID),
	})
}

// migrationCancel ("Annulla"), once confirmed, cancels a migration before its first run
// starts: the migration and its scheduled runs become cancelled and the
// runs' River jobs are deleted, all in one transaction, so a run either
// starts or is gone. A validation job still under way sees the cancelled
// status and stops.
func (s *server) migrationCancel(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.confirmed(w, r, views.MigrationPath(m.ID)+"/cancel") {
		return
	}
	err := store.RetryTx(ctx, s.Pool, func(tx pgx.Tx) error {
		jobIDs, err := store.CancelMigration(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if err := store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventCancelled); err != nil {
			return err
		}
		for _, id := range jobIDs {
			_, err := s.River.JobDeleteTx(ctx, tx, id)
			switch {
			case err == nil, errors.Is(err, river.ErrNotFound):
			case errors.Is(err, rivertype.ErrJobRunning):
				return errRunStarted
			default:
				return fmt.Errorf("delete river job %d: %w", id, err)
			}
		}
		return nil
	})
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "migration cancelled", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "migration_id", m.ID)
		s.audit(r, store.AuditMigrationCanceled, m.ID, "")
		s.flash(r, i18n.T(l, "web.cancel.done"), false)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState), errors.Is(err, errRunStarted):
		s.flash(r, i18n.T(l, "web.cancel.too_late"), true)
	default:
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
