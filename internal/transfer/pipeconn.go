package transfer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
)

// pipeConn is a destination connection that does nothing but APPEND, with
// non-synchronising literals (LITERAL+, RFC 7888), many commands in flight:
// go-imap v2 sends a literal over 4 KiB synchronising, so every APPEND of a
// real message waits a round trip for the server's "+" before its body. This
// speaks just enough IMAP for that: TLS or STARTTLS, LOGIN or AUTHENTICATE
// PLAIN (master users included, as dial does), then pipelined
//
//	tag APPEND mailbox (flags) "date" {N+}
//	<N bytes> (flags) "date" {N+}
//	<N bytes>
//
// (several messages in one command when the server has MULTIAPPEND), and
// the tagged answers, which come back in order.
//
// Deadlines on the connection are its watchdog: a write must finish within
// Timeouts.forSize of its message, and each answer must come within
// Timeouts.forSize of its command's bytes after the previous answer;
// otherwise the connection is cut.
type pipeConn struct {
	raw  net.Conn // TCP
	conn net.Conn // a wireConn over raw, or over TLS over raw
	br   *bufio.Reader
	bw   *bufio.Writer
	to   Timeouts
	// utf8 sends mailbox names in UTF-8 (the server has IMAP4rev2), as
	// go-imap does; else in modified UTF-7.
	utf8 bool
	// multi: the server has MULTIAPPEND.
	multi bool
	// greetText is the text of the server's greeting.
	greetText string
	tag       uint64
	stopCtx   func() bool

	mu     sync.Mutex
	broken bool // the connection failed or is half-way through something
}

// errNoLiteralPlus says the server cannot take pipelined APPENDs.
var errNoLiteralPlus = errors.New("the server does not offer LITERAL+")

// dialPipe connects and logs in to e as dial does, for appending only. ctx
// ending cuts the connection.
func dialPipe(ctx context.Context, e Endpoint, to Timeouts, utf8Names bool) (*pipeConn, error) {
	to = to.withDefaults()
	if e.OAuth2Token != "" || e.TokenSource != nil {
		return nil, errors.New("XOAUTH2 login is not supported by the pipelined appender")
	}
	t, err := e.target(SideDestination, PresetStandardSSL)
	if err != nil {
		return nil, err
	}
	// Everything up to the end of the login must fit in the dial timeout
	// (the login is a command: it gets that much again).
	raw, err := dialTCP(ctx, t, e, to)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = raw.Close()
		}
	}()
	cfg := tlsConfig(t.host, t.mode, e, nil)
	p, caps, err := openPipe(ctx, t, raw, cfg, to)
	if err != nil {
		return nil, err
	}
	p.utf8 = utf8Names
	if caps == nil {
		if caps, err = p.capability(); err != nil {
			return nil, err
		}
	}
	_ = raw.SetDeadline(time.Now().Add(to.Command))
	after, err := p.login(e, caps)
	if err != nil {
		return nil, err
	}
	if after == nil {
		if after, err = p.capability(); err != nil {
			return nil, err
		}
	}
	if !after.Has(imap.CapLiteralPlus) {
		p.logout()
		return nil, errNoLiteralPlus
	}
	p.multi = after.Has(imap.CapMultiAppend)
	_ = raw.SetDeadline(time.Time{})
	// When ctx ends, appendStream stops sending and waits for the answers
	// of what it sent, so that the destination holds nothing unrecorded
	// (a cut connection leaves the server saving literals it had already
	// read, unseen by this copy and possibly by the next one's checks);
	// the cut comes only if those answers take longer than pipeStopGrace.
	// Reads and writes have deadlines of their own meanwhile.
	p.stopCtx = context.AfterFunc(ctx, func() { time.AfterFunc(pipeStopGrace, p.cut) })
	ok = true
	return p, nil
}

// openPipe speaks to the server on raw up to the point of logging in: TLS
// as t.mode says (implicit, or STARTTLS when offered), and the greeting. It
// returns the capabilities known by then (none after STARTTLS). Reads are
// bounded by a wireConn, under TLS when there is TLS.
func openPipe(ctx context.Context, t target, raw net.Conn, cfg *tls.Config, to Timeouts) (*pipeConn, imap.CapSet, error) {
	p := &pipeConn{raw: raw, to: to}
	switch t.mode {
	case TLSImplicit:
		tc, err := handshakeTLS(ctx, t, raw, cfg, to)
		if err != nil {
			return nil, nil, err
		}
		p.conn = boundConn(tc, to)
	case TLSStartTLS, TLSOpportunistic, TLSNone:
		p.conn = boundConn(raw, to)
	default:
		return nil, nil, fmt.Errorf("unknown TLS mode %q", t.mode)
	}
	p.br = bufio.NewReaderSize(p.conn, 16<<10)
	p.bw = bufio.NewWriterSize(p.conn, 64<<10)
	caps, err := p.greeting()
	if err != nil {
		return nil, nil, p.wireErr(err)
	}
	if t.mode != TLSStartTLS && t.mode != TLSOpportunistic {
		return p, caps, nil
	}
	if caps == nil {
		if caps, err = p.capability(); err != nil {
			return nil, nil, p.wireErr(err)
		}
	}
	switch {
	case caps.Has(imap.CapStartTLS):
		if _, err := p.simple("STARTTLS"); err != nil {
			return nil, nil, p.wireErr(err)
		}
		if p.br.Buffered() > 0 {
			return nil, nil, errors.New("STARTTLS: the server sent data before the TLS handshake")
		}
		tc, err := handshakeTLS(ctx, t, raw, cfg, to)
		if err != nil {
			return nil, nil, err
		}
		p.conn = boundConn(tc, to)
		p.br.Reset(p.conn)
		p.bw.Reset(p.conn)
		return p, nil, nil
	case t.mode == TLSStartTLS:
		return nil, nil, &ConnError{Side: t.side, Addr: t.addr, Reason: ReasonNoTLS}
	}
	return p, caps, nil
}

// encrypted reports whether p speaks TLS.
func (p *pipeConn) encrypted() bool {
	w, ok := p.conn.(*wireConn)
	if !ok {
		return false
	}
	_, isTLS := w.Conn.(*tls.Conn)
	return isTLS
}

// wireErr is the bound the server passed, if it passed one, else err (nil
// included).
func (p *pipeConn) wireErr(err error) error {
	if w, ok := p.conn.(*wireConn); ok {
		if werr := w.Err(); werr != nil {
			return werr
		}
	}
	return err
}

// pipeStopGrace bounds how long a stopped copy waits for the answers of
// the APPENDs it already sent.
const pipeStopGrace = 10 * time.Second

// cut closes the TCP connection from any goroutine.
func (p *pipeConn) cut() {
	p.mu.Lock()
	p.broken = true
	p.mu.Unlock()
	_ = p.raw.Close()
}

// usable reports whether the connection can take more APPENDs.
func (p *pipeConn) usable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.broken
}

// Close logs out (bounded) and closes the connection.
func (p *pipeConn) Close() {
	if p == nil {
		return
	}
	if p.stopCtx != nil {
		p.stopCtx()
	}
	if p.usable() {
		p.logout()
	}
	p.cut()
}

func (p *pipeConn) logout() {
	_ = p.raw.SetDeadline(time.Now().Add(p.to.logoutWait()))
	_, _ = p.simple("LOGOUT")
}

func (p *pipeConn) nextTag() string {
	p.tag++
	return "P" + strconv.FormatUint(p.tag, 10)
}

// greeting reads the server's greeting, and the capabilities it may carry.
func (p *pipeConn) greeting() (imap.CapSet, error) {
	line, err := p.readLine()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	rest, ok := strings.CutPrefix(line, "* ")
	if !ok {
		return nil, fmt.Errorf("greeting: unexpected %q", clip(line))
	}
	st := parseStatus(rest)
	if st.typ != imap.StatusResponseTypeOK {
		return nil, fmt.Errorf("greeting: %s %s", st.typ, st.text)
	}
	p.greetText = clip(st.text)
	if strings.EqualFold(st.code, "CAPABILITY") {
		return parseCaps(st.arg), nil
	}
	return nil, nil
}

func (p *pipeConn) capability() (imap.CapSet, error) {
	st, err := p.simple("CAPABILITY")
	if err != nil {
		return nil, err
	}
	return st.caps, nil
}

// login logs in as planLogin decides and returns the capabilities the
// server sent with its OK, if any.
func (p *pipeConn) login(e Endpoint, caps imap.CapSet) (imap.CapSet, error) {
	plan, err := planLogin(e, caps)
	if err != nil {
		return nil, &ConnError{Side: SideDestination, Reason: ReasonPlainRefuse}
	}
	var st response
	switch plan.mech {
	case mechPlain:
		st, err = p.authPlain(plan.authzid, plan.user, e.Password, caps.Has(imap.CapSASLIR))
	case mechLogin:
		st, err = p.loginCmd(plan.user, e.Password, caps)
	default:
		return nil, fmt.Errorf("%s is not supported by the pipelined appender", plan.mech)
	}
	if err != nil {
		return nil, classifyLogin(SideDestination, "", err)
	}
	return st.caps, nil
}

func (p *pipeConn) loginCmd(user, pass string, caps imap.CapSet) (response, error) {
	lit, utf8 := caps.Has(imap.CapLiteralPlus), caps.Has(imap.CapIMAP4rev2)
	u, uok := astring(user, lit, utf8)
	w, wok := astring(pass, lit, utf8)
	if !uok || !wok {
		return response{}, errors.New("LOGIN: user or password needs a literal and the server has no LITERAL+")
	}
	return p.simple("LOGIN " + u + " " + w)
}

// authPlain runs AUTHENTICATE PLAIN with authorization identity authz.
func (p *pipeConn) authPlain(authz, user, pass string, ir bool) (response, error) {
	resp := base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
	if ir {
		return p.simple("AUTHENTICATE PLAIN " + resp)
	}
	tag := p.nextTag()
	if err := p.writeFlush(tag + " AUTHENTICATE PLAIN\r\n"); err != nil {
		return response{}, err
	}
	line, err := p.readLine()
	if err != nil {
		return response{}, err
	}
	if !strings.HasPrefix(line, "+") {
		return p.finish(tag, line)
	}
	if err := p.writeFlush(resp + "\r\n"); err != nil {
		return response{}, err
	}
	return p.await(tag)
}

// simple runs one command and waits for its tagged answer; a NO or BAD is
// returned as an *imap.Error.
func (p *pipeConn) simple(cmd string) (response, error) {
	tag := p.nextTag()
	if err := p.writeFlush(tag + " " + cmd + "\r\n"); err != nil {
		return response{}, err
	}
	return p.await(tag)
}

func (p *pipeConn) writeFlush(s string) error {
	if _, err := p.bw.WriteString(s); err != nil {
		return err
	}
	return p.bw.Flush()
}

// await reads until tag's answer.
func (p *pipeConn) await(tag string) (response, error) {
	line, err := p.readLine()
	if err != nil {
		return response{}, err
	}
	return p.finish(tag, line)
}

func (p *pipeConn) finish(tag, line string) (response, error) {
	var caps imap.CapSet
	for {
		r, err := p.classify(tag, line)
		if err != nil {
			return response{}, err
		}
		if r.caps != nil {
			caps = r.caps
		}
		if r.tagged {
			if r.caps == nil {
				r.caps = caps
			}
			if r.typ != imap.StatusResponseTypeOK {
				return r, r.err()
			}
			return r, nil
		}
		if line, err = p.readLine(); err != nil {
			return response{}, err
		}
	}
}

// classify parses one line while waiting for tag: untagged data is noted or
// ignored, a BYE is an error, a tagged answer of another tag is a protocol
// error.
func (p *pipeConn) classify(tag, line string) (response, error) {
	if rest, ok := strings.CutPrefix(line, "* "); ok {
		word, args, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(word) {
		case "BYE":
			st := parseStatus(rest)
			return response{}, &imap.Error{Type: imap.StatusResponseTypeBye, Code: imap.ResponseCode(st.code), Text: st.text}
		case "CAPABILITY":
			return response{caps: parseCaps(args)}, nil
		case "OK", "NO", "BAD":
			st := parseStatus(rest)
			if st.code == "CAPABILITY" {
				return response{caps: parseCaps(st.arg)}, nil
			}
		}
		return response{}, nil
	}
	if strings.HasPrefix(line, "+") {
		return response{}, nil // a continuation nobody asked for: ignore
	}
	t, rest, _ := strings.Cut(line, " ")
	if t != tag {
		return response{}, fmt.Errorf("unexpected answer %q while waiting for %s", clip(line), tag)
	}
	st := parseStatus(rest)
	st.tagged = true
	switch st.typ {
	case imap.StatusResponseTypeOK, imap.StatusResponseTypeNo, imap.StatusResponseTypeBad:
	default:
		return response{}, fmt.Errorf("unexpected answer %q", clip(line))
	}
	if st.code == "CAPABILITY" {
		st.caps = parseCaps(st.arg)
	}
	return st, nil
}

// readLine reads one response line without its CRLF. Literals inside it
// (`{N}` at the end of a line, then N bytes) are skipped, replaced by "{}":
// nothing the appender needs comes in one.
func (p *pipeConn) readLine() (string, error) {
	var out []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			out = append(out, chunk...)
			if int64(len(out)) > p.to.MaxLine {
				return "", &LineTooLongError{Limit: p.to.MaxLine}
			}
			continue
		}
		if err != nil {
			return "", err
		}
		out = append(out, chunk...)
		if int64(len(out)) > p.to.MaxLine {
			return "", &LineTooLongError{Limit: p.to.MaxLine}
		}
		out = bytes.TrimRight(out, "\r\n")
		n, ok := trailingLiteral(out)
		if !ok {
			return string(out), nil
		}
		if _, err := io.CopyN(io.Discard, p.br, n); err != nil {
			return "", err
		}
		out = append(out[:bytes.LastIndexByte(out, '{')], "{}"...)
	}
}

// watchdogErr names a deadline that cut the connection as the watchdog.
func (p *pipeConn) watchdogErr(err error, d time.Duration) error {
	if werr := p.wireErr(nil); werr != nil {
		return werr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errWatchdog{what: "APPEND", d: d}
	}
	return err
}
