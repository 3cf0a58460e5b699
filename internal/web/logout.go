package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/store"
)

// logout ends the session, keeping the chosen language.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.audit(r, store.AuditLogout, 0, "")
	l := s.sessions.GetString(ctx, sessLang)
	if err := s.sessions.Destroy(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	if l != "" {
		s.sessions.Put(ctx, sessLang, l)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
