package jobs_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	return o
}

// line adds a local mailbox and its remote one on the OAuth-only server and
// returns the CSV line, with password pw (may be empty).
func (o *o365) line(t *testing.T, pw string) string {
	t.Helper()
	local := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, o.dst.AddUser(local, "dest-pw"))
	remote := testenv.UniqueUser(t, o.domain)
	require.NoError(t, o.env.OAuthOnly.AddUser(remote, "old-password"))
	return fmt.Sprintf("%s;%s;%s;%s\r\n", local, o.env.OAuthOnly.TLSAddr(), remote, pw)
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
	t.Run("not configured", func(t *testing.T) {
		t.Parallel()
		o := setupO365(t)
		o.deps.OAuth = nil
		errs := o.validate(t, o.line(t, ""))
		require.Contains(t, errs[1], "non è configurato")
	})
}
