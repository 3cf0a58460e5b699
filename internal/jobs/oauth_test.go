package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// o365 is a customer on an Office 365-like server (OAuth only) whose
// administrator connected Microsoft 365.
type o365 struct {
	*fixture
	env    *testenv.OAuthEnv
	dir    string // the directory (Entra tenant) id
	domain string
}

func setupO365(t *testing.T) *o365 {
	t.Helper()
	f := setup(t)
	env := testenv.SharedOAuth(t)
	n := time.Now().UnixNano()
	o := &o365{fixture: f, env: env, dir: fmt.Sprintf("dir-%d", n), domain: fmt.Sprintf("c%d.test", n)}
	env.Server.AddApp("jobs-app", "jobs-secret")
	env.Server.AddTenant(o.dir, o.domain)
	env.Server.Consent(o.dir, true)
	env.Server.GrantFullAccess(o.dir, true)
	require.NoError(t, store.SetMicrosoftDirectory(f.ctx, f.pool, f.tenant.ID, o.dir))
	f.deps.OAuth = &oauth.Tokens{
		Microsoft:  oauth.Microsoft{ClientID: "jobs-app", ClientSecret: "jobs-secret", Authority: env.Server.URL()},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	f.deps.OAuthHosts = []string{"127.0.0.1"} // the OAuth-only Dovecot's
	return o
}

// line adds a local mailbox and its remote one on the OAuth-only server and
// returns the CSV line, with password pw (may be empty).
func (o *o365) line(t *testing.T, pw string) string {
	t.Helper()
	csv, _, _ := o.mailbox(t, pw)
	return csv
}

// mailbox is line, with the local and the remote user.
func (o *o365) mailbox(t *testing.T, pw string) (csv, local, remote string) {
	t.Helper()
	local = testenv.UniqueUser(t, "acme.test")
	require.NoError(t, o.dst.AddUser(local, "dest-pw"))
	remote = testenv.UniqueUser(t, o.domain)
	require.NoError(t, o.env.OAuthOnly.AddUser(remote, "old-password"))
	return fmt.Sprintf("%s;%s;%s;%s\r\n", local, o.env.OAuthOnly.TLSAddr(), remote, pw), local, remote
}

func (o *o365) validate(t *testing.T, csv string) map[int]string {
	t.Helper()
	m := o.migration(t, csv, migrationOpts{insecureTLS: true, preset: transfer.PresetOffice365, emptyPasswords: true})
	o.work(t, m)
	return o.lineErrors(t, m)
}

func TestValidateOffice365WithAdminConsent(t *testing.T) {
	t.Parallel()
	o := setupO365(t)
	errs := o.validate(t, o.line(t, "")+o.line(t, "old-password"))
	require.NotContains(t, errs, 1, "an empty password logs in with the directory's token")
	require.Contains(t, errs[2], "Office 365 non accetta più le password per IMAP")
	require.Contains(t, errs[2], "collega Microsoft 365")
	require.NotContains(t, o.logs.String(), "jobs-secret")
	require.NotContains(t, o.logs.String(), "old-password")
}

func TestValidateOffice365NamesTheMissingStep(t *testing.T) {
	t.Parallel()
	t.Run("no FullAccess", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		o.env.Server.GrantFullAccess(o.dir, false)
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "New-ServicePrincipal")
		require.Contains(t, errs[1], "Add-MailboxPermission")
	})
	t.Run("consent revoked", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		o.env.Server.Consent(o.dir, false)
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "il consenso dell'amministratore manca o è stato revocato")
		require.Contains(t, errs[1], "invalid_grant")
	})
	t.Run("not connected", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		require.NoError(t, store.DeleteMicrosoftDirectory(o.ctx, o.pool, o.tenant.ID))
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "Microsoft 365 non è collegato")
	})
	t.Run("another server", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		o.deps.OAuthHosts = nil // as deployed: Microsoft's own server only
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "il server deve essere outlook.office365.com")
		require.Zero(t, o.env.Server.Issued(o.dir), "no token asked for, none sent to the CSV's server")
	})
	t.Run("not configured", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		o.deps.OAuth = nil
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "non è configurato")
	})
}

// TestOAuthErrorKeepsNoSecret: a token endpoint whose error repeats the
// client secret it was sent leaves it neither in the line's reason nor in
// the logs.
func TestOAuthErrorKeepsNoSecret(t *testing.T) {
	t.Parallel()
	o := setupO365(t)
	o.env.Server.EchoSecretInErrors(true)
	const wrong = "wrong-secret-0f3a9c"
	o.deps.OAuth.Microsoft.ClientSecret = wrong
	errs := o.validate(t, o.line(t, ""))
	require.Contains(t, errs[1], "AADSTS7000215", "the provider's own words are kept")
	require.Contains(t, errs[1], "[redacted]")
	require.NotContains(t, errs[1], wrong)
	require.NotContains(t, o.logs.String(), wrong)
}

// TestOffice365RunWithEmptyPasswords: validated, then run 1 copies the mail
// of an OAuth-only server with the directory's tokens.
func TestOffice365RunWithEmptyPasswords(t *testing.T) {
	t.Parallel()
	o := setupO365(t)
	o.runDeps()
	rc := o.client(t, 2)
	csv, local, remote := o.mailbox(t, "")

	tok, err := o.deps.OAuth.MicrosoftSource(o.dir)(context.Background())
	require.NoError(t, err)
	c, err := imapclient.DialTLS(o.env.OAuthOnly.TLSAddr(), &imapclient.Options{TLSConfig: o.env.OAuthOnly.TLSConfig()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Authenticate(bearer{user: remote, token: tok}))
	testenv.Append(t, c, "INBOX", msgList(7, 0, 5, 1<<10)...)
	require.NoError(t, c.Logout().Wait())

	first := time.Now().Add(time.Hour)
	m := o.migration(t, csv, migrationOpts{insecureTLS: true, first: first, preset: transfer.PresetOffice365, emptyPasswords: true})
	runs := o.fixture.validate(t, rc, m)
	o.startNow(t, rc, runs[0])
	r1 := o.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r1.Status)
	mb := o.mailboxes(t, runs[0].ID)[local]
	require.Equal(t, store.MailboxCompleted, mb.Status)
	require.Equal(t, 5, mb.Copied)
	require.NotContains(t, o.logs.String(), tok)
}

// bearer is a bare XOAUTH2 client for the test's own connection.
type bearer struct{ user, token string }

func (b bearer) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + b.user + "\x01auth=Bearer " + b.token + "\x01\x01"), nil
}
func (b bearer) Next([]byte) ([]byte, error) { return []byte{1}, nil }

// TestOffice365RunAfterConsentRevoked: the consent is withdrawn between the
// validation and the run: the mailbox fails at once (a lasting reason), and
// says why.
func TestOffice365RunAfterConsentRevoked(t *testing.T) {
	t.Parallel()
	o := setupO365(t)
	o.runDeps()
	rc := o.client(t, 2)
	csv, local, _ := o.mailbox(t, "")
	first := time.Now().Add(time.Hour)
	m := o.migration(t, csv, migrationOpts{insecureTLS: true, first: first, preset: transfer.PresetOffice365, emptyPasswords: true})
	runs := o.fixture.validate(t, rc, m)

	o.env.Server.Consent(o.dir, false)
	o.deps.OAuth.Forget(o.dir)
	o.startNow(t, rc, runs[0])
	r1 := o.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompletedWithErrors, r1.Status)
	mb := o.mailboxes(t, runs[0].ID)[local]
	require.Equal(t, store.MailboxFailed, mb.Status)
	require.Contains(t, mb.Reason(i18n.Italian), "nessun token OAuth2")
	require.Equal(t, 1, mb.Attempts, "a refused grant is not retried")
}

// TestValidateGoogleWorkspace: Gmail-type lines without a password use the
// service account's delegated token for the mailbox; without the domain's
// delegation the reason names the client id and the scope to authorise.
func TestValidateGoogleWorkspace(t *testing.T) {
	t.Parallel()
	f := setup(t)
	env := testenv.SharedOAuth(t)
	domain := fmt.Sprintf("g%d.test", time.Now().UnixNano())
	sa := "trasloco@" + domain + ".iam.example"
	key, err := env.Server.AddServiceAccount(sa)
	require.NoError(t, err)
	f.deps.OAuth = &oauth.Tokens{
		Google:     oauth.Google{Email: sa, ClientID: "109876543210", PrivateKey: key, TokenURL: env.Server.GoogleTokenURL()},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	f.deps.OAuthHosts = []string{"127.0.0.1"} // the mixed Dovecot's
	line := func() string {
		local := testenv.UniqueUser(t, "acme.test")
		require.NoError(t, f.dst.AddUser(local, "dest-pw"))
		remote := testenv.UniqueUser(t, domain)
		require.NoError(t, env.Mixed.AddUser(remote, "app-password"))
		return fmt.Sprintf("%s;%s;%s;\r\n", local, env.Mixed.TLSAddr(), remote)
	}
	opts := migrationOpts{insecureTLS: true, preset: transfer.PresetGmail, emptyPasswords: true}

	// A Workspace domain that is not the tenant's: no token is asked for,
	// even once the domain has delegated to our service account (another
	// customer's mailboxes are never reachable through it).
	env.Server.Delegate(domain, true)
	m := f.migration(t, line(), opts)
	f.work(t, m)
	errs := f.lineErrors(t, m)
	require.Contains(t, errs[1], "domini del tuo account")
	env.Server.Delegate(domain, false)

	// The operator assigns the domain to the tenant: now the line asks
	// Google, which names the missing delegation.
	require.NoError(t, store.AddTenantDomain(f.ctx, f.pool, f.tenant.ID, domain))
	m = f.migration(t, line(), opts)
	f.work(t, m)
	errs = f.lineErrors(t, m)
	require.Contains(t, errs[1], "109876543210")
	require.Contains(t, errs[1], "https://mail.google.com/")

	env.Server.Delegate(domain, true)
	m = f.migration(t, line(), opts)
	f.work(t, m)
	require.Empty(t, f.lineErrors(t, m))
	require.NotContains(t, f.logs.String(), "PRIVATE KEY")
}
