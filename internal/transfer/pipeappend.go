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
	"unicode/utf16"
	"unicode/utf8"

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
	conn net.Conn // raw, or TLS over raw
	br   *bufio.Reader
	bw   *bufio.Writer
	to   Timeouts
	// utf8 sends mailbox names in UTF-8 (the server has IMAP4rev2), as
	// go-imap does; else in modified UTF-7.
	utf8 bool
	// multi: the server has MULTIAPPEND.
	multi   bool
	tag     uint64
	stopCtx func() bool

	mu     sync.Mutex
	broken bool // the connection failed or is half-way through something
}

// errNoLiteralPlus says the server cannot take pipelined APPENDs.
var errNoLiteralPlus = errors.New("the server does not offer LITERAL+")

// dialPipe connects and logs in to e as dial does, for appending only. ctx
// ending cuts the connection.
func dialPipe(ctx context.Context, e Endpoint, to Timeouts, utf8Names bool) (*pipeConn, error) {
	to = to.withDefaults()
	if e.OAuth2Token != "" {
		return nil, errors.New("XOAUTH2 login is not supported by the pipelined appender")
	}
	host, port, mode, err := e.resolve(PresetStandardSSL)
	if err != nil {
		return nil, err
	}
	addr := fmtAddr(host, port)
	dialAddr := addr
	if e.DialAddr != "" {
		dialAddr = e.DialAddr
	}
	d := netDialer(e, to)
	dctx, cancel := context.WithTimeout(ctx, to.Dial)
	defer cancel()
	raw, err := d.DialContext(dctx, "tcp", dialAddr)
	if err != nil {
		return nil, classifyDial(SideDestination, addr, err)
	}
	// Everything up to the end of the login must fit in the dial timeout
	// (the login is a command: it gets that much again).
	_ = raw.SetDeadline(time.Now().Add(to.Dial))
	p := &pipeConn{raw: raw, conn: raw, to: to, utf8: utf8Names}
	ok := false
	defer func() {
		if !ok {
			_ = raw.Close()
		}
	}()
	cfg := tlsConfig(host, mode, e, nil)
	switch mode {
	case TLSImplicit:
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, classifyDial(SideDestination, addr, err)
		}
		p.conn = tc
	case TLSStartTLS, TLSOpportunistic, TLSNone:
	default:
		return nil, fmt.Errorf("unknown TLS mode %q", mode)
	}
	p.br = bufio.NewReaderSize(p.conn, 16<<10)
	p.bw = bufio.NewWriterSize(p.conn, 64<<10)
	caps, err := p.greeting()
	if err != nil {
		return nil, err
	}
	if mode == TLSStartTLS || mode == TLSOpportunistic {
		if caps == nil {
			if caps, err = p.capability(); err != nil {
				return nil, err
			}
		}
		switch {
		case caps.Has(imap.CapStartTLS):
			if _, err := p.simple("STARTTLS"); err != nil {
				return nil, err
			}
			if p.br.Buffered() > 0 {
				return nil, errors.New("STARTTLS: the server sent data before the TLS handshake")
			}
			tc := tls.Client(raw, cfg)
			if err := tc.HandshakeContext(dctx); err != nil {
				return nil, classifyDial(SideDestination, addr, err)
			}
			p.conn = tc
			p.br.Reset(tc)
			p.bw.Reset(tc)
			caps = nil
		case mode == TLSStartTLS:
			return nil, &ConnError{Side: SideDestination, Addr: addr, Reason: ReasonNoTLS}
		}
	}
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
	_ = p.raw.SetDeadline(time.Now().Add(5 * time.Second))
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

// login logs in as dial does and returns the capabilities the server sent
// with its OK, if any.
func (p *pipeConn) login(e Endpoint, caps imap.CapSet) (imap.CapSet, error) {
	var st response
	var err error
	switch {
	case e.AuthUser != "":
		form := e.MasterForm
		if form == MasterAuto {
			form = MasterSeparator
			if caps.Has(imap.AuthCap("PLAIN")) {
				form = MasterSASL
			}
		}
		if form == MasterSASL {
			st, err = p.authPlain(e.User, e.AuthUser, e.Password, caps.Has(imap.CapSASLIR))
			break
		}
		sep := e.MasterSeparator
		if sep == "" {
			sep = "*"
		}
		st, err = p.loginCmd(e.User+sep+e.AuthUser, e.Password, caps)
	default:
		if caps.Has(imap.CapLoginDisabled) {
			return nil, &ConnError{Side: SideDestination, Reason: ReasonPlainRefuse}
		}
		st, err = p.loginCmd(e.User, e.Password, caps)
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

// response is one line of the server's, as far as the appender cares.
type response struct {
	tagged bool
	typ    imap.StatusResponseType
	code   string // response code, upper case
	arg    string // its arguments
	text   string
	caps   imap.CapSet // from an untagged CAPABILITY or a [CAPABILITY] code
}

func (r response) err() *imap.Error {
	return &imap.Error{Type: r.typ, Code: imap.ResponseCode(r.code), Text: r.text}
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

// parseStatus parses `STATUS [CODE args] text`.
func parseStatus(s string) response {
	word, rest, _ := strings.Cut(s, " ")
	r := response{typ: imap.StatusResponseType(strings.ToUpper(word))}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			code := rest[1:end]
			r.text = strings.TrimPrefix(rest[end+1:], " ")
			c, a, _ := strings.Cut(code, " ")
			r.code, r.arg = strings.ToUpper(c), a
			return r
		}
	}
	r.text = rest
	return r
}

func parseCaps(s string) imap.CapSet {
	caps := imap.CapSet{}
	for _, c := range strings.Fields(s) {
		caps[imap.Cap(strings.ToUpper(c))] = struct{}{}
	}
	return caps
}

// maxLine bounds a response line (literals in it not counted).
const maxLine = 1 << 20

// readLine reads one response line without its CRLF. Literals inside it
// (`{N}` at the end of a line, then N bytes) are skipped, replaced by "{}":
// nothing the appender needs comes in one.
func (p *pipeConn) readLine() (string, error) {
	var out []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			out = append(out, chunk...)
			if len(out) > maxLine {
				return "", errors.New("response line too long")
			}
			continue
		}
		if err != nil {
			return "", err
		}
		out = append(out, chunk...)
		if len(out) > maxLine {
			return "", errors.New("response line too long")
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

// trailingLiteral reports whether line ends with a literal's `{N}`.
func trailingLiteral(line []byte) (int64, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	digits := strings.TrimSuffix(string(line[i+1:len(line)-1]), "+")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// pending is an APPEND sent and not yet answered: one message, or several
// (MULTIAPPEND).
type pending struct {
	tag    string
	ms     []meta
	size   int64
	failed error // not sent: this message cannot be written
}

// errRetryAlone marks the messages of a MULTIAPPEND the destination refused
// as a whole (a NO that is not about quota): one of them, or several, is
// refused, and the others are not saved either. They should be appended
// again one by one, to find which.
var errRetryAlone = errors.New("refused with others: to be appended alone")

// batchLimits bounds the APPEND commands of a stream: up to window of them
// in flight, each with up to maxMsgs messages (MULTIAPPEND, RFC 3502) and
// about maxBytes bytes (a larger message goes alone).
//
// Dovecot saves the messages of one command in one transaction, which costs
// it about half the CPU time per message of one APPEND each (measured with
// 20 KB messages). With MULTIAPPEND two commands in flight keep the server
// busy (it works on one while the next is ready), and the messages that
// arrive meanwhile make the next group; without it, each message is one
// command, and a deeper window keeps the link full.
type batchLimits struct {
	window   int
	maxMsgs  int
	maxBytes int64
}

// The batches of a destination with MULTIAPPEND, and of one without.
var (
	multiBatch  = batchLimits{window: 2, maxMsgs: 50, maxBytes: 2 << 20}
	singleBatch = batchLimits{window: 32, maxMsgs: 1}
)

// appendStream appends every item of items to mailbox, with lim's commands
// in flight, each made, when the window has room, of the messages ready
// then (a command never waits for the next item). release is called for
// each item taken once its bytes are written (or once it is known they will
// not be); done is called for each message of each answered APPEND, in
// order, with the UID of APPENDUID (0 without) and, when the destination
// refused it, the *imap.Error, or errRetryAlone when it was refused with
// others of a MULTIAPPEND.
//
// It returns nil when items is closed and every APPEND sent is answered. It
// stops taking items and returns, after the answers of those already sent,
// the *imap.Error of an APPEND answered NO [OVERQUOTA] (or NO mentioning a
// quota) or NO [TRYCREATE]; and it returns at once on a connection failure,
// a BAD or a BYE, leaving the connection unusable. When ctx ends it stops
// taking items and returns ctx.Err() once those sent are answered.
func (p *pipeConn) appendStream(ctx context.Context, mailbox string, lim batchLimits, items <-chan item, release func(item), done func(m meta, uid uint32, err error)) error {
	if !p.usable() {
		return errors.New("append connection unusable")
	}
	mbox := mailboxArg(mailbox, p.utf8)
	// A command takes a slot before it is made, and gives it back when
	// answered.
	slots := make(chan struct{}, lim.window)
	inflight := make(chan pending, lim.window)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	// connErr is the first failure of the connection, by either side.
	var errMu sync.Mutex
	var connErr error
	fail := func(err error) {
		errMu.Lock()
		if connErr == nil {
			connErr = err
		}
		errMu.Unlock()
		halt()
		p.cut()
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer close(inflight)
		w := batchWriter{p: p, mbox: mbox, lim: lim, items: items, slots: slots, stop: stop, ctx: ctx, release: release, fail: fail}
		w.run(inflight)
	}()

	var stopErr error // an answered NO that ends the stream
	for pe := range inflight {
		<-slots
		if pe.failed != nil {
			if stopErr == nil {
				done(pe.ms[0], 0, pe.failed)
			}
			continue
		}
		if !p.usable() {
			continue // the connection is gone: drain what the writer queued
		}
		d := p.to.forSize(pe.size)
		_ = p.conn.SetReadDeadline(time.Now().Add(d))
		r, err := p.awaitAppend(pe.tag)
		if err != nil {
			fail(p.watchdogErr(err, d))
			continue
		}
		switch {
		case r.typ == imap.StatusResponseTypeOK:
			var uids []uint32
			if r.code == "APPENDUID" {
				if _, set, ok := strings.Cut(r.arg, " "); ok {
					uids = expandUIDSet(set)
				}
			}
			if len(uids) != len(pe.ms) {
				uids = nil // no APPENDUID, or one we cannot match up
			}
			for i, m := range pe.ms {
				uid := uint32(0)
				if uids != nil {
					uid = uids[i]
				}
				done(m, uid, nil)
			}
		case r.typ == imap.StatusResponseTypeNo && (isOverQuota(r.err()) || r.code == string(imap.ResponseCodeTryCreate)):
			// Stop sending; what was sent is still answered.
			if stopErr == nil {
				stopErr = r.err()
			}
			halt()
		case r.typ == imap.StatusResponseTypeNo:
			if stopErr != nil {
				continue
			}
			if len(pe.ms) == 1 {
				done(pe.ms[0], 0, r.err())
				continue
			}
			for _, m := range pe.ms {
				done(m, 0, fmt.Errorf("%w (%w)", errRetryAlone, r.err()))
			}
		default: // BAD: the command, or our idea of the protocol, is wrong
			fail(r.err())
		}
	}
	<-writerDone
	_ = p.conn.SetDeadline(time.Time{})
	switch {
	case connErr != nil:
		return connErr
	case stopErr != nil:
		return stopErr
	}
	return ctx.Err()
}

// batchWriter is appendStream's writing side.
type batchWriter struct {
	p       *pipeConn
	mbox    string
	lim     batchLimits
	items   <-chan item
	slots   chan<- struct{}
	stop    <-chan struct{}
	ctx     context.Context
	release func(item)
	fail    func(error)
	next    *item // taken from items, for the next command
	closed  bool  // items is closed
}

// take returns the next item; wait says whether to wait for one. Before
// waiting it flushes what is buffered.
func (w *batchWriter) take(wait bool) (item, bool) {
	if w.next != nil {
		it := *w.next
		w.next = nil
		return it, true
	}
	if w.closed || w.stopped() {
		// Stopped: no new message, even when items has some ready.
		return item{}, false
	}
	select {
	case it, ok := <-w.items:
		if !ok {
			w.closed = true
		}
		return it, ok
	default:
	}
	if !wait {
		return item{}, false
	}
	// Nothing ready: send what is buffered before waiting.
	if !w.flush() {
		return item{}, false
	}
	select {
	case it, ok := <-w.items:
		if !ok {
			w.closed = true
		}
		return it, ok
	case <-w.stop:
	case <-w.ctx.Done():
	}
	return item{}, false
}

func (w *batchWriter) stopped() bool {
	select {
	case <-w.stop:
		return true
	case <-w.ctx.Done():
		return true
	default:
		return false
	}
}

func (w *batchWriter) flush() bool {
	p := w.p
	if p.bw.Buffered() == 0 {
		return true
	}
	d := p.to.forSize(int64(p.bw.Buffered()))
	_ = p.conn.SetWriteDeadline(time.Now().Add(d))
	if err := p.bw.Flush(); err != nil {
		w.fail(p.watchdogErr(err, d))
		return false
	}
	return true
}

// run writes commands until items closes or the stream stops, and queues
// each written command on inflight.
func (w *batchWriter) run(inflight chan<- pending) {
	p := w.p
	defer func() {
		if w.next != nil {
			w.release(*w.next)
		}
		// Every command queued must reach the server, whatever ends the
		// stream: its answer is awaited.
		if p.usable() {
			w.flush()
		}
	}()
	for {
		if !w.slot() {
			return
		}
		it, ok := w.take(true)
		if !ok {
			return
		}
		if w.stopped() {
			w.release(it)
			return
		}
		part, err := appendPart(it)
		if err != nil {
			// This message cannot be sent: report it in its turn.
			w.release(it)
			inflight <- pending{ms: []meta{it.m}, failed: err}
			continue
		}
		pe := pending{tag: p.nextTag()}
		p.bw.WriteString(pe.tag)
		p.bw.WriteString(" APPEND ")
		p.bw.WriteString(w.mbox)
		for {
			pe.ms = append(pe.ms, it.m)
			pe.size += it.size()
			d := p.to.forSize(it.size())
			_ = p.conn.SetWriteDeadline(time.Now().Add(d))
			p.bw.WriteString(part)
			_, err := it.body.WriteTo(p.bw)
			w.release(it)
			if err != nil {
				w.fail(p.watchdogErr(err, d))
				return
			}
			if len(pe.ms) >= w.lim.maxMsgs {
				break
			}
			nx, ok := w.take(false)
			if !ok {
				break
			}
			if pe.size+nx.size() > w.lim.maxBytes {
				w.next = &nx
				break
			}
			if part, err = appendPart(nx); err != nil {
				w.next = &nx // it goes alone, and fails alone
				break
			}
			it = nx
		}
		if _, err := p.bw.WriteString("\r\n"); err != nil {
			w.fail(p.watchdogErr(err, p.to.Command))
			return
		}
		inflight <- pe // never blocks: it holds as many as there are slots
	}
}

// slot waits for room in the window for one more command; it flushes
// before waiting (the answers awaited may need what is buffered).
func (w *batchWriter) slot() bool {
	select {
	case w.slots <- struct{}{}:
		return true
	default:
	}
	if !w.flush() {
		return false
	}
	select {
	case w.slots <- struct{}{}:
		return true
	case <-w.stop:
		return false
	case <-w.ctx.Done():
		return false
	}
}

// expandUIDSet lists the UIDs of an APPENDUID uid-set ("7", "7:9",
// "3,7:9") in ascending order, as RFC 4315 assigns them to the messages of
// a MULTIAPPEND; nil when it cannot be read.
func expandUIDSet(set string) []uint32 {
	var out []uint32
	for part := range strings.SplitSeq(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil || a == 0 {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil || b == 0 {
				return nil
			}
			if b < a {
				a, b = b, a
			}
		}
		if b-a > 1<<16 {
			return nil
		}
		for u := a; u <= b; u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

// watchdogErr names a deadline that cut the connection as the watchdog.
func (p *pipeConn) watchdogErr(err error, d time.Duration) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errWatchdog{what: "APPEND", d: d}
	}
	return err
}

// awaitAppend reads up to tag's answer; untagged data is skipped.
func (p *pipeConn) awaitAppend(tag string) (response, error) {
	for {
		line, err := p.readLine()
		if err != nil {
			return response{}, err
		}
		r, err := p.classify(tag, line)
		if err != nil {
			return response{}, err
		}
		if r.tagged {
			return r, nil
		}
	}
}

// appendPart is one message's part of an APPEND command, up to its
// literal's "{N+}\r\n": " (flags) "date" {N+}\r\n".
func appendPart(it item) (string, error) {
	var b strings.Builder
	b.Grow(96)
	b.WriteByte(' ')
	if len(it.m.flags) > 0 {
		b.WriteByte('(')
		for i, f := range it.m.flags {
			if !validFlag(f) {
				return "", fmt.Errorf("its flag %q cannot be written over IMAP", f)
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f)
		}
		b.WriteString(") ")
	}
	if !it.m.date.IsZero() {
		b.WriteByte('"')
		b.WriteString(it.m.date.Format(dateTimeLayout))
		b.WriteString(`" `)
	}
	b.WriteByte('{')
	b.WriteString(strconv.FormatInt(it.size(), 10))
	b.WriteString("+}\r\n")
	return b.String(), nil
}

// dateTimeLayout is IMAP's date-time, as go-imap writes it.
const dateTimeLayout = "_2-Jan-2006 15:04:05 -0700"

// validFlag reports whether f can be sent as a flag: `\` and an atom, or an
// atom (go-imap's rule).
func validFlag(f string) bool {
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '\\' && i == 0 {
			continue
		}
		if !atomChar(c) {
			return false
		}
	}
	return true
}

func atomChar(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return c > 0x1f && c < 0x7f
}

// mailboxArg encodes a mailbox name for a command exactly as go-imap's
// encoder does (go-imap's own encoder is internal to it): INBOX as an atom;
// anything else in modified UTF-7 (RFC 3501 §5.1.3), or in UTF-8 with "&"
// escaped when the server has IMAP4rev2; then quoted, or a literal when
// quoting cannot carry it.
func mailboxArg(name string, utf8Names bool) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if utf8Names {
		name = strings.ReplaceAll(name, "&", "&-")
	} else {
		name = encodeUTF7(name)
	}
	s, _ := astring(name, true, utf8Names)
	return s
}

// astring is s as a quoted string, or as a non-synchronising literal when
// it has to be one (a CR, LF or NUL, over 4 KiB, or 8-bit bytes unless
// utf8, which the server's IMAP4rev2 allows) and literal allows; ok is false
// when it would have to be a literal and cannot. It is go-imap's choice.
func astring(s string, literal, utf8 bool) (string, bool) {
	quotable := len(s) <= 4096
	for i := 0; i < len(s) && quotable; i++ {
		switch c := s[i]; {
		case c == 0, c == '\r', c == '\n', c > 0x7f && !utf8:
			quotable = false
		}
	}
	if quotable {
		var b strings.Builder
		b.Grow(len(s) + 2)
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
		return b.String(), true
	}
	if !literal {
		return "", false
	}
	return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s, true
}

// utf7Enc is modified BASE64 (RFC 3501 §5.1.3: "," instead of "/").
var utf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// encodeUTF7 encodes s in modified UTF-7: printable ASCII stands for itself
// ("&" as "&-"); every run of other characters is "&", the modified BASE64
// of its UTF-16BE, "-".
func encodeUTF7(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
			if c == '&' {
				b.WriteByte('-')
			}
			i++
			continue
		}
		start := i
		for i < len(s) && (s[i] < 0x20 || s[i] > 0x7e) {
			i++
		}
		var u []byte
		for _, r := range s[start:i] {
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				u = append(u, byte(r1>>8), byte(r1), byte(r2>>8), byte(r2))
				continue
			}
			u = append(u, byte(r>>8), byte(r))
		}
		b.WriteByte('&')
		b.WriteString(utf7Enc.EncodeToString(u))
		b.WriteByte('-')
	}
	return b.String()
}
