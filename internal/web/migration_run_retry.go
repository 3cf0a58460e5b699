package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationRunRetry ("Riprova le caselle fallite") puts the failed
// mailboxes of a run completed with errors back to work, then goes back
// to the migration page, which follows their progress. A run with nothing
// to retry (or whose passwords were erased) gets a message, not an error.
func (s *server) migrationRunRetry(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	runNo, err := strconv.Atoi(chi.URLParam(r, "runNo"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var run *store.Run
	for i := range runs {
		if runs[i].RunNo == runNo {
			run = &runs[i]
		}
	}
	if run == nil {
		s.notFound(w, r)
		return
	}
	n, err := jobs.RetryFailedMailboxes(ctx, s.Pool, s.River, c.Tenant.ID, run.ID)
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "failed mailboxes retried", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
			"migration_id", m.ID, "run_id", run.ID, "mailboxes", n)
		s.audit(r, store.AuditRunRetried, m.ID, fmt.Sprintf("%d: %d", run.RunNo, n))
		if err := store.AddMigrationEvent(ctx, s.Pool, c.Tenant.ID, m.ID, actor(c), store.EventRetried, strconv.Itoa(runNo)); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.flash(r, i18n.T(l, "web.retry.done", n), false)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState):
		s.flash(r, i18n.T(l, "web.retry.nothing"), true)
	default:
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
