package testenv

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// OAuthServer is a local OAuth2 authorization server that behaves, for what
// the panel uses, like Microsoft's identity platform and Google's token
// endpoint: the client-credentials grant per directory (tenant) after admin
// consent, the admin-consent page and its redirect, the JWT-bearer grant of
// a service account with domain-wide delegation, and an RFC 7662
// introspection endpoint for Dovecot's oauth2 passdb (see DovecotOAuth2).
// It listens on 127.0.0.1 over plain HTTP. Safe for concurrent use.
type OAuthServer struct {
	srv *http.Server
	ln  net.Listener
	url string

	mu             sync.Mutex
	ttl            time.Duration
	ttls           map[string]time.Duration
	apps           map[string]string         // Microsoft client id -> secret
	consent        map[string]bool           // tenant id -> admin consent granted
	access         map[string]bool           // tenant id -> the service principal has FullAccess
	domains        map[string]string         // tenant id -> its mail domain
	sas            map[string]*rsa.PublicKey // service account e-mail -> key
	deleg          map[string]bool           // domains that delegated GoogleScope
	tokens         map[string]oauthToken     // access token -> what it grants
	issued         map[string]int            // tenant id or mailbox -> tokens issued
	next           string                    // the tenant the consent page acts for
	introspections int                       // requests from Dovecot
	echo           bool                      // errors repeat the client secret sent
}

type oauthToken struct {
	tenant  string // Microsoft app-only
	subject string // Google delegated
	expires time.Time
}

// The scopes, as the providers spell them (see internal/oauth).
const (
	oauthMicrosoftScope = "https://outlook.office365.com/.default"
	oauthGoogleScope    = "https://mail.google.com/"
)

// StartOAuthServer starts the server; Close stops it. Tokens last an hour
// unless SetTokenTTL says otherwise.
func StartOAuthServer() (*OAuthServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start oauth server: %w", err)
	}
	s := &OAuthServer{
		ln: ln, url: "http://" + ln.Addr().String(), ttl: time.Hour,
		apps: map[string]string{}, consent: map[string]bool{}, access: map[string]bool{}, domains: map[string]string{},
		sas: map[string]*rsa.PublicKey{}, deleg: map[string]bool{}, tokens: map[string]oauthToken{}, issued: map[string]int{}, ttls: map[string]time.Duration{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /google/token", s.googleToken)
	mux.HandleFunc("GET /introspect", s.introspect)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.consentPage)
	mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", s.consentDecision)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.microsoftToken)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *OAuthServer) Close() error { return s.srv.Close() }

// URL is the server's base URL: Microsoft's authority, for the panel.
func (s *OAuthServer) URL() string { return s.url }

// GoogleTokenURL is the JWT-bearer token endpoint.
func (s *OAuthServer) GoogleTokenURL() string { return s.url + "/google/token" }

// IntrospectionURL is what DovecotOAuth2.IntrospectionURL should be.
func (s *OAuthServer) IntrospectionURL() string { return s.url + "/introspect?token=" }

// SetTokenTTL sets the lifetime of the tokens issued from now on for a
// directory (Microsoft) or a mailbox (Google); default an hour.
func (s *OAuthServer) SetTokenTTL(tenantOrMailbox string, d time.Duration) {
	s.mu.Lock()
	s.ttls[strings.ToLower(tenantOrMailbox)] = d
	s.mu.Unlock()
}

// AddApp registers a Microsoft multi-tenant application.
func (s *OAuthServer) AddApp(clientID, secret string) {
	s.mu.Lock()
	s.apps[clientID] = secret
	s.mu.Unlock()
}

// SetConsentTenant says which directory the next administrator to open the
// consent page belongs to.
func (s *OAuthServer) SetConsentTenant(tenantID string) {
	s.mu.Lock()
	s.next = tenantID
	s.mu.Unlock()
}

// Consent grants (or, with false, revokes) the application admin consent in
// a directory. Revoking invalidates the tokens already issued for it.
func (s *OAuthServer) Consent(tenantID string, granted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consent[tenantID] = granted
	if !granted {
		for k, t := range s.tokens {
			if t.tenant == tenantID {
				delete(s.tokens, k)
			}
		}
	}
}

// Consented reports whether the directory has granted consent.
func (s *OAuthServer) Consented(tenantID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consent[tenantID]
}

// AddTenant creates a directory whose mailboxes are in domain.
func (s *OAuthServer) AddTenant(tenantID, domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains[tenantID] = strings.ToLower(domain)
}

// GrantFullAccess registers the application's service principal in the
// directory's Exchange and gives it FullAccess on the mailboxes
// (New-ServicePrincipal, Add-MailboxPermission); with false, takes it away.
// Dovecot cannot tell the introspection which mailbox logs in, so the grant
// is for the directory's whole domain.
func (s *OAuthServer) GrantFullAccess(tenantID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[tenantID] = ok
}

// AddServiceAccount registers a Google service account and returns its
// private key in PEM (PKCS#8), as in the JSON key file Google hands out.
func (s *OAuthServer) AddServiceAccount(email string) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	s.mu.Lock()
	s.sas[email] = &key.PublicKey
	s.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Delegate authorises (or, with false, withdraws) the service accounts'
// domain-wide delegation for a Workspace domain.
func (s *OAuthServer) Delegate(domain string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleg[strings.ToLower(domain)] = ok
	if !ok {
		for k, t := range s.tokens {
			if t.subject != "" && strings.HasSuffix(t.subject, "@"+strings.ToLower(domain)) {
				delete(s.tokens, k)
			}
		}
	}
}

// Issued is how many tokens were issued for a directory (Microsoft) or a
// mailbox (Google).
func (s *OAuthServer) Issued(tenantOrMailbox string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[strings.ToLower(tenantOrMailbox)]
}

// EchoSecretInErrors makes the Microsoft token endpoint's error
// descriptions repeat the client secret it was sent, as a broken provider
// or a proxy in front of it might: what the panel stores of such an error
// must not.
func (s *OAuthServer) EchoSecretInErrors(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echo = on
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *OAuthServer) issue(w http.ResponseWriter, t oauthToken, key string) {
	tok := randomHex(24)
	s.mu.Lock()
	ttl := s.ttl
	if d, ok := s.ttls[strings.ToLower(key)]; ok {
		ttl = d
	}
	t.expires = time.Now().Add(ttl)
	s.tokens[tok] = t
	s.issued[strings.ToLower(key)]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": max(1, int(ttl.Seconds()))})
}

func (s *OAuthServer) microsoftToken(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: unsupported grant type")
		return
	}
	if r.PostForm.Get("scope") != oauthMicrosoftScope {
		oauthFail(w, http.StatusBadRequest, "invalid_scope", "AADSTS70011: the provided scope is not valid")
		return
	}
	s.mu.Lock()
	want, known := s.apps[id]
	granted := s.consent[tenant]
	echo := ""
	if s.echo {
		echo = " (client_secret=" + secret + ")"
	}
	s.mu.Unlock()
	switch {
	case !known || want != secret:
		oauthFail(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided."+echo)
	case !granted:
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application."+echo)
	default:
		s.issue(w, oauthToken{tenant: tenant}, tenant)
	}
}

func (s *OAuthServer) googleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	claims, err := s.verifyJWT(r.PostForm.Get("assertion"))
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	sub := strings.ToLower(claims.Sub)
	_, domain, _ := strings.Cut(sub, "@")
	s.mu.Lock()
	ok := s.deleg[domain]
	s.mu.Unlock()
	switch {
	case claims.Aud != s.GoogleTokenURL():
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
	case claims.Scope != oauthGoogleScope:
		oauthFail(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
	case !ok:
		oauthFail(w, http.StatusUnauthorized, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
	default:
		s.issue(w, oauthToken{subject: sub}, sub)
	}
}

type jwtClaims struct {
	Iss, Sub, Scope, Aud string
	Exp                  int64
}

// verifyJWT checks an RS256 assertion against the registered service
// accounts' keys.
func (s *OAuthServer) verifyJWT(assertion string) (jwtClaims, error) {
	var c jwtClaims
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("malformed assertion")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, fmt.Errorf("malformed claims")
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("malformed claims")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, fmt.Errorf("malformed signature")
	}
	s.mu.Lock()
	key := s.sas[c.Iss]
	s.mu.Unlock()
	if key == nil {
		return c, fmt.Errorf("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return c, fmt.Errorf("Invalid JWT Signature.")
	}
	if c.Exp < time.Now().Unix() {
		return c, fmt.Errorf("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
	}
	return c, nil
}

// introspect answers Dovecot: active when the token is valid, with the
// identity it may log in as in username. An app-only token (Microsoft) is
// good for every mailbox of its directory's domain while the directory
// consents and the application has FullAccess (a DovecotOAuth2 with
// PerDomain compares the domain); a delegated one (Google) for its subject.
func (s *OAuthServer) introspect(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	s.mu.Lock()
	t, ok := s.tokens[tok]
	active := ok && time.Now().Before(t.expires)
	username := t.subject
	if active && t.tenant != "" {
		active = s.consent[t.tenant] && s.access[t.tenant]
		// Dovecot formats this with the login's username_format too (%Ld:
		// the domain), so any user of the domain will do.
		username = "app@" + s.domains[t.tenant]
	}
	s.introspections++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !active {
		_ = json.NewEncoder(w).Encode(map[string]any{"active": false})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "username": username})
}

// Introspections is how many tokens Dovecot asked about.
func (s *OAuthServer) Introspections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.introspections
}

var consentTmpl = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><title>Permissions requested</title></head><body>
<h1>Permissions requested</h1>
<p>An application wants to read all mailboxes over IMAP ({{.Scope}}) in directory {{.Tenant}}.</p>
<form method="post">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Redirect}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="tenant" value="{{.Tenant}}">
<button type="submit" name="decision" value="accept" id="accept">Accept</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>
</form></body></html>`))

func (s *OAuthServer) consentPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	_, known := s.apps[q.Get("client_id")]
	tenant := s.next
	s.mu.Unlock()
	if !known || q.Get("redirect_uri") == "" {
		http.Error(w, "AADSTS700016: Application not found in the directory", http.StatusBadRequest)
		return
	}
	_ = consentTmpl.Execute(w, map[string]string{"Scope": q.Get("scope"), "Tenant": tenant, "ClientID": q.Get("client_id"), "Redirect": q.Get("redirect_uri"), "State": q.Get("state")})
}

func (s *OAuthServer) consentDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(r.PostForm.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := back.Query()
	q.Set("state", r.PostForm.Get("state"))
	tenant := r.PostForm.Get("tenant")
	if r.PostForm.Get("decision") == "accept" {
		s.Consent(tenant, true)
		q.Set("admin_consent", "True")
		q.Set("tenant", tenant)
		q.Set("scope", oauthMicrosoftScope)
	} else {
		q.Set("error", "access_denied")
		q.Set("error_description", "AADSTS65004: User declined to consent to access the app.")
	}
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// sharedOAuth holds the OAuth2 server and its Dovecots, started once per
// test binary.
var sharedOAuth struct {
	once sync.Once
	env  *OAuthEnv
	err  error
}

// OAuthEnv is a local OAuth2 server with two source-role Dovecots whose
// oauth2 passdb validates its tokens: Mixed also takes passwords (as Gmail
// with app passwords) and per-user tokens (Google's), OAuthOnly refuses
// every password (as Office 365 since basic authentication was switched
// off) and takes app-only tokens for a whole domain (Microsoft's).
type OAuthEnv struct {
	Server           *OAuthServer
	Mixed, OAuthOnly *Dovecot
	// Bearer is as Mixed but offers OAUTHBEARER only, not XOAUTH2.
	Bearer *Dovecot
}

// SharedOAuth returns the OAuthEnv shared by every test of the binary,
// starting it on first use (stopped by Main). Tests share it: each uses
// tenant ids and users of its own (UniqueUser).
func SharedOAuth(t testing.TB) *OAuthEnv {
	t.Helper()
	s := &sharedOAuth
	s.once.Do(func() {
		srv, err := StartOAuthServer()
		if err != nil {
			s.err = err
			return
		}
		addSharedCleanup(srv.Close)
		dir, err := os.MkdirTemp("", "trasloco-oauth-")
		if err != nil {
			s.err = fmt.Errorf("create oauth dovecot directory: %w", err)
			return
		}
		addSharedCleanup(func() error {
			if os.Getenv("TESTENV_KEEP") != "" {
				fmt.Fprintln(os.Stderr, "testenv: kept", dir)
				return nil
			}
			return os.RemoveAll(dir)
		})
		env := &OAuthEnv{Server: srv}
		var wg sync.WaitGroup
		var e1, e2, e3 error
		wg.Go(func() {
			env.Mixed, e1 = StartDovecotWith(RoleSource, filepath.Join(dir, "mixed"), DovecotOptions{OAuth2: &DovecotOAuth2{IntrospectionURL: srv.IntrospectionURL()}})
		})
		wg.Go(func() {
			env.OAuthOnly, e2 = StartDovecotWith(RoleSource, filepath.Join(dir, "oauth-only"), DovecotOptions{OAuth2: &DovecotOAuth2{IntrospectionURL: srv.IntrospectionURL(), OnlyOAuth: true, PerDomain: true}})
		})
		wg.Go(func() {
			env.Bearer, e3 = StartDovecotWith(RoleSource, filepath.Join(dir, "bearer"), DovecotOptions{OAuth2: &DovecotOAuth2{IntrospectionURL: srv.IntrospectionURL(), OnlyBearer: true}})
		})
		wg.Wait()
		for _, d := range []*Dovecot{env.Mixed, env.OAuthOnly, env.Bearer} {
			if d != nil {
				addSharedCleanup(d.Stop)
			}
		}
		if e1 != nil || e2 != nil || e3 != nil {
			s.err = fmt.Errorf("start oauth dovecot servers: %w", errors.Join(e1, e2, e3))
			return
		}
		s.env = env
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.env
}
