package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// loginSubmit checks the email and password; on success it renews the
// session token (against session fixation) and goes back to the page that
// asked for the login (safeNext), else to the migrations.
func (s *server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l := r.Context(), lang(r)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	email := r.PostForm.Get("email")
	u, err := s.Login.Check(ctx, email, r.PostForm.Get("password"), clientIP(r, s.TrustedProxies))
	var throttled *auth.ThrottledError
	switch {
	case err == nil:
		if err := s.sessions.RenewToken(ctx); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.sessions.Put(ctx, sessUserID, u.ID)
		info(r).userID = u.ID
		s.Logger.InfoContext(ctx, "login", "request_id", requestID(r), "user_id", u.ID, "tenant_id", u.TenantID)
		s.recordAudit(r, store.AuditEvent{TenantID: u.TenantID, UserID: u.ID, Actor: u.Email, Operator: false,
			Action: store.AuditLogin, IP: clientIP(r, s.TrustedProxies)})
		http.Redirect(w, r, afterLogin(safeNext(r.PostForm.Get("next"))), http.StatusSeeOther)
		return
	case errors.As(err, &throttled):
		secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.loginFailed(w, r, http.StatusTooManyRequests, email, i18n.T(l, "web.login.throttled", waitText(l, secs)))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		// The account's tenant sees the failed attempt too.
		e := store.AuditEvent{Actor: store.NormalizeEmail(email), Action: store.AuditLoginFailed, IP: clientIP(r, s.TrustedProxies)}
		if u, err := store.GetUserByEmail(ctx, s.Pool, email); err == nil {
			e.TenantID, e.UserID = u.TenantID, u.ID
		}
		s.recordAudit(r, e)
		s.loginFailed(w, r, http.StatusUnauthorized, email, i18n.T(l, "web.login.bad_credentials"))
		return
	case errors.Is(err, auth.ErrBusy):
		w.Header().Set("Retry-After", "1")
		s.loginFailed(w, r, http.StatusServiceUnavailable, email, i18n.T(l, "web.login.busy"))
		return
	default:
		s.serverError(w, r, err)
		return
	}
}

func (s *server) loginFailed(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	p := s.page(r, i18n.T(lang(r), "web.login.title"))
	s.render(w, r, status, p, views.LoginPage(p, views.Login{Email: email, Error: msg, Next: safeNext(r.PostForm.Get("next"))}))
}

// waitText says how long to wait, in minutes when it is more than one.
func waitText(l i18n.Lang, secs int) string {
	if secs <= 60 {
		return i18n.T(l, "web.wait.seconds", secs)
	}
	return i18n.T(l, "web.wait.minutes", (secs+59)/60)
}
