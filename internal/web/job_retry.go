package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// jobRetry makes a job available at once (POST /admin/river/jobs/{jobID}/retry):
// a retryable job does not wait for its back-off, a discarded or cancelled
// one gets another go, a scheduled one starts now.
func (s *server) jobRetry(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobID(w, r)
	if !ok {
		return
	}
	l, c := lang(r), me(r)
	job, err := s.River.JobRetry(r.Context(), id)
	if errors.Is(err, river.ErrNotFound) {
		s.flash(r, i18n.T(l, "web.jobs.not_found", id), true)
		http.Redirect(w, r, "/admin/river", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "operator retried a job", "request_id", requestID(r), "user_id", c.User.ID,
		"job_id", id, "kind", job.Kind)
	s.recordAudit(r, store.AuditEvent{UserID: c.User.ID, Actor: c.User.Email, Operator: true, Action: store.AuditJobRetried,
		Detail: fmt.Sprintf("%d %s", id, job.Kind), IP: clientIP(r, s.TrustedProxies)})
	s.flash(r, i18n.T(l, "web.jobs.retried", id), false)
	http.Redirect(w, r, views.JobsPath(string(job.State)), http.StatusSeeOther)
}

// jobID reads the {jobID} of the URL; a malformed one is a 404.
func (s *server) jobID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "jobID"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}
