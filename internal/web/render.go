package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// page returns the Layout model of the request, taking the flash message
// out of the session.
func (s *server) page(r *http.Request, title string) views.Page {
	ctx := r.Context()
	p := views.Page{Lang: lang(r), Title: title, LangPath: localPath(r)}
	if c := me(r); c != nil {
		p.UserEmail, p.TenantName, p.Operator = c.User.Email, c.Tenant.Name, c.User.Operator
		if ok, err := s.isAdmin(r); err == nil {
			p.Admin = ok
		}
	}
	if f := s.sessions.PopString(ctx, sessFlash); f != "" {
		p.Flash, p.FlashError = f, s.sessions.PopBool(ctx, sessFlashError)
	}
	return p
}

// render writes content inside Layout with the given status. It renders
// into a buffer first, so a failing component never leaves half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, p views.Page, content templ.Component) {
	var buf bytes.Buffer
	if err := views.Layout(p, content).Render(r.Context(), &buf); err != nil {
		s.Logger.ErrorContext(r.Context(), "render page", "request_id", requestID(r), "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// flash stores a one-time message shown by the next page.
func (s *server) flash(r *http.Request, msg string, isError bool) {
	s.sessions.Put(r.Context(), sessFlash, msg)
	s.sessions.Put(r.Context(), sessFlashError, isError)
}

// notFound is the 404 page; another tenant's migration gets it too.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	p := s.page(r, i18n.T(l, "web.error.not_found"))
	s.render(w, r, http.StatusNotFound, p, views.Error(p, views.ErrorPage{
		Heading: i18n.T(l, "web.error.not_found"), Message: i18n.T(l, "web.error.not_found_text"),
	}))
}

// serverError logs err and answers 500 without its text: internal errors
// never reach a page.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.ErrorContext(r.Context(), "request failed", "request_id", requestID(r), "method", r.Method, "path", r.URL.Path, "err", err)
	l := lang(r)
	p := s.page(r, i18n.T(l, "web.error.server"))
	s.render(w, r, http.StatusInternalServerError, p, views.Error(p, views.ErrorPage{
		Heading: i18n.T(l, "web.error.server"), Message: i18n.T(l, "web.error.server_text", requestID(r)),
	}))
}

// loadMigration reads the {id} of the URL within the signed-in tenant. It
// answers 404 itself (and returns ok=false) for a malformed id, a missing
// migration or another tenant's.
func (s *server) loadMigration(w http.ResponseWriter, r *http.Request) (store.Migration, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return store.Migration{}, false
	}
	m, err := store.GetMigration(r.Context(), s.Pool, me(r).Tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return store.Migration{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return store.Migration{}, false
	}
	return m, true
}
