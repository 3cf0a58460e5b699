package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/migrations/2/resources", "/migrations/2/resources"},
		{"/migrations/2/mailboxes/5/runs/1/log?x=1", "/migrations/2/mailboxes/5/runs/1/log?x=1"},
		{"/migrations?page=2", "/migrations?page=2"},
		{"/migrations", ""},
		{"", ""},
		{"/", ""},
		{"/login", ""},
		{"/logout", ""},
		{"/static/style.css", ""},
		{"//evil.example/x", ""},
		{"/\\evil.example", ""},
		{"\\\\evil.example", ""},
		{"https://evil.example/migrations", ""},
		{"http:/evil.example", ""},
		{"javascript:alert(1)", ""},
		{"migrations/2", ""},
		{"/%2F%2Fevil.example", ""},
		{"/migrations/../..//evil.example", ""},
		{"/./migrations", ""},
		{"/migrations/2\r\nSet-Cookie: x=1", ""},
		{"/migrations/2\t", ""},
		{"/migrations/2#frag", ""},
		{"/" + string(make([]byte, maxNextLen)), ""},
	} {
		require.Equal(t, tc.want, safeNext(tc.in), "%q", tc.in)
	}
}

// A link opened signed out (the email's "Apri Risorse") comes back to its
// page after the login, and only to a path of the panel.
func TestLoginReturnsToTheRequestedPage(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{})
	_, email := p.tenant("acme", "acme.test")

	b := p.browser()
	res := b.get("/migrations/7/resources")
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/login?next=%2Fmigrations%2F7%2Fresources", res.header.Get("Location"))

	res = b.get("/login?next=%2Fmigrations%2F7%2Fresources")
	next, ok := res.doc(t).Find(`[data-testid="login-next"]`).Attr("value")
	require.True(t, ok)
	require.Equal(t, "/migrations/7/resources", next)

	// A wrong password keeps the return path in the form.
	res = b.post("/login", url.Values{"email": {email}, "password": {"wrong"}, "next": {next}})
	require.Equal(t, http.StatusUnauthorized, res.status)
	again, _ := res.doc(t).Find(`[data-testid="login-next"]`).Attr("value")
	require.Equal(t, next, again)

	res = b.post("/login", url.Values{"email": {email}, "password": {userPassword}, "next": {next}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/migrations/7/resources", res.header.Get("Location"))

	// Another site is never a place to return to.
	for _, evil := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		b := p.browser()
		res := b.post("/login", url.Values{"email": {email}, "password": {userPassword}, "next": {evil}})
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/migrations", res.header.Get("Location"), evil)
	}
	// Signed in already: /login?next= goes straight there.
	res = b.get("/login?next=%2Fmigrations%2F7")
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/migrations/7", res.header.Get("Location"))
}
