package transfer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/emersion/go-imap/v2"
)

// Side names one end of a copy.
type Side string

// The two sides of a copy.
const (
	SideSource      Side = "source"
	SideDestination Side = "destination"
)

// Reason classifies why a connection or a login failed, so that callers (the
// panel) can put it in the customer's language.
type Reason string

// The reasons a connection or a login fails.
const (
	ReasonAuth        Reason = "auth"         // wrong user or password, or IMAP not enabled
	ReasonTimeout     Reason = "timeout"      // no answer in time
	ReasonRefused     Reason = "refused"      // connection refused
	ReasonDNS         Reason = "dns"          // host name does not resolve
	ReasonUnreachable Reason = "unreachable"  // no route, network down
	ReasonTLS         Reason = "tls"          // TLS handshake failed
	ReasonCertificate Reason = "certificate"  // certificate cannot be verified
	ReasonNoTLS       Reason = "no-starttls"  // STARTTLS required but not offered
	ReasonPlainRefuse Reason = "plain-refuse" // server refuses login without TLS
	ReasonForbidden   Reason = "forbidden"    // address not allowed by the caller's dialer
	ReasonProtocol    Reason = "protocol"     // the server speaks no IMAP we understand
	ReasonOAuth       Reason = "oauth"        // no OAuth2 token: the provider refused the grant
)

// ConnError is a failure to connect or log in. Its message is written for a
// customer: it says which side, what address and what to do; it never holds a
// password.
type ConnError struct {
	Side   Side
	Addr   string // host:port as the customer wrote it
	Reason Reason
	Detail string // the server's or the system's own words, password-free
	// OAuthOffered says, for a refused password login (ReasonAuth), that
	// the server offers XOAUTH2 or OAUTHBEARER: on Office 365 that means
	// basic authentication is off and only a token will do.
	OAuthOffered bool
	Err          error
}

func (e *ConnError) Error() string {
	var what string
	switch e.Reason {
	case ReasonAuth:
		what = "login refused: wrong user or password, or IMAP access not enabled"
	case ReasonTimeout:
		what = "cannot connect to " + e.Addr + " (timeout)"
	case ReasonRefused:
		what = "cannot connect to " + e.Addr + " (connection refused)"
	case ReasonDNS:
		what = "cannot connect to " + e.Addr + " (host not found)"
	case ReasonUnreachable:
		what = "cannot connect to " + e.Addr + " (network unreachable)"
	case ReasonTLS:
		what = "secure connection to " + e.Addr + " failed"
	case ReasonCertificate:
		what = "the certificate of " + e.Addr + " cannot be verified"
	case ReasonNoTLS:
		what = e.Addr + " does not offer STARTTLS"
	case ReasonPlainRefuse:
		what = e.Addr + " refuses login without encryption"
	case ReasonForbidden:
		what = "connections to " + e.Addr + " are not allowed"
	case ReasonOAuth:
		what = "no OAuth2 token for " + e.Addr + ": the provider refused the grant"
	default:
		what = "unexpected answer from " + e.Addr
	}
	msg := string(e.Side) + ": " + what
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

func (e *ConnError) Unwrap() error { return e.Err }

// ErrDestinationFull ends a mailbox whose destination is over quota: retrying
// would not help until the customer frees space or raises the quota.
var ErrDestinationFull = errors.New("destination mailbox is full (over quota)")

// ErrForbiddenAddress is returned by a guarded dialer (see Endpoint.Dialer) for
// an address the operator does not allow.
var ErrForbiddenAddress = errors.New("address not allowed")

// classifyDial turns a dial or handshake error into a ConnError.
func classifyDial(side Side, addr string, err error) *ConnError {
	ce := &ConnError{Side: side, Addr: addr, Reason: ReasonProtocol, Err: err}
	if te, ok := IsThrottled(err); ok {
		ce.Reason, ce.Detail, ce.Err = ReasonThrottled, te.Text, te
		return ce
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		ce.Reason = ReasonForbidden
		ce.Detail = err.Error()
	case errors.As(err, &dnsErr):
		ce.Reason = ReasonDNS
		if dnsErr.IsTimeout {
			ce.Reason = ReasonTimeout
		}
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		ce.Reason = ReasonCertificate
		ce.Detail = certDetail(err)
	case errors.As(err, &recordErr), errors.As(err, &alertErr):
		ce.Reason = ReasonTLS
		ce.Detail = "the server did not answer in TLS: check the port and the server type"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		ce.Reason = ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Reason = ReasonRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		ce.Reason = ReasonUnreachable
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		ce.Reason = ReasonProtocol
		ce.Detail = "the server closed the connection"
	}
	return ce
}

func certDetail(err error) string {
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		return "it is not valid for this host name"
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return "it has expired"
	}
	return "it is self-signed or signed by an unknown authority"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classifyLogin turns a failed LOGIN/AUTHENTICATE into a ConnError.
func classifyLogin(side Side, addr string, err error) *ConnError {
	var ierr *imap.Error
	if errors.As(err, &ierr) {
		ce := &ConnError{Side: side, Addr: addr, Reason: ReasonAuth, Err: err}
		if te, ok := IsThrottled(err); ok {
			// Not a refused password: the account is busy.
			ce.Reason, ce.Detail, ce.Err = ReasonThrottled, te.Text, te
			return ce
		}
		switch ierr.Code {
		case imap.ResponseCodePrivacyRequired:
			ce.Reason = ReasonPlainRefuse
		case imap.ResponseCodeUnavailable:
			ce.Reason = ReasonProtocol
			ce.Detail = "the server is temporarily unavailable: " + ierr.Text
		default:
			ce.Detail = strings.TrimSpace(ierr.Text)
		}
		return ce
	}
	return classifyDial(side, addr, err)
}

// IsConnError reports whether err is a connection or login failure, and
// returns it.
func IsConnError(err error) (*ConnError, bool) {
	var ce *ConnError
	ok := errors.As(err, &ce)
	return ce, ok
}

// retriable reports whether err is a passing network failure worth a
// reconnect: a dropped connection or a timeout, not a refusal.
func retriable(err error) bool {
	if err == nil || errors.Is(err, ErrDestinationFull) || errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := IsThrottled(err); ok {
		return false // the caller waits as the server asks, not here
	}
	if ce, ok := IsConnError(err); ok {
		switch ce.Reason {
		case ReasonTimeout, ReasonRefused, ReasonUnreachable, ReasonProtocol:
			return true
		}
		return false
	}
	var ierr *imap.Error
	if errors.As(err, &ierr) {
		return ierr.Type == imap.StatusResponseTypeBye || ierr.Code == imap.ResponseCodeUnavailable || ierr.Code == imap.ResponseCodeInUse
	}
	return true // I/O errors, closed connections, our own watchdog
}

func fmtAddr(host string, port int) string {
	return net.JoinHostPort(host, fmt.Sprint(port))
}
