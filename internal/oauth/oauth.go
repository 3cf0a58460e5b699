// Package oauth gets the OAuth2 bearer tokens the big providers require for
// IMAP: Microsoft 365 (the operator's multi-tenant application, admin consent,
// client-credentials grant, app-only) and Google Workspace (the operator's
// service account, domain-wide delegation, JWT-bearer grant with the mailbox
// as subject). Tokens live in memory only, until shortly before they expire;
// neither they nor the secrets that get them are ever logged or put in an
// error.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"
)

// The scopes the providers want for IMAP.
const (
	// MicrosoftScope is the app-only scope of Exchange Online (IMAP, POP).
	MicrosoftScope = "https://outlook.office365.com/.default"
	// GoogleScope is full mail access, as Gmail's IMAP requires.
	GoogleScope = "https://mail.google.com/"
	// DefaultAuthority is Microsoft's identity platform.
	DefaultAuthority = "https://login.microsoftonline.com"
	// DefaultGoogleTokenURL is Google's token endpoint.
	DefaultGoogleTokenURL = "https://oauth2.googleapis.com/token"
	// DefaultMargin is how long before its expiry a cached token is
	// replaced: a connection that logs in with it has that long to do so.
	DefaultMargin = 2 * time.Minute
)

// Microsoft is the operator's multi-tenant application registered in
// Microsoft Entra ID.
type Microsoft struct {
	ClientID     string
	ClientSecret string // never logged
	// Authority is the identity platform's base URL; default
	// DefaultAuthority (tests point it at a local server).
	Authority string
}

func (m Microsoft) authority() string {
	if m.Authority == "" {
		return DefaultAuthority
	}
	return strings.TrimRight(m.Authority, "/")
}

// AuthorityOrigin is the scheme and host of the authority, for the
// panel's Content-Security-Policy (the consent page is there).
func (m Microsoft) AuthorityOrigin() string {
	u, err := url.Parse(m.authority())
	if err != nil || u.Host == "" {
		return DefaultAuthority
	}
	return u.Scheme + "://" + u.Host
}

// Configured reports whether the operator set the application up.
func (m Microsoft) Configured() bool { return m.ClientID != "" && m.ClientSecret != "" }

// TokenURL is the token endpoint of the customer's directory (tenant).
func (m Microsoft) TokenURL(tenantID string) string {
	return m.authority() + "/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token"
}

// ConsentURL is where the customer's administrator grants the application
// admin consent; Microsoft then sends the browser to redirectURI with
// admin_consent, tenant and state, or with error and error_description.
func (m Microsoft) ConsentURL(redirectURI, state string) string {
	q := url.Values{
		"client_id":    {m.ClientID},
		"scope":        {MicrosoftScope},
		"redirect_uri": {redirectURI},
		"state":        {state},
	}
	return m.authority() + "/organizations/v2.0/adminconsent?" + q.Encode()
}

func (m Microsoft) source(ctx context.Context, tenantID string) oauth2.TokenSource {
	c := clientcredentials.Config{
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		TokenURL:     m.TokenURL(tenantID),
		Scopes:       []string{MicrosoftScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	return c.TokenSource(ctx)
}

// Google is the operator's service account with domain-wide delegation.
type Google struct {
	Email        string // the service account's e-mail (client_email)
	ClientID     string // the numeric client id the administrator authorises
	PrivateKey   []byte // PEM; never logged
	PrivateKeyID string
	// TokenURL is the token endpoint; default DefaultGoogleTokenURL.
	TokenURL string
}

// Configured reports whether the operator set the service account up.
func (g Google) Configured() bool { return g.Email != "" && len(g.PrivateKey) > 0 }

func (g Google) source(ctx context.Context, mailbox string) oauth2.TokenSource {
	tu := g.TokenURL
	if tu == "" {
		tu = DefaultGoogleTokenURL
	}
	c := jwt.Config{
		Email:        g.Email,
		PrivateKey:   g.PrivateKey,
		PrivateKeyID: g.PrivateKeyID,
		Subject:      mailbox,
		Scopes:       []string{GoogleScope},
		TokenURL:     tu,
	}
	return c.TokenSource(ctx)
}

// Error is a refused grant. It holds the provider's error code and
// description (OAuth2's error and error_description), never a token or a
// secret.
type Error struct {
	Provider    string // "microsoft" or "google"
	Code        string // e.g. invalid_grant, unauthorized_client
	Description string
	Err         error
}

func (e *Error) Error() string {
	msg := e.Provider + " refused the token request"
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Code == "" && e.Description == "" && e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// The steps a refused Microsoft grant points to.
const (
	StepConsent          = "consent"           // admin consent missing or revoked
	StepTenant           = "tenant"            // the directory id is wrong
	StepServicePrincipal = "service-principal" // Exchange does not know the application
	StepFullAccess       = "full-access"       // no FullAccess on the mailbox
)

// MissingStep says which of the customer's steps a refused grant points to:
// StepConsent or StepTenant; "" when it cannot tell.
func MissingStep(err error) string {
	var oe *Error
	if !errors.As(err, &oe) {
		return ""
	}
	d := oe.Description
	switch {
	case strings.Contains(d, "AADSTS65001"), strings.Contains(d, "AADSTS7000229"), oe.Code == "unauthorized_client", oe.Code == "consent_required":
		return StepConsent
	case strings.Contains(d, "AADSTS90002"), strings.Contains(d, "AADSTS900023"), oe.Code == "invalid_tenant":
		return StepTenant
	}
	return ""
}

func wrapErr(provider string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// The jwt package leaves the body unparsed.
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				code, desc = body.Error, body.Description
			}
		}
		if code == "" && re.Response != nil {
			code = re.Response.Status
		}
		return &Error{Provider: provider, Code: code, Description: oneLine(desc)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// A transport error: its text is a URL and a system message, no secret
	// (the secret travels in the body).
	return &Error{Provider: provider, Err: err}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Tokens hands out bearer tokens, each cached in memory until Margin before
// it expires. One Tokens serves a whole process; it is safe for concurrent
// use.
type Tokens struct {
	Microsoft Microsoft
	Google    Google
	// HTTPClient makes the token requests; default a client with a 30s
	// timeout.
	HTTPClient *http.Client
	// Margin is how long before expiry a token is replaced; default
	// DefaultMargin.
	Margin time.Duration

	mu      sync.Mutex
	sources map[string]oauth2.TokenSource
}

// ErrNotConfigured says the operator has not set the provider up.
var ErrNotConfigured = errors.New("OAuth2 is not configured for this provider")

// MicrosoftSource returns a token source for the mailboxes of the
// customer's directory tenantID: app-only tokens, the same for every
// mailbox of the directory. Its errors are *Error or ErrNotConfigured.
func (t *Tokens) MicrosoftSource(tenantID string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if !t.Microsoft.Configured() {
			return "", ErrNotConfigured
		}
		if tenantID == "" {
			return "", &Error{Provider: "microsoft", Code: "invalid_tenant", Description: "no directory id: Microsoft 365 is not connected"}
		}
		return t.token(ctx, "microsoft", "ms\x00"+tenantID, func(c context.Context) oauth2.TokenSource {
			return t.Microsoft.source(c, tenantID)
		})
	}
}

// GoogleSource returns a token source for one mailbox of a Google Workspace
// domain that delegated authority to the service account.
func (t *Tokens) GoogleSource(mailbox string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if !t.Google.Configured() {
			return "", ErrNotConfigured
		}
		return t.token(ctx, "google", "g\x00"+strings.ToLower(mailbox), func(c context.Context) oauth2.TokenSource {
			return t.Google.source(c, mailbox)
		})
	}
}

func (t *Tokens) token(ctx context.Context, provider, key string, newSource func(context.Context) oauth2.TokenSource) (string, error) {
	t.mu.Lock()
	if t.sources == nil {
		t.sources = map[string]oauth2.TokenSource{}
	}
	src, ok := t.sources[key]
	if !ok {
		margin := t.Margin
		if margin <= 0 {
			margin = DefaultMargin
		}
		// The source outlives this call: its requests get the client, not
		// this ctx (see fetch below for the caller's deadline).
		base := newSource(context.WithValue(context.Background(), oauth2.HTTPClient, t.client()))
		src = oauth2.ReuseTokenSourceWithExpiry(nil, base, margin)
		t.sources[key] = src
	}
	t.mu.Unlock()
	tok, err := fetch(ctx, src)
	if err != nil {
		return "", wrapErr(provider, err)
	}
	return tok.AccessToken, nil
}

// fetch asks src for a token, giving up when ctx ends (the request itself
// is bounded by the HTTP client's timeout).
func fetch(ctx context.Context, src oauth2.TokenSource) (*oauth2.Token, error) {
	type result struct {
		tok *oauth2.Token
		err error
	}
	ch := make(chan result, 1)
	go func() {
		tok, err := src.Token()
		ch <- result{tok, err}
	}()
	select {
	case r := <-ch:
		return r.tok, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("get token: %w", ctx.Err())
	}
}

func (t *Tokens) client() *http.Client {
	if t.HTTPClient != nil {
		return t.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Forget drops the cached token of a directory, so that the next
// connection asks Microsoft again (after a new consent, say).
func (t *Tokens) Forget(tenantID string) {
	t.mu.Lock()
	delete(t.sources, "ms\x00"+tenantID)
	t.mu.Unlock()
}

// serviceAccountFile is the JSON key file Google hands out for a service
// account.
type serviceAccountFile struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// ParseGoogleKey reads a service account's JSON key file. The error never
// quotes the file.
func ParseGoogleKey(data []byte) (Google, error) {
	var f serviceAccountFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Google{}, errors.New("parse service account key: not a JSON key file")
	}
	if f.Type != "service_account" || f.ClientEmail == "" || f.PrivateKey == "" {
		return Google{}, errors.New("parse service account key: want type service_account with client_email and private_key")
	}
	return Google{Email: f.ClientEmail, ClientID: f.ClientID, PrivateKey: []byte(f.PrivateKey), PrivateKeyID: f.PrivateKeyID, TokenURL: f.TokenURI}, nil
}
