package web

import (
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// newPassword checks a new password and its repetition; errs maps a field
// to its message.
func newPassword(l i18n.Lang, pw, confirm string, errs map[string]string) {
	switch {
	case utf8.RuneCountInString(pw) < minPasswordLen:
		errs["password"] = i18n.T(l, "web.password.too_short", minPasswordLen)
	case len(pw) > 256:
		errs["password"] = i18n.T(l, "web.password.too_long")
	case pw != confirm:
		errs["confirm"] = i18n.T(l, "web.password.mismatch")
	}
}

func (s *server) renderPassword(w http.ResponseWriter, r *http.Request, status int, f views.PasswordForm) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	p := s.page(r, i18n.T(lang(r), "web.password.title"))
	s.render(w, r, status, p, views.PasswordPage(p, f))
}

// accountPasswordShow is the form that changes the signed-in user's own
// password.
func (s *server) accountPasswordShow(w http.ResponseWriter, r *http.Request) {
	s.renderPassword(w, r, http.StatusOK, views.PasswordForm{})
}

// accountPasswordSubmit changes the signed-in user's password, given the
// current one.
func (s *server) accountPasswordSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	f := views.PasswordForm{Errors: map[string]string{}}
	u, err := store.GetUser(ctx, s.Pool, c.User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok, err := s.checkPassword(ctx, u.PasswordHash, r.PostFormValue("current"))
	if errors.Is(err, auth.ErrBusy) {
		s.hashError(w, r, err)
		return
	}
	if !ok {
		f.Errors["current"] = i18n.T(l, "web.password.current_wrong")
	}
	newPassword(l, r.PostFormValue("password"), r.PostFormValue("confirm"), f.Errors)
	if len(f.Errors) > 0 {
		s.renderPassword(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	hash, err := s.hashPassword(ctx, r.PostFormValue("password"))
	if err != nil {
		s.hashError(w, r, err)
		return
	}
	if err := store.SetPasswordByID(ctx, s.Pool, u.TenantID, u.ID, hash); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(ctx, "password changed", "request_id", requestID(r), "user_id", u.ID)
	s.audit(r, store.AuditPasswordChanged, 0, "")
	s.flash(r, i18n.T(l, "web.password.done"), false)
	http.Redirect(w, r, "/migrations", http.StatusSeeOther)
}

// Throttling of reset emails (forgotSubmit).
const (
	resetsPerEmail = 3
	resetsPerIP    = 20
	resetWindow    = time.Hour
)

// forgotShow is "password dimenticata": the address to send a link to.
func (s *server) forgotShow(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, i18n.T(lang(r), "web.forgot.title"))
	s.render(w, r, http.StatusOK, p, views.ForgotPage(p, views.ForgotForm{}))
}

// forgotSubmit sends a one-time reset link (valid resetLifetime, stored
// hashed; a new one replaces the unused) to an enabled user of an enabled
// tenant. At most resetsPerEmail requests for one address and resetsPerIP
// from one client (its /64 for IPv6) count within resetWindow; the others
// send nothing, so nobody can flood an inbox. The answer is the same
// whether or not the address is known or the request throttled, so it
// tells nobody who has an account.
func (s *server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l := r.Context(), lang(r)
	email := store.NormalizeEmail(r.PostFormValue("email"))
	now := s.Now()
	ok, err := store.ReserveResetRequest(ctx, s.Pool, email, auth.ClientKey(clientIP(r, s.TrustedProxies)),
		now, now.Add(-resetWindow), resetsPerEmail, resetsPerIP)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var u store.User
	if ok {
		u, err = store.GetUserByEmail(ctx, s.Pool, email)
	}
	switch {
	case !ok:
		s.Logger.WarnContext(ctx, "password reset throttled", "request_id", requestID(r))
	case errors.Is(err, store.ErrNotFound), err == nil && (u.Disabled || u.TenantDisabled):
		s.Logger.InfoContext(ctx, "password reset for an unknown or disabled account", "request_id", requestID(r))
	case err != nil:
		s.serverError(w, r, err)
		return
	case s.Mail == nil:
		s.Logger.ErrorContext(ctx, "password reset: no mailer", "request_id", requestID(r))
	default:
		token, hash, err := newToken()
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := store.CreateUserToken(ctx, s.Pool, u.TenantID, u.ID, store.TokenReset, hash, s.Now().Add(resetLifetime)); err != nil {
			s.serverError(w, r, err)
			return
		}
		link := s.linkURL(r, "/password/set/"+token)
		if err := s.Mail.SendText(ctx, u.Email, i18n.T(l, "mail.reset.subject"), i18n.T(l, "mail.reset.body", link, int(resetLifetime.Minutes()))); err != nil {
			s.Logger.ErrorContext(ctx, "password reset email not sent", "request_id", requestID(r), "user_id", u.ID, "err", err)
		} else {
			s.Logger.InfoContext(ctx, "password reset link sent", "request_id", requestID(r), "user_id", u.ID)
		}
	}
	p := s.page(r, i18n.T(l, "web.forgot.title"))
	s.render(w, r, http.StatusOK, p, views.ForgotPage(p, views.ForgotForm{Sent: true}))
}

// passwordSetShow is the page of a one-time link (an invitation or a
// reset): a new password for its user, while the link is unused and not
// expired; otherwise a page that says the link no longer works.
func (s *server) passwordSetShow(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	u, _, err := store.TokenUser(r.Context(), s.Pool, tokenHash(token), s.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.linkGone(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.renderPassword(w, r, http.StatusOK, views.PasswordForm{Token: token, Email: u.Email})
}

// passwordSetSubmit sets the password through a one-time link and uses the
// link up; the user then signs in.
func (s *server) passwordSetSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l := r.Context(), lang(r)
	token := chi.URLParam(r, "token")
	u, _, err := store.TokenUser(ctx, s.Pool, tokenHash(token), s.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.linkGone(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f := views.PasswordForm{Token: token, Email: u.Email, Errors: map[string]string{}}
	newPassword(l, r.PostFormValue("password"), r.PostFormValue("confirm"), f.Errors)
	if len(f.Errors) > 0 {
		s.renderPassword(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	hash, err := s.hashPassword(ctx, r.PostFormValue("password"))
	if err != nil {
		s.hashError(w, r, err)
		return
	}
	u, err = store.UseToken(ctx, s.Pool, tokenHash(token), s.Now(), hash)
	if errors.Is(err, store.ErrNotFound) {
		s.linkGone(w, r) // used by a second tab meanwhile
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(ctx, "password set through a link", "request_id", requestID(r), "user_id", u.ID)
	// Signed out: the link's user is the actor.
	s.recordAudit(r, store.AuditEvent{Action: store.AuditPasswordSet, TenantID: u.TenantID, UserID: u.ID, Actor: u.Email,
		IP: clientIP(r, s.TrustedProxies)})
	s.flash(r, i18n.T(l, "web.password.set_done"), false)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *server) linkGone(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	p := s.page(r, i18n.T(l, "web.link.gone"))
	s.render(w, r, http.StatusNotFound, p, views.Error(p, views.ErrorPage{Heading: i18n.T(l, "web.link.gone"), Message: i18n.T(l, "web.link.gone_text")}))
}
