package transfer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/trasloco/trasloco/internal/i18n"
)

// MasterForm says how a master user logs in on behalf of a user.
type MasterForm string

// The master-user login forms.
const (
	// MasterAuto uses SASL PLAIN with an authorization identity when the
	// server offers AUTH=PLAIN, else Dovecot's "user*master" LOGIN.
	MasterAuto      MasterForm = ""
	MasterSASL      MasterForm = "sasl"      // AUTHENTICATE PLAIN user\0master\0password
	MasterSeparator MasterForm = "separator" // LOGIN "user*master" password
	// MasterExchange is Exchange's administrator login: LOGIN
	// "master\user" with the administrator's password, the master written
	// DOMAIN\admin or admin@domain (so "DOMAIN\admin\user",
	// "admin@domain\user"); the administrator needs FullAccess on the
	// mailbox. Exchange takes no SASL authorization identity.
	MasterExchange MasterForm = "exchange"
)

// MasterFormFor is the master-user form a preset's servers take:
// Exchange's administrator login for Exchange and Office 365 (whose
// shared and delegated mailboxes use the same form), MasterAuto for the
// others.
func MasterFormFor(p Preset) MasterForm {
	if p == PresetExchange || p == PresetOffice365 {
		return MasterExchange
	}
	return MasterAuto
}

// Endpoint says how to reach and log in to one IMAP server.
type Endpoint struct {
	// Host is "host" or "host:port"; the port defaults to the preset's.
	Host string
	// DialAddr, when set, is the "ip:port" actually dialled (an address pinned
	// by an earlier successful test); certificates are still verified against
	// Host's name.
	DialAddr string
	// TLS is the TLS mode; empty means the preset's default.
	TLS TLSMode
	// User is the mailbox to log in to.
	User string
	// AuthUser, when set, is a master user who logs in on behalf of User.
	AuthUser string
	// MasterForm picks the master-user login form; default MasterAuto.
	MasterForm MasterForm
	// MasterSeparator is the separator of the "user*master" form; default "*".
	MasterSeparator string
	// Password is the password of User, or of AuthUser when that is set.
	Password string
	// OAuth2Token, when set, logs in with XOAUTH2 instead of a password.
	OAuth2Token string
	// TokenSource, when set, is asked for a bearer token before every new
	// connection (it caches the token until shortly before it expires), and
	// the login is XOAUTH2, or OAUTHBEARER when the server offers only that;
	// Password is then unused. Its error must hold no secret: it becomes the
	// Detail of a ConnError with ReasonOAuth.
	TokenSource func(ctx context.Context) (string, error)
	// InsecureSkipVerify accepts certificates that cannot be verified.
	InsecureSkipVerify bool
	// RootCAs verifies certificates; nil means the system's roots.
	RootCAs *x509.CertPool
	// Dialer opens the TCP connection; nil means a plain net.Dialer. The panel
	// passes one whose Control refuses addresses the operator does not allow.
	Dialer *net.Dialer
}

// String describes the endpoint for logs; it never includes a password.
func (e Endpoint) String() string {
	who := e.User
	if e.AuthUser != "" {
		who += " (as " + e.AuthUser + ")"
	}
	return who + " at " + e.Host
}

// Timeouts bound every network operation, in time and in what a server may
// send. go-imap waits for a response without a deadline, so the engine
// closes a connection that goes silent; it reads lines and literals of any
// length, so a wireConn under it fails a read past MaxLine or MaxLiteral.
type Timeouts struct {
	Dial    time.Duration // TCP connect plus TLS handshake and greeting; default 20s
	Command time.Duration // any single command; default 60s
	// Throughput is the slowest transfer rate tolerated for large literals in
	// bytes per second before a command is considered stuck; default 64 KiB/s.
	Throughput int64
	// MaxLine bounds a response line, with the literals in it that are not
	// a message's body; default DefaultMaxLine (4 MiB).
	MaxLine int64
	// MaxLiteral bounds the literal of a message's body; default
	// DefaultMaxMessageSize plus 1 MiB (a copy sets it from its
	// MaxMessageSize).
	MaxLiteral int64
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Dial <= 0 {
		t.Dial = 20 * time.Second
	}
	if t.Command <= 0 {
		t.Command = 60 * time.Second
	}
	if t.Throughput <= 0 {
		t.Throughput = 64 << 10
	}
	if t.MaxLine <= 0 {
		t.MaxLine = DefaultMaxLine
	}
	if t.MaxLiteral <= 0 {
		t.MaxLiteral = DefaultMaxMessageSize + literalSlack
	}
	return t
}

// logoutWait bounds a goodbye (LOGOUT, closing): polite, not worth waiting
// for.
func (t Timeouts) logoutWait() time.Duration { return min(5*time.Second, t.Command) }

// forSize is the time allowed for a command that moves n bytes.
func (t Timeouts) forSize(n int64) time.Duration {
	return t.Command + time.Duration(n/t.Throughput)*time.Second
}

// resolve fills in the port and the TLS mode from the preset.
func (e Endpoint) resolve(p Preset) (host string, port int, mode TLSMode, err error) {
	d := p.Defaults()
	h := strings.TrimSpace(e.Host)
	if h == "" {
		h = d.Host
	}
	if h == "" {
		return "", 0, "", errors.New("no host given")
	}
	port = d.Port
	if hh, pp, splitErr := net.SplitHostPort(h); splitErr == nil {
		n, convErr := strconv.Atoi(pp)
		if convErr != nil || n < 1 || n > 65535 {
			return "", 0, "", fmt.Errorf("invalid port %q in %q", pp, e.Host)
		}
		h, port = hh, n
	} else if strings.Count(h, ":") == 1 {
		return "", 0, "", fmt.Errorf("invalid host %q", e.Host)
	}
	mode = e.TLS
	if mode == "" {
		mode = d.TLS
	}
	return h, port, mode, nil
}

// session is one logged-in IMAP connection with a watchdog: every command
// runs under a timer that closes the connection when it fires.
type session struct {
	c             *imapclient.Client
	raw           net.Conn  // the TCP connection under c (and under TLS)
	wire          *wireConn // what c reads through: it bounds lines and literals
	side          Side
	addr          string // host:port as given
	remote        string // ip:port actually reached
	timeouts      Timeouts
	caps          imap.CapSet
	greeting      string // the text of the server's greeting (see layout.go)
	unverifiedTLS bool   // TLS certificate accepted without verification
	stopCtx       func() bool

	mu       sync.Mutex
	timedOut bool
}

// says is what the server said about itself (see effectivePreset).
func (s *session) says() serverSays { return serverSays{caps: s.caps, greeting: s.greeting} }

// errWatchdog marks a command cut off by the session's own timeout.
type errWatchdog struct {
	what string
	d    time.Duration
}

func (e errWatchdog) Error() string {
	return fmt.Sprintf("%s: no answer within %s", e.what, e.d)
}
func (e errWatchdog) Timeout() bool { return true }

// do runs f under a timer of d; when it fires the connection is closed, which
// makes every pending go-imap call return.
func (s *session) do(what string, d time.Duration, f func() error) error {
	t := time.AfterFunc(d, func() {
		s.mu.Lock()
		s.timedOut = true
		s.mu.Unlock()
		s.cut()
	})
	err := f()
	if !t.Stop() {
		return errWatchdog{what: what, d: d}
	}
	return s.cause(err)
}

// cause is err, or the bound the server passed when it passed one: go-imap
// reports a failed read as text only, a *LineTooLongError or
// *LiteralTooLargeError is known here.
func (s *session) cause(err error) error {
	if err == nil {
		return nil
	}
	if werr := s.wire.Err(); werr != nil {
		return werr
	}
	return err
}

// watchdog returns a timer that closes the connection unless it is kicked
// (Reset) or stopped in time; for streaming commands.
func (s *session) watchdog(d time.Duration) *time.Timer {
	return time.AfterFunc(d, func() {
		s.mu.Lock()
		s.timedOut = true
		s.mu.Unlock()
		s.cut()
	})
}

// cut closes the TCP connection under the client, from any goroutine: the
// command in progress and go-imap's reader fail with a read error and wind
// down in order. (Closing the client itself while another goroutine still
// consumes a FETCH literal races inside go-imap.)
func (s *session) cut() {
	if s.raw != nil {
		_ = s.raw.Close()
	}
}

func (s *session) wasTimedOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timedOut
}

// Close logs out politely (bounded) and closes the connection.
func (s *session) Close() {
	if s == nil || s.c == nil {
		return
	}
	if s.stopCtx != nil {
		s.stopCtx()
	}
	// A server that never answers LOGOUT, or a go-imap reader parked on a
	// FETCH literal nobody reads any more, must not hold the copy: each
	// goodbye gets logoutWait, then the connection is cut.
	wait := s.timeouts.logoutWait()
	_ = within("LOGOUT", wait, func() error { return s.c.Logout().Wait() })
	s.cut()
	_ = within("close", wait, s.c.Close)
}

// dial connects and logs in. notes receives remarks worth logging (never a
// password).
func dial(ctx context.Context, side Side, p Preset, e Endpoint, to Timeouts, notes func(i18n.Msg)) (*session, error) {
	to = to.withDefaults()
	t, err := e.target(side, p)
	if err != nil {
		return nil, err
	}
	s, err := dialMode(ctx, t, e, to)
	if err != nil && t.mode == TLSOpportunistic {
		if ce, ok := IsConnError(err); ok && ce.Reason == ReasonNoTLS {
			notes(i18n.New("log.conn.no_starttls"))
			plain := t
			plain.mode = TLSNone
			s, err = dialMode(ctx, plain, e, to)
		}
	}
	if err != nil {
		return nil, err
	}
	if s.unverifiedTLS {
		notes(acceptedBecause(t.mode, e))
	}
	if e, err = e.withToken(ctx, side, t.addr); err != nil {
		s.c.Close()
		return nil, err
	}
	if err := s.login(e); err != nil {
		s.c.Close()
		return nil, err
	}
	s.stopCtx = context.AfterFunc(ctx, s.cut)
	if err := s.do("CAPABILITY", to.Command, func() error {
		caps, err := s.c.Capability().Wait()
		s.caps = caps
		return err
	}); err != nil {
		s.Close()
		return nil, classifyDial(side, s.addr, err)
	}
	return s, nil
}

func acceptedBecause(mode TLSMode, e Endpoint) i18n.Msg {
	if mode == TLSOpportunistic {
		return i18n.New("log.conn.unverified_no_ssl")
	}
	return i18n.New("log.conn.unverified_off")
}

// dialMode connects to t in t's TLS mode and waits for the greeting.
func dialMode(ctx context.Context, t target, e Endpoint, to Timeouts) (*session, error) {
	side, addr := t.side, t.addr
	raw, err := dialTCP(ctx, t, e, to)
	if err != nil {
		return nil, err
	}
	s := &session{side: side, addr: addr, remote: raw.RemoteAddr().String(), timeouts: to}
	tlsCfg := tlsConfig(t.host, t.mode, e, func() { s.unverifiedTLS = true })
	d := netDialer(e, to)
	opts := &imapclient.Options{TLSConfig: tlsCfg, Dialer: &d}

	switch t.mode {
	case TLSImplicit:
		tc, err := handshakeTLS(ctx, t, raw, tlsCfg, to)
		if err != nil {
			raw.Close()
			return nil, err
		}
		s.wire = boundConn(tc, to)
		s.c = imapclient.New(s.wire, opts)
	case TLSStartTLS, TLSOpportunistic:
		// go-imap's own STARTTLS puts TLS under its reader, where nothing
		// of ours can bound what it reads; so STARTTLS is done here, as
		// the pipelined appender does it, and go-imap gets the TLS
		// connection, bounded, with the greeting it already had.
		p, _, err := openPipe(ctx, t, raw, tlsCfg, to)
		if err != nil {
			raw.Close()
			return nil, asConnError(side, addr, err)
		}
		if !p.encrypted() {
			raw.Close()
			return nil, &ConnError{Side: side, Addr: addr, Reason: ReasonNoTLS}
		}
		s.wire = p.conn.(*wireConn)
		s.greeting = p.greetText
		s.c = imapclient.New(&greetedConn{Conn: s.wire, greeting: strings.NewReader("* OK TLS started\r\n")}, opts)
	case TLSNone:
		s.wire = boundConn(raw, to)
		s.c = imapclient.New(s.wire, opts)
	default:
		raw.Close()
		return nil, &ConnError{Side: side, Addr: addr, Reason: ReasonProtocol, Detail: "unknown TLS mode " + string(t.mode)}
	}
	s.raw = raw
	// go-imap gives the greeting 30 s from the first byte, whatever the
	// deadline on raw; the dial timeout bounds it here.
	if err := s.do("greeting", to.Dial, s.c.WaitGreeting); err != nil {
		s.cut()
		_ = within("close", to.logoutWait(), s.c.Close)
		if errors.As(err, new(errWatchdog)) {
			return nil, &ConnError{Side: side, Addr: addr, Reason: ReasonTimeout, Err: err}
		}
		return nil, classifyDial(side, addr, err)
	}
	_ = raw.SetDeadline(time.Time{})
	if s.greeting == "" {
		s.greeting = s.wire.greeting()
	}
	return s, nil
}

// asConnError is err as a *ConnError: itself when it is one.
func asConnError(side Side, addr string, err error) error {
	if _, ok := IsConnError(err); ok {
		return err
	}
	return classifyDial(side, addr, err)
}

// netDialer is the dialer of e, its timeout capped by to.Dial.
func netDialer(e Endpoint, to Timeouts) net.Dialer {
	d := net.Dialer{Timeout: to.Dial}
	if e.Dialer != nil {
		d = *e.Dialer
		if d.Timeout == 0 || d.Timeout > to.Dial {
			d.Timeout = to.Dial
		}
	}
	return d
}

// tlsConfig is the TLS configuration of a connection to host: verified
// against e.RootCAs, unless e or the mode (Standard-no-SSL) accepts what
// cannot be verified, in which case unverified is called when it could not.
func tlsConfig(host string, mode TLSMode, e Endpoint, unverified func()) *tls.Config {
	cfg := &tls.Config{ServerName: host, RootCAs: e.RootCAs, MinVersion: tls.VersionTLS12}
	if e.InsecureSkipVerify || mode == TLSOpportunistic {
		// Verify anyway, to say in the log when the certificate is not trustworthy.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if verifyChain(cs, host, e.RootCAs) != nil && unverified != nil {
				unverified()
			}
			return nil
		}
	}
	return cfg
}

func verifyChain(cs tls.ConnectionState, host string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	return err
}

// login logs in as planLogin decides.
func (s *session) login(e Endpoint) error {
	var caps imap.CapSet
	if err := s.do("CAPABILITY", s.timeouts.Command, func() error {
		caps = s.c.Caps()
		return nil
	}); err != nil {
		return classifyDial(s.side, s.addr, err)
	}
	plan, err := planLogin(e, caps)
	if err != nil {
		return &ConnError{Side: s.side, Addr: s.addr, Reason: ReasonPlainRefuse}
	}
	err = s.do(plan.mech.String(), s.timeouts.Command, func() error {
		switch plan.mech {
		case mechXOAuth2:
			return s.c.Authenticate(xoauth2{user: plan.user, token: e.OAuth2Token})
		case mechOAuthBearer:
			return s.c.Authenticate(oauthBearer{user: plan.user, token: e.OAuth2Token})
		case mechPlain:
			return s.c.Authenticate(sasl.NewPlainClient(plan.authzid, plan.user, e.Password))
		}
		return s.c.Login(plan.user, e.Password).Wait()
	})
	if err != nil {
		ce := classifyLogin(s.side, s.addr, err)
		ce.OAuthOffered = ce.Reason == ReasonAuth && plan.mech != mechXOAuth2 && plan.mech != mechOAuthBearer &&
			(caps.Has(imap.AuthCap("XOAUTH2")) || caps.Has(imap.AuthCap(sasl.OAuthBearer)))
		return ce
	}
	return nil
}

// xoauth2 is the SASL XOAUTH2 mechanism (Gmail, Office 365), which go-sasl
// lacks.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x xoauth2) Next(challenge []byte) ([]byte, error) {
	// The server sends a JSON error as a challenge; answering lets it
	// finish with NO, which carries the reason. Not empty: go-imap sends
	// an empty answer as "=", which Dovecot refuses as invalid base64
	// (losing its reason); 0x01 is RFC 7628's answer to an error.
	return []byte{0x01}, nil
}

// oauthBearer is the SASL OAUTHBEARER mechanism (RFC 7628); go-sasl's
// gives up on the server's error challenge, losing the server's NO.
type oauthBearer struct{ user, token string }

func (o oauthBearer) Start() (string, []byte, error) {
	return "OAUTHBEARER", []byte("n,a=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(o.user) + ",\x01auth=Bearer " + o.token + "\x01\x01"), nil
}

func (o oauthBearer) Next(challenge []byte) ([]byte, error) { return []byte{0x01}, nil }
