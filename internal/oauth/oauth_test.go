package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestTokensAreCachedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	src := f.tokens.MicrosoftSource(f.tenant)
	a, err := src(context.Background())
	require.NoError(t, err)
	b, err := src(context.Background())
	require.NoError(t, err)
	require.Equal(t, a, b, "an hour-long token is reused")
	require.Equal(t, 1, f.env.Server.Issued(f.tenant))

	// A token that lives less than the margin is replaced on every use.
	short := setup(t)
	short.env.Server.SetTokenTTL(short.tenant, time.Second)
	ssrc := short.tokens.MicrosoftSource(short.tenant)
	c, err := ssrc(context.Background())
	require.NoError(t, err)
	d, err := ssrc(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, c, d)
	require.Equal(t, 2, short.env.Server.Issued(short.tenant))
}

func TestWrongClientSecretNeverShowsIt(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.tokens.Microsoft.ClientSecret = "s3cr3t-wrong"
	_, err := f.tokens.MicrosoftSource(f.tenant)(context.Background())
	var oe *oauth.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_client", oe.Code)
	require.NotContains(t, err.Error(), "s3cr3t")
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	var tk oauth.Tokens
	_, err := tk.MicrosoftSource("tid")(context.Background())
	require.ErrorIs(t, err, oauth.ErrNotConfigured)
	_, err = tk.GoogleSource("a@b.test")(context.Background())
	require.ErrorIs(t, err, oauth.ErrNotConfigured)
}

func TestConsentURL(t *testing.T) {
	t.Parallel()
	m := oauth.Microsoft{ClientID: "app-id", ClientSecret: "x", Authority: "http://127.0.0.1:1/"}
	u, err := url.Parse(m.ConsentURL("https://panel.test/o365/callback", "st"))
	require.NoError(t, err)
	require.Equal(t, "/organizations/v2.0/adminconsent", u.Path)
	q := u.Query()
	require.Equal(t, "app-id", q.Get("client_id"))
	require.Equal(t, oauth.MicrosoftScope, q.Get("scope"))
	require.Equal(t, "https://panel.test/o365/callback", q.Get("redirect_uri"))
	require.Equal(t, "st", q.Get("state"))
	require.NotContains(t, u.String(), "x&")
	require.Equal(t, "https://login.microsoftonline.com/tid/oauth2/v2.0/token", oauth.Microsoft{}.TokenURL("tid"))
}

func TestParseGoogleKey(t *testing.T) {
	t.Parallel()
	srv := testenv.SharedOAuth(t).Server
	key, err := srv.AddServiceAccount("sa@p.iam.example")
	require.NoError(t, err)
	data, err := json.Marshal(map[string]string{"type": "service_account", "client_email": "sa@p.iam.example", "client_id": "42", "private_key": string(key), "private_key_id": "k1", "token_uri": srv.GoogleTokenURL()})
	require.NoError(t, err)
	g, err := oauth.ParseGoogleKey(data)
	require.NoError(t, err)
	require.Equal(t, "sa@p.iam.example", g.Email)
	require.Equal(t, "42", g.ClientID)
	require.True(t, g.Configured())

	srv.Delegate("p.test", true)
	tk := oauth.Tokens{Google: g, HTTPClient: &http.Client{Timeout: 10 * time.Second}}
	_, err = tk.GoogleSource("anna@p.test")(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, srv.Issued("anna@p.test"))

	_, err = oauth.ParseGoogleKey([]byte(`{"type":"authorized_user","private_key":"-----BEGIN"}`))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "BEGIN")
}
