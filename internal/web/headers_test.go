package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
)

// Every response carries the security headers: pages, errors, assets,
// probes, River's UI (with its own policy).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{riverUI: true})
	operatorEmail := p.operator()
	op := p.browser()
	op.login(operatorEmail)

	for _, path := range []string{"/login", "/migrations", "/migrations/new", "/migrations/999", "/no-such-page",
		"/static/style.css", "/healthz", RiverUIPath + "/"} {
		res := op.get(path)
		csp := res.header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
			require.Contains(t, csp, d, path)
		}
		require.NotContains(t, csp, "script-src", "%s: no script source beyond 'self'", path)
		require.NotContains(t, csp, "unsafe-eval", path)
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "same-origin", res.header.Get("Referrer-Policy"), path)
		require.Empty(t, res.header.Get("Strict-Transport-Security"), "%s: no HSTS over http", path)
	}
	// The panel's own pages allow no inline style at all and no data:
	// images; River's UI needs both.
	require.Contains(t, op.get("/migrations").header.Get("Content-Security-Policy"), "style-src 'self';")
	require.NotContains(t, op.get("/migrations").header.Get("Content-Security-Policy"), "unsafe-inline")
	ui := op.get(RiverUIPath + "/")
	require.Equal(t, http.StatusOK, ui.status)
	require.Contains(t, ui.header.Get("Content-Security-Policy"), "img-src 'self' data:")
	// Everything River's page loads comes from the panel (allowed by 'self').
	doc := ui.doc(t)
	doc.Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
		u := s.AttrOr("src", s.AttrOr("href", ""))
		require.True(t, strings.HasPrefix(u, RiverUIPath+"/"), "River's UI loads %q from elsewhere", u)
	})
	doc.Find("script:not([src])").Each(func(_ int, s *goquery.Selection) {
		require.Equal(t, "application/json", s.AttrOr("type", ""), "River's UI has an inline script the policy would block")
	})
}

func TestHSTSWhenHTTPS(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{baseURL: "https://panel.example"})
	res := p.browser().get("/login")
	require.Equal(t, "max-age=31536000", res.header.Get("Strict-Transport-Security"))
}

// The language links of a page stay on the panel, whatever path was asked
// for: browsers read "/\host" and "//host" as another site.
func TestLanguageLinksStayOnSite(t *testing.T) {
	t.Parallel()
	p := setup(t)
	for _, path := range []string{"/%5Cevil.example/x", "/%5C%5Cevil.example", "/%2F%2Fevil.example/x", "/%09/evil.example"} {
		res := p.browser().get(path)
		require.Equal(t, http.StatusNotFound, res.status, path)
		links := res.doc(t).Find(`[data-testid="lang-it"], [data-testid="lang-en"]`)
		require.Positive(t, links.Length(), path)
		links.Each(func(_ int, s *goquery.Selection) {
			href := s.AttrOr("href", "")
			require.True(t, strings.HasPrefix(href, "/"), "%s: %q", path, href)
			require.False(t, strings.HasPrefix(href, "//") || strings.HasPrefix(href, `/\`) || strings.Contains(href, `\`),
				"%s: the language link %q leaves the site", path, href)
		})
	}
	res := p.browser().get("/login")
	require.Equal(t, "/login?lang=en", res.doc(t).Find(`[data-testid="lang-en"]`).AttrOr("href", ""))
}

// TestPagesHaveNoInlineCode renders the panel's pages and finds none of
// what the policy blocks: no inline <script>, no style attribute, no on…=
// handler, no <style> element; and the policy allows no inline style.
func TestPagesHaveNoInlineCode(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	anon := p.browser()
	b.login(email)
	id, _ := p.scheduleMigration(b, tn, migrationForm())
	base := "/migrations/" + itoa(id)

	pages := map[string]response{}
	for _, path := range []string{"/login", "/password/forgot"} {
		pages[path] = anon.get(path)
	}
	for _, path := range []string{"/migrations", "/migrations/new", "/migrations/new?preset=office365", base, base + "/edit",
		base + "/cancel", base + "/resources", "/settings", "/team", "/audit", "/account/password", "/no-such-page"} {
		pages[path] = b.get(path)
	}
	for path, res := range pages {
		require.NotContains(t, res.header.Get("Content-Security-Policy"), "unsafe-inline", path)
		doc := res.doc(t)
		require.Positive(t, doc.Find("main, form").Length(), "%s: a page was rendered", path)
		require.Zero(t, doc.Find("script:not([src]), style").Length(), "%s: inline script or <style>", path)
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				require.NotEqual(t, "style", a.Key, "%s: a style attribute on <%s>", path, goquery.NodeName(s))
				require.False(t, strings.HasPrefix(a.Key, "on"), "%s: the handler %s=%q on <%s>", path, a.Key, a.Val, goquery.NodeName(s))
			}
		})
	}
}
