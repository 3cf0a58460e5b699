package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// keyConsoleBase marks a request the operators' console makes on a
// tenant's settings or users: the base of its URLs.
type consoleBaseKey struct{}

// consoleBase is "/admin/tenants/{id}" in the console, "" on the tenant's
// own pages.
func consoleBase(r *http.Request) string {
	b, _ := r.Context().Value(consoleBaseKey{}).(string)
	return b
}

// consoleTenant runs a console request on tenant {tenantID} as its own
// administrator would (the operator stays the user, and every action is
// logged with the operator's id), so the settings and team handlers serve
// the console too. An unknown tenant is a 404.
func (s *server) consoleTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := r.Context(), me(r)
		id, err := strconv.ParseInt(chi.URLParam(r, "tenantID"), 10, 64)
		if err != nil || id <= 0 {
			s.notFound(w, r)
			return
		}
		t, err := store.GetTenant(ctx, s.Pool, id)
		if errors.Is(err, store.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		loc, err := time.LoadLocation(t.Timezone)
		if err != nil {
			s.serverError(w, r, fmt.Errorf("tenant %d time zone %q: %w", t.ID, t.Timezone, err))
			return
		}
		s.Logger.InfoContext(ctx, "operator console on a tenant", "request_id", requestID(r), "user_id", c.User.ID,
			"tenant_id", t.ID, "method", r.Method, "path", r.URL.Path)
		ctx = context.WithValue(ctx, keyUser, &current{User: c.User, Tenant: t, Loc: loc})
		ctx = context.WithValue(ctx, consoleBaseKey{}, "/admin/tenants/"+strconv.FormatInt(t.ID, 10))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// consoleTenants lists every tenant, with the form that creates one.
func (s *server) consoleTenants(w http.ResponseWriter, r *http.Request) {
	s.renderConsoleTenants(w, r, http.StatusOK, views.ConsoleTenantForm{Timezone: store.DefaultTimezone, Errors: map[string]string{}})
}

func (s *server) renderConsoleTenants(w http.ResponseWriter, r *http.Request, status int, f views.ConsoleTenantForm) {
	ts, err := store.ListTenants(r.Context(), s.Pool)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := views.ConsoleTenants{Form: f}
	for _, t := range ts {
		v.Tenants = append(v.Tenants, views.ConsoleTenantRow{ID: t.ID, Name: t.Name, Domains: strings.Join(t.Domains, ", "), Disabled: t.Disabled})
	}
	p := s.page(r, i18n.T(lang(r), "web.console.title"))
	s.render(w, r, status, p, views.ConsoleTenantsPage(p, v))
}

// consoleTenantCreate creates a tenant with its first domain and
// notification address; its first user is then invited from its Utenti.
func (s *server) consoleTenantCreate(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	f := views.ConsoleTenantForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), Domain: strings.TrimSpace(r.PostFormValue("domain")),
		NotifyEmail: strings.TrimSpace(r.PostFormValue("notify_email")), Timezone: strings.TrimSpace(r.PostFormValue("timezone")),
		Errors: map[string]string{},
	}
	if f.Name == "" {
		f.Errors["name"] = i18n.T(l, "web.name.required")
	}
	if f.Domain == "" || !strings.Contains(f.Domain, ".") {
		f.Errors["domain"] = i18n.T(l, "web.console.domain_invalid")
	}
	if a, err := mail.ParseAddress(f.NotifyEmail); err != nil || a.Address != f.NotifyEmail {
		f.Errors["notify_email"] = i18n.T(l, "web.team.email_invalid")
	}
	if _, err := time.LoadLocation(f.Timezone); err != nil || f.Timezone == "" || f.Timezone == "Local" {
		f.Errors["timezone"] = i18n.T(l, "web.settings.timezone_invalid")
	}
	if len(f.Errors) > 0 {
		s.renderConsoleTenants(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	t, err := store.CreateTenant(ctx, s.Pool, store.NewTenant{Name: f.Name, NotifyEmail: strings.ToLower(f.NotifyEmail), Timezone: f.Timezone, Domains: []string{f.Domain}})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrInvalid):
		f.Errors["name"] = i18n.T(l, "web.console.taken")
		s.renderConsoleTenants(w, r, http.StatusUnprocessableEntity, f)
		return
	default:
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(ctx, "tenant created", "request_id", requestID(r), "user_id", c.User.ID, "tenant_id", t.ID)
	s.recordAudit(r, store.AuditEvent{Action: store.AuditTenantCreated, TenantID: t.ID, UserID: c.User.ID, Actor: c.User.Email,
		Operator: true, Detail: t.Name, IP: clientIP(r, s.TrustedProxies)})
	s.flash(r, i18n.T(l, "web.console.created", t.Name), false)
	http.Redirect(w, r, "/admin/tenants/"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}

// consoleTenantShow is one tenant in the console.
func (s *server) consoleTenantShow(w http.ResponseWriter, r *http.Request) {
	s.renderConsoleTenant(w, r, http.StatusOK, "")
}

func (s *server) renderConsoleTenant(w http.ResponseWriter, r *http.Request, status int, domainErr string) {
	t, err := store.GetTenant(r.Context(), s.Pool, me(r).Tenant.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := s.page(r, t.Name)
	s.render(w, r, status, p, views.ConsoleTenantPage(p, views.ConsoleTenant{ID: t.ID, Name: t.Name, Domains: t.Domains, Disabled: t.Disabled, Error: domainErr}))
}

// consoleTenantChange adds or removes a domain, disables or enables the
// tenant.
func (s *server) consoleTenantChange(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, l, c := r.Context(), lang(r), me(r)
		var err error
		domain := r.PostFormValue("domain")
		switch action {
		case "add_domain":
			err = store.AddTenantDomain(ctx, s.Pool, c.Tenant.ID, domain)
		case "remove_domain":
			err = store.RemoveTenantDomain(ctx, s.Pool, c.Tenant.ID, domain)
		case "disable":
			err = store.SetTenantDisabledByID(ctx, s.Pool, c.Tenant.ID, true)
		case "enable":
			err = store.SetTenantDisabledByID(ctx, s.Pool, c.Tenant.ID, false)
		}
		switch {
		case err == nil:
		case errors.Is(err, store.ErrAlreadyExists):
			s.renderConsoleTenant(w, r, http.StatusUnprocessableEntity, i18n.T(l, "web.console.domain_taken"))
			return
		case errors.Is(err, store.ErrInvalid):
			s.renderConsoleTenant(w, r, http.StatusUnprocessableEntity, i18n.T(l, "web.console.domain_invalid"))
			return
		case errors.Is(err, store.ErrWrongState):
			s.renderConsoleTenant(w, r, http.StatusUnprocessableEntity, i18n.T(l, "web.console.last_domain"))
			return
		case errors.Is(err, store.ErrNotFound):
			s.notFound(w, r)
			return
		default:
			s.serverError(w, r, err)
			return
		}
		s.Logger.InfoContext(ctx, "tenant changed", "request_id", requestID(r), "user_id", c.User.ID, "tenant_id", c.Tenant.ID, "action", action)
		s.audit(r, store.AuditTenantChanged, 0, strings.TrimSpace(action+" "+domain))
		s.flash(r, i18n.T(l, "web.console.done"), false)
		http.Redirect(w, r, consoleBase(r), http.StatusSeeOther)
	}
}
