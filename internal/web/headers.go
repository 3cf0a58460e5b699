package web

import (
	"net/http"
	"strings"
)

// Content-Security-Policy of the panel's own pages: everything from the
// panel itself, no inline script, no framing (the one-click "Annulla" and
// "Riprova" forms cannot be clickjacked), no <base>, forms only to the
// panel. The pages' few style attributes are allowed (style-src-attr); a
// <style> element or a stylesheet from elsewhere is not.
const panelCSP = "default-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// riverUICSP is the policy of River's UI (RiverUIPath): the same, except
// that its stylesheet draws icons from data: URLs and its components set
// inline styles. Its configuration is a <script type="application/json">,
// a data block no policy blocks; its code is a module from the panel.
const riverUICSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// securityHeaders sets, on every response (probes, assets, errors
// included): the Content-Security-Policy, nosniff, a Referrer-Policy that
// sends no URL (which may hold a migration id) to other sites, and, when
// the panel's base URL is https, HSTS for a year.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	hsts := s.BaseURL != nil && s.BaseURL.Scheme == "https"
	csp := panelCSP
	if s.microsoftConfigured() {
		// "Collega Microsoft 365" posts to the panel, which redirects the
		// form to Microsoft's consent page: form-action covers redirects.
		csp += " " + s.OAuth.Microsoft.AuthorityOrigin()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.URL.Path == RiverUIPath || strings.HasPrefix(r.URL.Path, RiverUIPath+"/") {
			h.Set("Content-Security-Policy", riverUICSP)
		} else {
			h.Set("Content-Security-Policy", csp)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY") // browsers without frame-ancestors
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// localPath is the request's path for links back to this page (the
// language switch), or "/" when a browser could read it as another site:
// "//host" and "/\host" are both taken as host by browsers.
func localPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		return "/"
	}
	return p
}
