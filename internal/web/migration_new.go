package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// migrationNew shows the empty Nuova Migrazione form.
func (s *server) migrationNew(w http.ResponseWriter, r *http.Request) {
	f := s.newForm(r)
	f.Preset = string(transfer.PresetStandardSSL)
	if p, err := transfer.ParsePreset(r.URL.Query().Get("preset")); err == nil {
		f.Preset = string(p)
	}
	f.OAuth.Open = f.Preset
	s.renderForm(w, r, http.StatusOK, f)
}

// newForm is the form's model without any user input.
func (s *server) newForm(r *http.Request) views.MigrationForm {
	c, l := me(r), lang(r)
	return views.MigrationForm{
		Presets:  presetOptions(l, s.ForbidPlainLogin),
		Timezone: i18n.Zone(l, c.Tenant.Timezone),
		MinRunAt: formValue(s.Now(), c.Loc),
		MaxBytes: s.MaxCSVBytes,
		MaxLines: s.MaxCSVLines,
		Errors:   map[string]string{},
		OAuth:    s.providerOAuth(r, c.Tenant.ID),
	}
}

func (s *server) renderForm(w http.ResponseWriter, r *http.Request, status int, f views.MigrationForm) {
	p := s.page(r, i18n.T(lang(r), "web.new.title"))
	p.Scripts = append(p.Scripts, "/static/preset.js")
	s.render(w, r, status, p, views.MigrationNewPage(p, f))
}
