package jobs

import (
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/transfer"
)

// loginAdvice maps the old server's own words for a refused or failed
// login to what the customer can do about it: an i18n key (with no
// arguments); "" when the words are not known.
func loginAdvice(ce *transfer.ConnError) string {
	low := strings.ToLower(ce.Detail)
	var ierr *imap.Error
	code := ""
	if errors.As(ce.Err, &ierr) {
		code = strings.ToUpper(string(ierr.Code))
	}
	switch {
	case ce.Reason == transfer.ReasonThrottled:
		return "" // check.reason.throttled says it all
	case strings.Contains(low, "application-specific password required"):
		return "advice.gmail_app_password" // Gmail, 2-Step Verification on
	case strings.Contains(low, "please log in via your web browser"), strings.Contains(low, "web login required"), code == "WEBALERT":
		return "advice.gmail_web_login" // Google blocked the sign-in
	case strings.Contains(low, "not enabled for imap"), strings.Contains(low, "imap access is disabled"), strings.Contains(low, "imap is disabled"):
		return "advice.gmail_imap_off"
	case strings.Contains(low, "user is authenticated but not connected"):
		return "advice.exchange_not_connected" // IMAP off for the user, or no FullAccess
	case strings.Contains(low, "basicauthblocked"), strings.Contains(low, "basic authentication is disabled"),
		ce.Reason == transfer.ReasonAuth && ce.OAuthOffered && (low == "authenticate failed." || low == "login failed."):
		// Exchange Online's bare refusal, from a server that offers OAuth2.
		return "advice.o365_basic_auth"
	}
	return ""
}

// genericRefusals are servers' words that only repeat that a login was
// refused (lower case, without response code): shown, they would add
// nothing to the reason.
var genericRefusals = []string{
	"authentication failed", "authentication failed.", "invalid credentials", "invalid credentials (failure)",
	"login failed", "login failed.", "authenticate failed", "authenticate failed.", "[authenticationfailed] authentication failed.",
}

// explainLogin is the customer's reason for a failed login to the old
// server: what went wrong (reasonMsg), the server's own words scrubbed
// of the secrets (unless they only repeat the refusal) and the advice
// they map to, if known.
func explainLogin(ce *transfer.ConnError, plainForbidden bool, sc scrubber) i18n.Msg {
	text := reasonMsg(ce, plainForbidden)
	advice := loginAdvice(ce)
	said := strings.TrimSpace(ce.Detail)
	switch ce.Reason {
	case transfer.ReasonAuth, transfer.ReasonThrottled, transfer.ReasonProtocol:
	default:
		said = "" // the system's words (timeouts, TLS): the reason says them
	}
	if advice == "" {
		for _, g := range genericRefusals {
			if strings.EqualFold(said, g) {
				said = ""
			}
		}
	}
	if said != "" && ce.Reason != transfer.ReasonProtocol || said != "" && advice != "" {
		text = i18n.New("check.with_said", text, i18n.New("check.server_said", clip(sc.text(said), 300)))
	}
	if advice != "" {
		text = i18n.New("check.with_advice", text, i18n.New(advice))
	}
	return text
}
