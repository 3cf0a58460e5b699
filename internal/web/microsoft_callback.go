package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// consentLifetime is how long an administrator has at Microsoft.
const consentLifetime = 30 * time.Minute

// errorCode is what of Microsoft's error parameter the page repeats.
var errorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// microsoftCallback is where Microsoft sends the administrator back after
// the admin consent. Only the state this session sent counts (a link
// forged elsewhere, or another session's, changes nothing); the directory
// is kept for the session's own tenant.
func (s *server) microsoftCallback(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	if !s.microsoftConfigured() {
		s.notFound(w, r)
		return
	}
	want := s.sessions.PopString(ctx, sessConsentState)
	at := time.Unix(s.sessions.GetInt64(ctx, sessConsentAt), 0)
	s.sessions.Remove(ctx, sessConsentAt)
	q := r.URL.Query()
	back := "/migrations/new?preset=office365"
	got := q.Get("state")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 || s.Now().Sub(at) > consentLifetime {
		s.flash(r, i18n.T(l, "oauth.ms.bad_state"), true)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if e := q.Get("error"); e != "" || q.Get("admin_consent") != "True" {
		if !errorCode.MatchString(e) {
			e = "access_denied"
		}
		s.flash(r, i18n.T(l, "oauth.ms.refused", e), true)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	tid := q.Get("tenant")
	if err := store.SetMicrosoftDirectory(ctx, s.Pool, c.Tenant.ID, tid); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			s.flash(r, i18n.T(l, "oauth.ms.refused", "invalid_tenant"), true)
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.OAuth.Forget(tid)
	s.Logger.InfoContext(ctx, "microsoft 365 connected", "tenant_id", c.Tenant.ID, "directory_id", tid, "request_id", requestID(r))
	s.flash(r, i18n.T(l, "oauth.ms.done"), false)
	http.Redirect(w, r, back, http.StatusSeeOther)
}
