package jobs

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// errNoToken says why a line without a password has no token either: a
// code of oauthCatalog, lasting until the customer acts.
type errNoToken struct {
	key  string
	args []any
}

func (e errNoToken) Error() string { return "no oauth2 token: " + e.key }

// tokenSource returns the bearer-token source for a line of the tenant
// whose CSV has no password: Microsoft 365's app-only tokens of the
// directory the tenant connected (preset Office 365), or Google's delegated
// tokens for the mailbox (preset Gmail). errNoToken when there is none,
// or when the line's host is not the provider's: a token (Microsoft's
// opens every mailbox of the directory) goes to no other server; nor for a
// Google mailbox outside the tenant's own domains.
func (d Deps) tokenSource(ctx context.Context, tenantID int64, p transfer.Preset, remoteHost, remoteUser string) (func(context.Context) (string, error), error) {
	if !d.tokenHostAllowed(p, remoteHost) {
		return nil, errNoToken{"oauth.reason.host", []any{p.Defaults().Host}}
	}
	switch p {
	case transfer.PresetOffice365:
		if d.OAuth == nil || !d.OAuth.Microsoft.Configured() {
			return nil, errNoToken{key: "oauth.reason.not_configured"}
		}
		dir, err := store.GetMicrosoftDirectory(ctx, d.Pool, tenantID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoToken{key: "oauth.reason.not_connected"}
		}
		if err != nil {
			return nil, err
		}
		return d.OAuth.MicrosoftSource(dir.DirectoryID), nil
	case transfer.PresetGmail:
		if d.OAuth == nil || !d.OAuth.Google.Configured() {
			return nil, errNoToken{key: "oauth.reason.not_configured"}
		}
		// Our one service account can be delegated by many Workspace
		// domains: a tenant gets tokens only for mailboxes of its own
		// domains (which operators assign), never for another customer's.
		_, domain, ok := strings.Cut(remoteUser, "@")
		if !ok || domain == "" {
			return nil, errNoToken{"oauth.reason.google_domain", []any{remoteUser}}
		}
		owned, err := store.TenantOwnsDomain(ctx, d.Pool, tenantID, domain)
		if err != nil {
			return nil, err
		}
		if !owned {
			return nil, errNoToken{"oauth.reason.google_domain", []any{remoteUser}}
		}
		return d.OAuth.GoogleSource(remoteUser), nil
	}
	return nil, errNoToken{key: "oauth.reason.not_configured"}
}

// tokenHostAllowed reports whether a bearer token of preset p may be sent
// to host (a CSV line's, with or without its port): the provider's own
// IMAP server, or one of d.OAuthHosts.
func (d Deps) tokenHostAllowed(p transfer.Preset, host string) bool {
	h := strings.TrimSuffix(strings.ToLower(hostOnly(strings.TrimSpace(host))), ".")
	own := p.Defaults().Host
	return own != "" && h == own || slices.Contains(d.OAuthHosts, h)
}

// oauthReason is the customer's reason for a failed login of a line, when
// OAuth2 explains it (a refused grant, a token Exchange refused, a password
// Office 365 no longer takes); "" otherwise. The provider's words are
// stored and shown: what sc knows is scrubbed from them (see
// Deps.oauthSecrets).
func (d Deps) oauthReason(p transfer.Preset, e transfer.Endpoint, ce *transfer.ConnError, sc scrubber) i18n.Msg {
	switch {
	case ce.Reason == transfer.ReasonOAuth:
		var oe *oauth.Error
		detail := sc.text(ce.Detail)
		if errors.As(ce.Err, &oe) {
			detail = sc.text(oe.Code)
		}
		switch step := oauth.MissingStep(ce.Err); {
		case p == transfer.PresetGmail && step == oauth.StepConsent:
			return i18n.New("oauth.reason.google_delegation", e.User, d.OAuth.Google.ClientID)
		case step == oauth.StepConsent:
			return i18n.New("oauth.reason.consent", detail)
		case step == oauth.StepTenant:
			return i18n.New("oauth.reason.tenant", detail)
		}
		return i18n.New("oauth.reason.refused", sc.text(ce.Detail))
	case ce.Reason == transfer.ReasonAuth && e.TokenSource != nil && p == transfer.PresetGmail:
		return i18n.New("oauth.reason.google_mailbox", e.User)
	case ce.Reason == transfer.ReasonAuth && e.TokenSource != nil:
		return i18n.New("oauth.reason.mailbox", e.User)
	case ce.Reason == transfer.ReasonAuth && ce.OAuthOffered && p == transfer.PresetOffice365:
		return i18n.New("oauth.reason.o365_password")
	}
	return i18n.Msg{}
}

// oauthSecrets scrubs the OAuth client's own secrets (the Microsoft app's
// secret, the Google service account's key), which a provider's error
// might repeat.
func (d Deps) oauthSecrets() scrubber {
	if d.OAuth == nil {
		return scrubber{}
	}
	return newScrubber("", "", d.OAuth.Microsoft.ClientSecret, string(d.OAuth.Google.PrivateKey), d.OAuth.Google.PrivateKeyID)
}
