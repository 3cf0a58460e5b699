package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestConsoleTenants(t *testing.T) {
	t.Parallel()
	p, mp := mailPanel(t)
	_, email := p.tenant("acme", "acme.test")
	op := p.browser()
	op.login(p.operator())
	ctx := context.Background()

	// Customers never reach it.
	cb := p.browser()
	cb.login(email)
	for _, u := range []string{"/admin/tenants", "/admin/tenants/1", "/admin/tenants/1/team", "/admin/tenants/1/settings"} {
		require.Equal(t, http.StatusNotFound, cb.get(u).status, u)
	}
	require.Equal(t, http.StatusNotFound, cb.post("/admin/tenants", url.Values{"name": {"x"}}).status)

	res := op.get("/admin/tenants")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 2, res.doc(t).Find(`[data-testid="console-tenant"]`).Length())
	require.Equal(t, http.StatusUnprocessableEntity, op.post("/admin/tenants", url.Values{"name": {"Beta"}, "domain": {"beta.test"}, "notify_email": {"x"}, "timezone": {"Europe/Rome"}}).status)
	res = op.post("/admin/tenants", url.Values{"name": {"Beta"}, "domain": {"beta.test"}, "notify_email": {"it@beta.test"}, "timezone": {"Europe/Rome"}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	beta, err := store.GetTenantByName(ctx, p.pool, "Beta")
	require.NoError(t, err)
	base := "/admin/tenants/" + itoa(beta.ID)
	require.Equal(t, base, res.header.Get("Location"))
	require.Equal(t, http.StatusUnprocessableEntity, op.post("/admin/tenants", url.Values{"name": {"Beta"}, "domain": {"beta2.test"}, "notify_email": {"it@beta.test"}, "timezone": {"Europe/Rome"}}).status)
	require.Equal(t, http.StatusNotFound, op.get("/admin/tenants/999999").status)

	// Domains: add, one of another tenant refused, the last one stays.
	require.Equal(t, http.StatusSeeOther, op.post(base+"/domains", url.Values{"domain": {"Beta-Due.test"}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, op.post(base+"/domains", url.Values{"domain": {"acme.test"}}).status)
	require.Equal(t, http.StatusSeeOther, op.post(base+"/domains/delete", url.Values{"domain": {"beta.test"}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, op.post(base+"/domains/delete", url.Values{"domain": {"beta-due.test"}}).status)
	beta, err = store.GetTenant(ctx, p.pool, beta.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"beta-due.test"}, beta.Domains)

	// Settings and users of the tenant, through the same pages as its own.
	res = op.get(base + "/settings")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, base+"/settings", res.doc(t).Find(`[data-testid="settings-form"]`).AttrOr("action", ""))
	res = op.post(base+"/settings", url.Values{"notify_emails": {"it@beta.test\ncapo@beta.test"}, "timezone": {"Europe/Rome"}, "language": {"en"}})
	require.Equal(t, base+"/settings", res.header.Get("Location"))
	st, err := store.GetTenantSettings(ctx, p.pool, beta.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"it@beta.test", "capo@beta.test"}, st.NotifyEmails)

	first := uniqueAddr(t, "primo")
	res = op.post(base+"/team/invite", url.Values{"email": {first}, "admin": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, base+"/team", res.header.Get("Location"))
	path := mailedLink(t, mp, first)
	nb := p.browser()
	require.Equal(t, http.StatusSeeOther, nb.post(path, url.Values{"password": {"la password del primo"}, "confirm": {"la password del primo"}}).status)
	require.Equal(t, http.StatusSeeOther, nb.loginWith(first, "la password del primo").status)
	require.Equal(t, http.StatusOK, nb.get("/team").status, "the first user administers the tenant")
	doc := op.get(base + "/team").doc(t)
	require.Contains(t, doc.Find(`[data-testid="team"]`).Text(), first)
	require.NotContains(t, doc.Find(`[data-testid="team"]`).Text(), email, "only this tenant's users")

	// Disable the tenant: its users are signed out.
	require.Equal(t, http.StatusSeeOther, op.post(base+"/disable", nil).status)
	require.Equal(t, http.StatusSeeOther, nb.get("/migrations").status)
	require.Contains(t, op.get(base).body, "Disabilitato")
	require.Equal(t, http.StatusSeeOther, op.post(base+"/enable", nil).status)
	require.True(t, strings.Contains(op.get("/admin/tenants").body, "beta-due.test"))
	p.requireAudited(0, store.AuditTenantCreated, store.AuditTenantChanged)
}
