package web

import (
	"errors"
	"net/http"

	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// Session keys of the admin-consent round trip.
const (
	sessConsentState = "ms_consent_state" // the state sent to Microsoft
	sessConsentAt    = "ms_consent_at"    // when, in Unix seconds
)

// microsoftConfigured reports whether "Collega Microsoft 365" can work.
func (s *server) microsoftConfigured() bool {
	return s.OAuth != nil && s.OAuth.Microsoft.Configured()
}

// oauthTakesEmptyPassword says whether the CSV of a migration with preset
// p may leave passwords empty: its provider takes the operator's OAuth2.
func (s *server) oauthTakesEmptyPassword(p transfer.Preset) bool {
	switch {
	case s.OAuth == nil:
		return false
	case p == transfer.PresetOffice365:
		return s.OAuth.Microsoft.Configured()
	case p == transfer.PresetGmail:
		return s.OAuth.Google.Configured()
	}
	return false
}

// providerOAuth is the model of the OAuth2 panels of Nuova Migrazione.
func (s *server) providerOAuth(r *http.Request, tenantID int64) views.ProviderOAuth {
	o := views.ProviderOAuth{GoogleScope: oauth.GoogleScope}
	if s.OAuth == nil {
		return o
	}
	o.MicrosoftConfigured, o.MicrosoftAppID = s.OAuth.Microsoft.Configured(), s.OAuth.Microsoft.ClientID
	o.GoogleConfigured, o.GoogleClientID = s.OAuth.Google.Configured(), s.OAuth.Google.ClientID
	if o.MicrosoftConfigured {
		d, err := store.GetMicrosoftDirectory(r.Context(), s.Pool, tenantID)
		if err == nil {
			o.DirectoryID = d.DirectoryID
		} else if !errors.Is(err, store.ErrNotFound) {
			s.Logger.ErrorContext(r.Context(), "get microsoft directory", "err", err, "request_id", requestID(r))
		}
	}
	return o
}

// callbackURL is where Microsoft sends the administrator back.
func (s *server) callbackURL(r *http.Request) string {
	if s.BaseURL != nil {
		return s.BaseURL.JoinPath("/microsoft/callback").String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/microsoft/callback"
}
