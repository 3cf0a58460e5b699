package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// jobCancel cancels a job (POST /admin/river/jobs/{jobID}/cancel): one not
// yet running never runs; a running one has its context cancelled (a
// mailbox copy stops at its next checkpoint, and the periodic reconcile
// ends its mailbox as failed).
func (s *server) jobCancel(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobID(w, r)
	if !ok {
		return
	}
	l, c := lang(r), me(r)
	job, err := s.River.JobCancel(r.Context(), id)
	if errors.Is(err, river.ErrNotFound) {
		s.flash(r, i18n.T(l, "web.jobs.not_found", id), true)
		http.Redirect(w, r, "/admin/river", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "operator cancelled a job", "request_id", requestID(r), "user_id", c.User.ID,
		"job_id", id, "kind", job.Kind)
	s.recordAudit(r, store.AuditEvent{UserID: c.User.ID, Actor: c.User.Email, Operator: true, Action: store.AuditJobCancelled,
		Detail: fmt.Sprintf("%d %s", id, job.Kind), IP: clientIP(r, s.TrustedProxies)})
	s.flash(r, i18n.T(l, "web.jobs.cancelled", id), false)
	http.Redirect(w, r, views.JobsPath(string(job.State)), http.StatusSeeOther)
}
