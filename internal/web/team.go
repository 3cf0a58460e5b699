package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// teamShow lists the tenant's users, for a tenant administrator.
func (s *server) teamShow(w http.ResponseWriter, r *http.Request) {
	s.renderTeam(w, r, http.StatusOK, views.Team{Errors: map[string]string{}})
}

func (s *server) renderTeam(w http.ResponseWriter, r *http.Request, status int, v views.Team) {
	c := me(r)
	v.Base = consoleBase(r)
	ms, err := store.ListTeam(r.Context(), s.Pool, c.Tenant.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, m := range ms {
		v.Members = append(v.Members, views.TeamRow{ID: m.ID, Email: m.Email, Admin: m.Admin, Disabled: m.Disabled, Invited: m.Invited, Self: m.ID == c.User.ID})
	}
	p := s.page(r, i18n.T(lang(r), "web.team.title"))
	s.render(w, r, status, p, views.TeamPage(p, v))
}

// teamInvite invites a colleague: a user of the tenant who cannot sign in
// until they choose a password through the one-time link the email
// brings (valid inviteLifetime, stored hashed). The user and the token are
// written only if the email went out.
func (s *server) teamInvite(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	v := views.Team{Email: strings.TrimSpace(r.PostFormValue("email")), Admin: r.PostFormValue("admin") != "", Errors: map[string]string{}}
	email := store.NormalizeEmail(v.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		v.Errors["email"] = i18n.T(l, "web.team.email_invalid")
		s.renderTeam(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if s.Mail == nil {
		v.Errors["email"] = i18n.T(l, "web.mail.unavailable")
		s.renderTeam(w, r, http.StatusServiceUnavailable, v)
		return
	}
	token, hash, err := newToken()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pw, err := s.unusablePassword(ctx)
	if err != nil {
		s.hashError(w, r, err)
		return
	}
	tenantLang := i18n.Parse(c.Tenant.Language)
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		u, err := store.CreateUser(ctx, tx, c.Tenant.ID, store.NewUser{Email: email, PasswordHash: pw})
		if err != nil {
			return err
		}
		if v.Admin {
			if err := store.SetTeamMemberAdmin(ctx, tx, c.Tenant.ID, u.ID, true); err != nil {
				return err
			}
		}
		if err := store.CreateUserToken(ctx, tx, c.Tenant.ID, u.ID, store.TokenInvite, hash, s.Now().Add(inviteLifetime)); err != nil {
			return err
		}
		link := s.linkURL(r, "/password/set/"+token)
		return s.Mail.SendText(ctx, email, i18n.T(tenantLang, "mail.invite.subject", c.Tenant.Name),
			i18n.T(tenantLang, "mail.invite.body", c.User.Email, c.Tenant.Name, link, int(inviteLifetime.Hours()/24)))
	})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrAlreadyExists):
		v.Errors["email"] = i18n.T(l, "web.team.email_taken")
		s.renderTeam(w, r, http.StatusUnprocessableEntity, v)
		return
	default:
		s.Logger.ErrorContext(ctx, "invitation not sent", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "err", err)
		v.Errors["email"] = i18n.T(l, "web.mail.failed")
		s.renderTeam(w, r, http.StatusBadGateway, v)
		return
	}
	s.Logger.InfoContext(ctx, "colleague invited", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "user_id", c.User.ID, "admin", v.Admin)
	s.audit(r, store.AuditUserInvited, 0, email)
	s.flash(r, i18n.T(l, "web.team.invited_done", email), false)
	http.Redirect(w, r, consoleBase(r)+"/team", http.StatusSeeOther)
}

// teamMember changes one of the tenant's users: disable, enable, delete.
// Another tenant's user is a 404; nobody disables or removes themselves.
func (s *server) teamMember(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, l, c := r.Context(), lang(r), me(r)
		id, err := strconv.ParseInt(chi.URLParam(r, "userID"), 10, 64)
		if err != nil || id <= 0 {
			s.notFound(w, r)
			return
		}
		m, err := store.GetTeamMember(ctx, s.Pool, c.Tenant.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if id == c.User.ID {
			s.flash(r, i18n.T(l, "web.team.not_self"), true)
			http.Redirect(w, r, consoleBase(r)+"/team", http.StatusSeeOther)
			return
		}
		switch action {
		case "disable":
			err = store.SetTeamMemberDisabled(ctx, s.Pool, c.Tenant.ID, id, true)
		case "enable":
			err = store.SetTeamMemberDisabled(ctx, s.Pool, c.Tenant.ID, id, false)
		case "delete":
			err = store.DeleteTeamMember(ctx, s.Pool, c.Tenant.ID, id)
		default:
			err = fmt.Errorf("team: unknown action %q", action)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.InfoContext(ctx, "team member changed", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
			"user_id", c.User.ID, "member_id", id, "action", action)
		s.audit(r, map[string]string{"disable": store.AuditUserDisabled, "enable": store.AuditUserEnabled, "delete": store.AuditUserDeleted}[action], 0, m.Email)
		s.flash(r, i18n.T(l, "web.team.done_"+action, m.Email), false)
		http.Redirect(w, r, consoleBase(r)+"/team", http.StatusSeeOther)
	}
}
