package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// consentPanel is a panel whose Microsoft application is registered at the
// local OAuth2 server.
func consentPanel(t *testing.T) (*panel, *testenv.OAuthServer) {
	t.Helper()
	srv := testenv.SharedOAuth(t).Server
	srv.AddApp("panel-app", "panel-secret")
	tokens := &oauth.Tokens{
		Microsoft: oauth.Microsoft{ClientID: "panel-app", ClientSecret: "panel-secret", Authority: srv.URL()},
		Google:    oauth.Google{Email: "sa@trasloco.iam.example", ClientID: "104200000000000000042", PrivateKey: []byte("unused")},
	}
	return setup(t, panelOpts{oauth: tokens}), srv
}

// atMicrosoft plays the administrator at the consent page the panel sent
// the browser to: it answers (accept or cancel) and returns the panel path
// (with query) Microsoft sends the browser back to.
func atMicrosoft(t *testing.T, p *panel, consentURL, decision string) string {
	t.Helper()
	u, err := url.Parse(consentURL)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, oauth.MicrosoftScope, q.Get("scope"))
	require.Equal(t, "panel-app", q.Get("client_id"))
	require.Equal(t, p.srv.URL+"/microsoft/callback", q.Get("redirect_uri"))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	page, err := c.Get(consentURL)
	require.NoError(t, err)
	page.Body.Close()
	require.Equal(t, http.StatusOK, page.StatusCode)
	res, err := c.PostForm(u.Scheme+"://"+u.Host+u.Path, url.Values{
		"client_id": {q.Get("client_id")}, "redirect_uri": {q.Get("redirect_uri")}, "state": {q.Get("state")},
		"tenant": {tenantOfNextConsent}, "decision": {decision},
	})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	back, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, p.srv.URL+"/microsoft/callback", back.Scheme+"://"+back.Host+back.Path)
	return back.RequestURI()
}

var tenantOfNextConsent = "72f988bf-86f1-41af-91ab-2d7cd011db47"

func connect(t *testing.T, b *browser) string {
	t.Helper()
	res := b.post("/microsoft/connect", nil)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	return res.header.Get("Location")
}

func TestMicrosoftConsentGranted(t *testing.T) {
	t.Parallel()
	p, srv := consentPanel(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	newPage := b.get("/migrations/new?preset=office365")
	require.Contains(t, newPage.header.Get("Content-Security-Policy"), "form-action 'self' "+srv.URL(),
		"the connect form may be redirected to the consent page")
	page := newPage.doc(t)
	require.Equal(t, 1, page.Find(`[data-testid="oauth-ms-connect"]`).Length())
	_, open := page.Find(`[data-testid="oauth-microsoft"]`).Attr("open")
	require.True(t, open, "the Office 365 panel is open for the Office 365 type")
	_, open = page.Find(`[data-testid="oauth-google"]`).Attr("open")
	require.False(t, open)
	require.Contains(t, page.Find(`[data-testid="oauth-ms-cmd-sp"]`).Text(), "New-ServicePrincipal -AppId panel-app")
	require.Contains(t, page.Find(`[data-testid="oauth-ms-cmd-access"]`).Text(), "-AccessRights FullAccess")
	require.Equal(t, "104200000000000000042", page.Find(`[data-testid="oauth-google-client-id"]`).Text())
	require.Equal(t, "https://mail.google.com/", page.Find(`[data-testid="oauth-google-scope"]`).Text())

	back := atMicrosoft(t, p, connect(t, b), "accept")
	res := b.get(back)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/migrations/new?preset=office365", res.header.Get("Location"))
	d, err := store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Equal(t, tenantOfNextConsent, d.DirectoryID)

	page = b.get("/migrations/new?preset=office365").doc(t)
	require.Contains(t, page.Find(`[data-testid="flash"]`).Text(), "Microsoft 365 è collegato")
	require.Contains(t, page.Find(`[data-testid="oauth-ms-connected"]`).Text(), tenantOfNextConsent)

	// The state is good once: the same answer again changes nothing.
	require.NoError(t, store.DeleteMicrosoftDirectory(context.Background(), p.pool, tn.ID))
	b.get(back)
	_, err = store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, body := range p.bodies.all() {
		requireNoSecret(t, body, "panel-secret", "a page")
	}
}

func TestMicrosoftConsentRefused(t *testing.T) {
	t.Parallel()
	p, _ := consentPanel(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	back := atMicrosoft(t, p, connect(t, b), "cancel")
	require.Contains(t, back, "error=access_denied")
	res := b.get(back)
	require.Equal(t, http.StatusSeeOther, res.status)
	_, err := store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	flash := b.get("/migrations/new?preset=office365").doc(t).Find(`[data-testid="flash"]`).Text()
	require.Contains(t, flash, "consenso non è stato concesso (access_denied)")
}

func TestMicrosoftCallbackIsolation(t *testing.T) {
	t.Parallel()
	p, _ := consentPanel(t)
	acme, acmeEmail := p.tenant("acme", "acme.test")
	beta, betaEmail := p.tenant("beta", "beta.test")
	a, b := p.browser(), p.browser()
	a.login(acmeEmail)
	b.login(betaEmail)

	// Acme's administrator consents; beta's user replays acme's answer
	// (or forges one): beta's session never sent that state.
	back := atMicrosoft(t, p, connect(t, a), "accept")
	res := b.get(back)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, b.get("/migrations/new").doc(t).Find(`[data-testid="flash"]`).Text(), "non è partito da questa sessione")
	b.get("/microsoft/callback?admin_consent=True&tenant=" + tenantOfNextConsent + "&state=")
	for _, tn := range []store.Tenant{acme, beta} {
		_, err := store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
		require.ErrorIs(t, err, store.ErrNotFound, tn.Name)
	}

	// Acme's own answer still works for acme, and beta does not see it.
	a.get(back)
	_, err := store.GetMicrosoftDirectory(context.Background(), p.pool, acme.ID)
	require.NoError(t, err)
	require.Equal(t, 0, b.get("/migrations/new").doc(t).Find(`[data-testid="oauth-ms-connected"]`).Length())
	_, err = store.GetMicrosoftDirectory(context.Background(), p.pool, beta.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	// Without a session: to the login page, nothing stored.
	anon := p.browser()
	res = anon.get(back)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, res.header.Get("Location"), "/login")
}

func TestMicrosoftRoutesWithoutConfiguration(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	require.Equal(t, http.StatusNotFound, b.post("/microsoft/connect", nil).status)
	require.Equal(t, http.StatusNotFound, b.get("/microsoft/callback?state=x").status)
	page := b.get("/migrations/new?preset=office365").doc(t)
	require.Equal(t, 0, page.Find(`[data-testid="oauth-ms-connect"]`).Length())
	require.Contains(t, page.Find(`[data-testid="oauth-microsoft"]`).Text(), "non è configurato")
}

func TestEmptyPasswordOnlyWhereOAuthTakesIt(t *testing.T) {
	t.Parallel()
	p, _ := consentPanel(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	const csv = "anna@acme.test;outlook.office365.com;anna@contoso.test;\r\n"
	form := migrationForm()
	form.Set("preset", "office365")
	id := b.createMigration(form, csv)
	require.Equal(t, 1, p.validateJobs(id))

	require.NotContains(t, p.tableText("migration_lines"), "csv.password.empty")

	// Standard-SSL has no OAuth2: the same line is refused.
	form.Set("preset", "standard-ssl")
	b.createMigration(form, csv)
	require.Equal(t, 1, strings.Count(p.tableText("migration_lines"), `"csv.password.empty"`), "the reason is stored as its code")
}
