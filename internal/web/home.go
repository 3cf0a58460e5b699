package web

import "net/http"

// home sends signed-in users to their migrations and others to the login.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	if s.sessions.GetInt64(r.Context(), sessUserID) != 0 {
		http.Redirect(w, r, "/migrations", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
