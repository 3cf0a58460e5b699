package web

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxNotifyEmails bounds the notification addresses of a tenant.
const maxNotifyEmails = 10

// settingsShow is Impostazioni, for a tenant administrator.
func (s *server) settingsShow(w http.ResponseWriter, r *http.Request) {
	st, err := store.GetTenantSettings(r.Context(), s.Pool, me(r).Tenant.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderSettings(w, r, http.StatusOK, views.Settings{
		Base:         consoleBase(r),
		NotifyEmails: strings.Join(st.NotifyEmails, "\n"), Timezone: st.Timezone, Language: st.Language,
	})
}

func (s *server) renderSettings(w http.ResponseWriter, r *http.Request, status int, v views.Settings) {
	l := lang(r)
	v.Languages = []views.Option{
		{Value: "it", Label: "Italiano", Selected: v.Language != "en"},
		{Value: "en", Label: "English", Selected: v.Language == "en"},
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	p := s.page(r, i18n.T(l, "web.settings.title"))
	s.render(w, r, status, p, views.SettingsPage(p, v))
}

// settingsSubmit stores the tenant's notification addresses (one or more:
// the completion email goes to all), its time zone (the panel's times and
// the schedule's) and the language of its emails.
func (s *server) settingsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	v := views.Settings{
		Base:         consoleBase(r),
		NotifyEmails: r.PostFormValue("notify_emails"),
		Timezone:     strings.TrimSpace(r.PostFormValue("timezone")),
		Language:     r.PostFormValue("language"),
		Errors:       map[string]string{},
	}
	addrs := store.LowerEmails(strings.FieldsFunc(v.NotifyEmails, func(r rune) bool { return r == '\n' || r == ',' || r == ';' || r == '\r' }))
	switch {
	case len(addrs) == 0:
		v.Errors["notify_emails"] = i18n.T(l, "web.settings.notify_required")
	case len(addrs) > maxNotifyEmails:
		v.Errors["notify_emails"] = i18n.T(l, "web.settings.notify_too_many", maxNotifyEmails)
	}
	for _, a := range addrs {
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a || !strings.Contains(a[strings.LastIndex(a, "@")+1:], ".") {
			v.Errors["notify_emails"] = i18n.T(l, "web.settings.notify_invalid", a)
			break
		}
	}
	if _, err := time.LoadLocation(v.Timezone); err != nil || v.Timezone == "" || v.Timezone == "Local" {
		v.Errors["timezone"] = i18n.T(l, "web.settings.timezone_invalid")
	}
	if v.Language != "it" && v.Language != "en" {
		v.Language = "it"
	}
	if len(v.Errors) > 0 {
		s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := store.SetTenantSettings(ctx, s.Pool, c.Tenant.ID, store.TenantSettings{NotifyEmails: addrs, Timezone: v.Timezone, Language: v.Language}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.Logger.InfoContext(ctx, "tenant settings changed", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "user_id", c.User.ID)
	s.audit(r, store.AuditSettingsChanged, 0, fmt.Sprintf("%s, %s, %s", strings.Join(addrs, " "), v.Timezone, v.Language))
	s.flash(r, i18n.T(l, "web.settings.done"), false)
	http.Redirect(w, r, consoleBase(r)+"/settings", http.StatusSeeOther)
}
