package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// microsoftConnect ("Collega Microsoft 365") sends the customer's
// administrator to Microsoft's admin-consent page, with a state that only
// this session can bring back.
func (s *server) microsoftConnect(w http.ResponseWriter, r *http.Request) {
	if !s.microsoftConfigured() {
		s.notFound(w, r)
		return
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	state := base64.RawURLEncoding.EncodeToString(b)
	s.sessions.Put(r.Context(), sessConsentState, state)
	s.sessions.Put(r.Context(), sessConsentAt, s.Now().Unix())
	http.Redirect(w, r, s.OAuth.Microsoft.ConsentURL(s.callbackURL(r), state), http.StatusSeeOther)
}
