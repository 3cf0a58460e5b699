package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/web/views"
)

// loginShow shows the sign-in form.
func (s *server) loginShow(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s.sessions.GetInt64(r.Context(), sessUserID) != 0 {
		http.Redirect(w, r, afterLogin(next), http.StatusSeeOther)
		return
	}
	p := s.page(r, i18n.T(lang(r), "web.login.title"))
	s.render(w, r, http.StatusOK, p, views.LoginPage(p, views.Login{Next: next}))
}

// afterLogin is where a signed-in user goes: next (already checked by
// safeNext), else the migrations.
func afterLogin(next string) string {
	if next == "" {
		return "/migrations"
	}
	return next
}
