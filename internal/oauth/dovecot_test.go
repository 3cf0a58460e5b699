package oauth_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a customer's directory that consented, with one mailbox on each
// of the OAuth Dovecots, and Tokens for the operator's application and
// service account.
type fixture struct {
	env     *testenv.OAuthEnv
	tenant  string
	domain  string
	mailbox string
	tokens  *oauth.Tokens
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := testenv.SharedOAuth(t)
	n := testenv.UniqueUser(t, "x")
	f := &fixture{env: env, tenant: "tid-" + n[:len(n)-2], domain: fmt.Sprintf("d%d.test", time.Now().UnixNano())}
	f.mailbox = testenv.UniqueUser(t, f.domain)
	env.Server.AddApp("trasloco-app", "app-secret")
	env.Server.AddTenant(f.tenant, f.domain)
	env.Server.Consent(f.tenant, true)
	env.Server.GrantFullAccess(f.tenant, true)
	for _, d := range []*testenv.Dovecot{env.OAuthOnly, env.Mixed, env.Bearer} {
		require.NoError(t, d.AddUser(f.mailbox, "the-old-password"))
	}
	sa := "trasloco@" + f.domain + ".iam.example"
	key, err := env.Server.AddServiceAccount(sa)
	require.NoError(t, err)
	env.Server.Delegate(f.domain, true)
	f.tokens = &oauth.Tokens{
		Microsoft:  oauth.Microsoft{ClientID: "trasloco-app", ClientSecret: "app-secret", Authority: env.Server.URL()},
		Google:     oauth.Google{Email: sa, ClientID: "1234567890", PrivateKey: key, TokenURL: env.Server.GoogleTokenURL()},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	return f
}

func (f *fixture) microsoft(d *testenv.Dovecot) transfer.Endpoint {
	return transfer.Endpoint{Host: d.TLSAddr(), TLS: transfer.TLSImplicit, User: f.mailbox, RootCAs: d.CAPool(),
		TokenSource: f.tokens.MicrosoftSource(f.tenant)}
}

func (f *fixture) google(d *testenv.Dovecot) transfer.Endpoint {
	return transfer.Endpoint{Host: d.TLSAddr(), TLS: transfer.TLSImplicit, User: f.mailbox, RootCAs: d.CAPool(),
		TokenSource: f.tokens.GoogleSource(f.mailbox)}
}

func check(t *testing.T, p transfer.Preset, e transfer.Endpoint) error {
	t.Helper()
	_, err := transfer.Check(context.Background(), p, e, transfer.Timeouts{}, true)
	return err
}

func TestMicrosoftAppOnlyTokenLogsInWithXOAUTH2(t *testing.T) {
	t.Parallel()
	f := setup(t)
	before := f.env.Server.Introspections()
	require.NoError(t, check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly)))
	require.Equal(t, 1, f.env.Server.Issued(f.tenant))
	require.Greater(t, f.env.Server.Introspections(), before, "Dovecot checked the token with the server")
	// A second connection reuses the cached token.
	require.NoError(t, check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly)))
	require.Equal(t, 1, f.env.Server.Issued(f.tenant))
}

func TestAppOnlyTokenIsNoGoodForAnotherDomain(t *testing.T) {
	t.Parallel()
	f, other := setup(t), setup(t)
	e := f.microsoft(f.env.OAuthOnly)
	e.User = other.mailbox // a mailbox of another customer's directory
	err := check(t, transfer.PresetOffice365, e)
	ce, ok := transfer.IsConnError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, transfer.ReasonAuth, ce.Reason)
}

func TestGoogleDelegatedTokenLogsInWithXOAUTH2(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, check(t, transfer.PresetGmail, f.google(f.env.Mixed)))
	require.Equal(t, 1, f.env.Server.Issued(f.mailbox))
	// The token is the mailbox's own: another mailbox cannot use it.
	other := testenv.UniqueUser(t, f.domain)
	require.NoError(t, f.env.Mixed.AddUser(other, "pw"))
	tok, err := f.tokens.GoogleSource(f.mailbox)(context.Background())
	require.NoError(t, err)
	e := f.google(f.env.Mixed)
	e.User, e.TokenSource = other, func(context.Context) (string, error) { return tok, nil }
	ce, ok := transfer.IsConnError(check(t, transfer.PresetGmail, e))
	require.True(t, ok)
	require.Equal(t, transfer.ReasonAuth, ce.Reason)
}

func TestOAUTHBEARERWhenTheServerOffersOnlyThat(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, check(t, transfer.PresetGmail, f.google(f.env.Bearer)))
	log := tailLog(t, f.env.Bearer, f.mailbox)
	require.Contains(t, log, "method=OAUTHBEARER")
	require.NoError(t, check(t, transfer.PresetGmail, f.google(f.env.Mixed)))
	require.Contains(t, tailLog(t, f.env.Mixed, f.mailbox), "method=XOAUTH2")
}

func TestRevokedConsentIsNamed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly)))
	f.env.Server.Consent(f.tenant, false)

	// The token already cached is dead at the server: the login is refused.
	ce, ok := transfer.IsConnError(check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly)))
	require.True(t, ok)
	require.Equal(t, transfer.ReasonAuth, ce.Reason)

	// A new token is refused by the provider, with the step to take again.
	f.tokens.Forget(f.tenant)
	err := check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly))
	ce, ok = transfer.IsConnError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, transfer.ReasonOAuth, ce.Reason)
	require.Contains(t, ce.Detail, "AADSTS65001")
	require.Equal(t, oauth.StepConsent, oauth.MissingStep(ce.Err))
	require.NotContains(t, err.Error(), "app-secret")
}

func TestGoogleWithoutDelegationIsNamed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.env.Server.Delegate(f.domain, false)
	err := check(t, transfer.PresetGmail, f.google(f.env.Mixed))
	ce, ok := transfer.IsConnError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, transfer.ReasonOAuth, ce.Reason)
	require.Equal(t, oauth.StepConsent, oauth.MissingStep(ce.Err))
	require.NotContains(t, err.Error(), "PRIVATE KEY")
}

func TestMissingFullAccessIsALoginRefusal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.env.Server.GrantFullAccess(f.tenant, false)
	ce, ok := transfer.IsConnError(check(t, transfer.PresetOffice365, f.microsoft(f.env.OAuthOnly)))
	require.True(t, ok)
	require.Equal(t, transfer.ReasonAuth, ce.Reason, "the token was issued; Exchange refused the mailbox")
	require.Equal(t, 1, f.env.Server.Issued(f.tenant))
}

func TestOAuthOnlyServerRefusesThePassword(t *testing.T) {
	t.Parallel()
	f := setup(t)
	e := transfer.Endpoint{Host: f.env.OAuthOnly.TLSAddr(), TLS: transfer.TLSImplicit, User: f.mailbox, Password: "the-old-password", RootCAs: f.env.OAuthOnly.CAPool()}
	ce, ok := transfer.IsConnError(check(t, transfer.PresetOffice365, e))
	require.True(t, ok)
	require.Equal(t, transfer.ReasonAuth, ce.Reason)
	require.True(t, ce.OAuthOffered, "the refusal says the server takes OAuth2")

	// The same password works where passwords are still taken, and the
	// refusal of a wrong one there does not blame OAuth2 less: it is offered.
	e.Host, e.RootCAs = f.env.Mixed.TLSAddr(), f.env.Mixed.CAPool()
	require.NoError(t, check(t, transfer.PresetGmail, e))
}

func TestTokenExpiringDuringACopy(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.env.Server.SetTokenTTL(f.tenant, 2*time.Second)
	f.tokens.Margin = 500 * time.Millisecond
	src := f.env.OAuthOnly
	_, dst := testenv.SharedDovecot(t)
	dstUser := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, dst.AddUser(dstUser, "pw"))

	// Messages through a connection logged in with its own token.
	seed := imapLogin(t, f, src)
	for i := range 6 {
		testenv.Append(t, seed, "INBOX", testenv.Msg{Raw: []byte(fmt.Sprintf("Subject: m%d\r\n\r\nhello\r\n", i))})
	}
	_ = seed.Logout().Wait()

	// The first source connection is cut once its token has expired: the
	// copy reconnects and needs a new token.
	var cut sync.Once
	var first net.Conn
	var mu sync.Mutex
	proxy := testenv.Proxy(t, src.TLSAddr(), func(client, upstream net.Conn, n int) {
		if n == 1 {
			mu.Lock()
			first = client
			mu.Unlock()
		}
		testenv.ProxyPipe(client, upstream)
	})
	rep := &slowReporter{every: func() {
		cut.Do(func() {
			time.Sleep(2500 * time.Millisecond) // past the token's expiry
			mu.Lock()
			_ = first.Close()
			mu.Unlock()
		})
	}}
	e := f.microsoft(src)
	e.Host = proxy
	job := transfer.Job{
		Preset: transfer.PresetOffice365,
		Source: e,
		Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, User: dstUser,
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool()},
		Checkpoints: transfer.NewMemoryCheckpoints(),
		Reporter:    rep,
		Backoff:     func(int) time.Duration { return 50 * time.Millisecond },
	}
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.True(t, res.Complete(), "%+v", res)
	require.GreaterOrEqual(t, f.env.Server.Issued(f.tenant), 2, "the reconnection got a fresh token")
}

// slowReporter calls every on each progress report.
type slowReporter struct{ every func() }

func (r *slowReporter) Log(transfer.LogEntry)        {}
func (r *slowReporter) Progress(p transfer.Progress) { r.every() }

// xoauth2 is a bare XOAUTH2 client for the test's own connections.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{1}, nil }

// imapLogin logs in to d as the fixture's mailbox with a token of its
// directory.
func imapLogin(t *testing.T, f *fixture, d *testenv.Dovecot) *imapclient.Client {
	t.Helper()
	tok, err := f.tokens.MicrosoftSource(f.tenant)(context.Background())
	require.NoError(t, err)
	c, err := imapclient.DialTLS(d.TLSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Authenticate(xoauth2{user: f.mailbox, token: tok}))
	return c
}

// tailLog is the lines of d's log that name user.
func tailLog(t *testing.T, d *testenv.Dovecot, user string) string {
	t.Helper()
	data, err := os.ReadFile(d.LogPath())
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, user) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
