package web

import (
	"net/http"

	"github.com/trasloco/trasloco/web/views"
)

// confirmed reports whether a destructive POST comes from its confirmation
// page (confirm=1). Otherwise it sends the browser to that page, which says
// what will happen, and returns false.
func (s *server) confirmed(w http.ResponseWriter, r *http.Request, confirmPath string) bool {
	if r.PostFormValue("confirm") == "1" {
		return true
	}
	http.Redirect(w, r, confirmPath, http.StatusSeeOther)
	return false
}

func (s *server) renderConfirm(w http.ResponseWriter, r *http.Request, c views.Confirm) {
	p := s.page(r, c.Title)
	s.render(w, r, http.StatusOK, p, views.ConfirmPage(p, c))
}
