package web

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{maxFailures: 3})
	_, email := p.tenant("acme", "acme.test")

	t.Run("signed out goes to login", func(t *testing.T) {
		b := p.browser()
		res := b.get("/migrations")
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/login", res.header.Get("Location"))
		res = b.get("/login")
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, 1, res.doc(t).Find(`[data-testid="login-form"]`).Length())
		require.Contains(t, res.body, `lang="it"`)
		require.Contains(t, res.body, "Accedi")
	})

	t.Run("ok, then logout", func(t *testing.T) {
		b := p.browser()
		b.login(email)
		res := b.get("/migrations")
		require.Equal(t, http.StatusOK, res.status)
		doc := res.doc(t)
		require.Equal(t, email, doc.Find(`[data-testid="user"]`).Text())
		require.Equal(t, 1, doc.Find(`[data-testid="no-migrations"]`).Length())

		res = b.post("/logout", nil)
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/login", res.header.Get("Location"))
		res = b.get("/migrations")
		require.Equal(t, http.StatusSeeOther, res.status, "the session must be gone after logout")
	})

	t.Run("wrong password", func(t *testing.T) {
		b := p.browser()
		res := b.post("/login", url.Values{"email": {"nobody@acme.test"}, "password": {"x"}})
		require.Equal(t, http.StatusUnauthorized, res.status)
		doc := res.doc(t)
		require.Equal(t, "Email o password errati.", doc.Find(`[data-testid="login-error"]`).Text())
		v, _ := doc.Find(`input[name="email"]`).Attr("value")
		require.Equal(t, "nobody@acme.test", v)
		require.NotContains(t, res.body, `value="x"`, "the password is never sent back")
	})

	t.Run("throttled", func(t *testing.T) {
		b := p.browser()
		for range 3 {
			res := b.post("/login", url.Values{"email": {email}, "password": {"wrong"}})
			require.Equal(t, http.StatusUnauthorized, res.status)
		}
		// Even the right password waits now.
		res := b.post("/login", url.Values{"email": {email}, "password": {userPassword}},
			"Accept-Language", "en-US,en;q=0.9")
		require.Equal(t, http.StatusTooManyRequests, res.status)
		require.NotEmpty(t, res.header.Get("Retry-After"))
		msg := res.doc(t).Find(`[data-testid="login-error"]`).Text()
		require.Regexp(t, `^Too many failed sign-in attempts: try again in \d+ (minutes|seconds)\.$`, msg)
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		res := b.post("/logout", nil, h...)
		require.Equal(t, http.StatusForbidden, res.status, "%v", h)
	}
	// A cross-site login attempt is refused too (login CSRF).
	res := b.post("/login", url.Values{"email": {email}, "password": {userPassword}}, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, res.status)

	// Still signed in: the refused logout changed nothing.
	require.Equal(t, http.StatusOK, b.get("/migrations").status)
	// Same origin passes.
	res = b.post("/logout", nil, "Origin", p.srv.URL, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, res.status)
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	p := setup(t)
	b := p.browser()
	req := func(path, accept string) string {
		r, _ := http.NewRequest(http.MethodGet, p.srv.URL+path, nil)
		if accept != "" {
			r.Header.Set("Accept-Language", accept)
		}
		return b.do(r).body
	}
	require.Contains(t, req("/login", ""), `lang="it"`)
	require.Contains(t, req("/login", "en-GB,en;q=0.8"), `lang="en"`)
	// A choice sticks, whatever the browser asks.
	require.Contains(t, req("/login?lang=it", "en"), `lang="it"`)
	require.Contains(t, req("/login", "en"), `lang="it"`)
	require.Contains(t, req("/login?lang=en", ""), `lang="en"`)
	require.Contains(t, req("/login", ""), "Sign in")
}

func TestStaticAndHome(t *testing.T) {
	t.Parallel()
	p := setup(t)
	b := p.browser()
	for _, path := range []string{"/static/style.css", "/static/status.js"} {
		res := b.get(path)
		require.Equal(t, http.StatusOK, res.status, path)
		require.NotEmpty(t, res.body)
	}
	res := b.get("/")
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/login", res.header.Get("Location"))
	require.Equal(t, http.StatusNotFound, b.get("/nowhere").status)
	require.NotEmpty(t, res.header.Get("X-Request-Id"))
}

// Twenty wrong passwords for one account at once from one client: at most
// five are judged (401), the others throttled (429) or, with every hashing
// slot taken, told to come back (503).
func TestLoginBurst(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- p.browser().post("/login", url.Values{"email": {email}, "password": {"wrong"}}).status
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	require.LessOrEqual(t, counts[http.StatusUnauthorized], 5, "%v", counts)
	require.Equal(t, 20, counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable], "%v", counts)
}

// A disabled account answers the right password like a wrong one.
func TestLoginDisabledLikeWrongPassword(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	require.NoError(t, store.SetUserDisabled(context.Background(), p.pool, email, true))
	right := p.browser().post("/login", url.Values{"email": {email}, "password": {userPassword}})
	wrong := p.browser().post("/login", url.Values{"email": {email}, "password": {"wrong"}})
	require.Equal(t, http.StatusUnauthorized, right.status)
	require.Equal(t, wrong.status, right.status)
	require.Equal(t, wrong.doc(t).Find(`[data-testid="login-error"]`).Text(), right.doc(t).Find(`[data-testid="login-error"]`).Text())
}
