package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// How long one-time links live.
const (
	inviteLifetime = 7 * 24 * time.Hour
	resetLifetime  = time.Hour
	// minPasswordLen is the shortest password a user may choose.
	minPasswordLen = 10
)

// AccountMailer sends the account emails (invitations, password resets);
// *notify.Mailer is one, through the SMTP server of the completion emails.
type AccountMailer interface {
	SendText(ctx context.Context, to, subject, text string) error
}

// newToken returns a random one-time token for a link and the hash that is
// stored: the token itself is never written down.
func newToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// linkURL is the absolute URL of path on the panel, for an email.
func (s *server) linkURL(r *http.Request, path string) string {
	if s.BaseURL != nil {
		u := *s.BaseURL
		u.Path = path
		return u.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String()
}

// hashPassword hashes a new password with the panel's parameters, in the
// login's hashing slots (auth.Login.Hash): auth.ErrBusy when none is free.
func (s *server) hashPassword(ctx context.Context, pw string) (string, error) {
	if s.Login != nil {
		return s.Login.Hash(ctx, pw)
	}
	return auth.HashPassword(pw)
}

// hashError answers a failed hashPassword or password check: 503 with
// Retry-After when every hashing slot is taken, else a server error.
func (s *server) hashError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, i18n.T(lang(r), "web.login.busy"), http.StatusServiceUnavailable)
		return
	}
	s.serverError(w, r, err)
}

// unusablePassword is the hash of a random secret nobody knows: an invited
// user cannot sign in before choosing a password through the link.
func (s *server) unusablePassword(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return s.hashPassword(ctx, base64.RawStdEncoding.EncodeToString(b))
}

// isAdmin reports whether the signed-in user administers their tenant;
// operators administer every tenant.
func (s *server) isAdmin(r *http.Request) (bool, error) {
	c := me(r)
	if c.User.Operator {
		return true, nil
	}
	return store.IsTenantAdmin(r.Context(), s.Pool, c.Tenant.ID, c.User.ID)
}

// requireAdmin lets tenant administrators through; everyone else gets 404.
func (s *server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, err := s.isAdmin(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !ok {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkPassword checks a signed-in user's current password in the login's
// hashing slots (auth.Login.Verify).
func (s *server) checkPassword(ctx context.Context, hash, pw string) (bool, error) {
	if s.Login != nil {
		return s.Login.Verify(ctx, hash, pw)
	}
	return auth.CheckPassword(hash, pw)
}
