package transfer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// What both IMAP clients (go-imap's, in conn.go, and the pipelined
// appender's, in pipeconn.go) share before they speak: where an endpoint is,
// the TCP and TLS dial, and which login to run.

// target is where an endpoint is reached, resolved against a preset.
type target struct {
	side     Side
	host     string // the name certificates are verified against
	addr     string // host:port as given, for messages
	dialAddr string // the ip:port or host:port actually dialled
	mode     TLSMode
}

// target resolves e against p's defaults.
func (e Endpoint) target(side Side, p Preset) (target, error) {
	host, port, mode, err := e.resolve(p)
	if err != nil {
		return target{}, &ConnError{Side: side, Addr: e.Host, Reason: ReasonProtocol, Detail: err.Error(), Err: err}
	}
	t := target{side: side, host: host, addr: fmtAddr(host, port), dialAddr: fmtAddr(host, port), mode: mode}
	if e.DialAddr != "" {
		t.dialAddr = e.DialAddr
	}
	return t, nil
}

// dialTCP opens the TCP connection to t, bounded by to.Dial (and ctx). The
// connection gets a deadline of to.Dial from now: the TLS handshake and the
// greeting must fit in it too.
func dialTCP(ctx context.Context, t target, e Endpoint, to Timeouts) (net.Conn, error) {
	d := netDialer(e, to)
	dctx, cancel := context.WithTimeout(ctx, to.Dial)
	defer cancel()
	raw, err := d.DialContext(dctx, "tcp", t.dialAddr)
	if err != nil {
		return nil, classifyDial(t.side, t.addr, err)
	}
	_ = raw.SetDeadline(time.Now().Add(to.Dial))
	return raw, nil
}

// handshakeTLS runs the client's TLS handshake over raw, bounded by to.Dial
// (and ctx).
func handshakeTLS(ctx context.Context, t target, raw net.Conn, cfg *tls.Config, to Timeouts) (*tls.Conn, error) {
	hctx, cancel := context.WithTimeout(ctx, to.Dial)
	defer cancel()
	tc := tls.Client(readAhead(raw), cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, classifyDial(t.side, t.addr, err)
	}
	return tc, nil
}

// readAheadSize is the read buffer between a TCP connection and what reads
// it (TLS, or the wire's bounds on a plain connection). Without it TLS reads
// the socket once per record (Dovecot's are 8 KiB: a 20 KB message cost
// three read(2) and a wake-up each), go-imap once per 4 KiB of line data.
const readAheadSize = 64 << 10

// aheadConn reads its connection through a buffer of readAheadSize; every
// other method is the connection's (deadlines, Close), so a cut of the TCP
// connection still fails its reads at once. It holds no more than the
// buffer: the bounds on lines and literals are above it, on what it hands on.
type aheadConn struct {
	net.Conn
	br *bufio.Reader
}

func readAhead(c net.Conn) net.Conn {
	return &aheadConn{Conn: c, br: bufio.NewReaderSize(c, readAheadSize)}
}

func (a *aheadConn) Read(b []byte) (int, error) { return a.br.Read(b) }

// loginMech is how a client logs in.
type loginMech int

// The login mechanisms.
const (
	mechLogin       loginMech = iota // LOGIN user password
	mechPlain                        // AUTHENTICATE PLAIN authzid\0user\0password
	mechXOAuth2                      // AUTHENTICATE XOAUTH2 with a bearer token
	mechOAuthBearer                  // AUTHENTICATE OAUTHBEARER (RFC 7628) with a bearer token
)

func (m loginMech) String() string {
	switch m {
	case mechPlain:
		return "AUTHENTICATE PLAIN"
	case mechXOAuth2:
		return "AUTHENTICATE XOAUTH2"
	case mechOAuthBearer:
		return "AUTHENTICATE OAUTHBEARER"
	}
	return "LOGIN"
}

// loginPlan is the login a client runs: the mechanism, the identity that
// authenticates (with e.Password, or e.OAuth2Token for XOAUTH2) and, for a
// master user's SASL PLAIN, the mailbox it acts for. It holds no secret.
type loginPlan struct {
	mech    loginMech
	user    string // LOGIN's user, SASL's authentication identity
	authzid string // SASL PLAIN's authorization identity; empty = user's own
}

// errLoginDisabled says the server refuses LOGIN (LOGINDISABLED, RFC 3501
// §6.2.3: typically before TLS) and nothing else would do.
var errLoginDisabled = errors.New("the server refuses LOGIN")

// planLogin decides how to log in to e, given the server's capabilities
// before login: with a token, XOAUTH2 (the providers' own), or OAUTHBEARER
// when the server offers only that; a master user with SASL PLAIN and an
// authorization identity when the server offers AUTH=PLAIN (or the endpoint
// asks for it), else Dovecot's "user*master" LOGIN; a user with LOGIN,
// unless the server has LOGINDISABLED.
func planLogin(e Endpoint, caps imap.CapSet) (loginPlan, error) {
	switch {
	case e.OAuth2Token != "" || e.TokenSource != nil:
		if caps.Has(imap.AuthCap(sasl.OAuthBearer)) && !caps.Has(imap.AuthCap("XOAUTH2")) {
			return loginPlan{mech: mechOAuthBearer, user: e.User}, nil
		}
		return loginPlan{mech: mechXOAuth2, user: e.User}, nil
	case e.AuthUser != "":
		form := e.MasterForm
		if form == MasterAuto {
			form = MasterSeparator
			if caps.Has(imap.AuthCap("PLAIN")) {
				form = MasterSASL
			}
		}
		if form == MasterSASL {
			return loginPlan{mech: mechPlain, user: e.AuthUser, authzid: e.User}, nil
		}
		if form == MasterExchange {
			return loginPlan{mech: mechLogin, user: e.AuthUser + `\` + e.User}, nil
		}
		sep := e.MasterSeparator
		if sep == "" {
			sep = "*"
		}
		return loginPlan{mech: mechLogin, user: e.User + sep + e.AuthUser}, nil
	case caps.Has(imap.CapLoginDisabled):
		return loginPlan{}, errLoginDisabled
	}
	return loginPlan{mech: mechLogin, user: e.User}, nil
}

// withToken returns e with a bearer token from its TokenSource, fetched for
// this connection; e itself when it has none.
func (e Endpoint) withToken(ctx context.Context, side Side, addr string) (Endpoint, error) {
	if e.TokenSource == nil {
		return e, nil
	}
	tok, err := e.TokenSource(ctx)
	if err == nil && tok == "" {
		err = errors.New("empty token")
	}
	if err != nil {
		return e, &ConnError{Side: side, Addr: addr, Reason: ReasonOAuth, Detail: err.Error(), Err: err}
	}
	e.OAuth2Token = tok
	return e, nil
}
