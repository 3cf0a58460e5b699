package transfer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
)

// The batch writer of the pipelined appender: appendStream writes APPEND
// commands in a window while it reads their answers in order.

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
//
// A panic, in its writer or in its reader (the caller's goroutine), cuts
// the connection and is returned as a *PanicError.
func (p *pipeConn) appendStream(ctx context.Context, mailbox string, lim batchLimits, items <-chan item, release func(item), done func(m meta, uid uint32, err error)) (err error) {
	if !p.usable() {
		return errors.New("append connection unusable")
	}
	mbox := mailboxArg(mailbox, p.utf8)
	// A command takes a slot before it is made, and gives it back when
	// answered.
	slots := make(chan struct{}, lim.window)
	inflight := make(chan pending, lim.window)
	// busy counts the commands queued and not yet answered; answered
	// wakes a writer that fills a command while the server is busy.
	var busy atomic.Int64
	answeredCh := make(chan struct{}, 1)
	answered := func() {
		busy.Add(-1)
		select {
		case answeredCh <- struct{}{}:
		default:
		}
	}
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
		defer func() {
			if err := recovered(recover()); err != nil {
				fail(err)
			}
		}()
		w := batchWriter{p: p, mbox: mbox, lim: lim, items: items, slots: slots, stop: stop, ctx: ctx, release: release, fail: fail, busy: &busy, answered: answeredCh}
		w.run(inflight)
	}()

	defer func() {
		if perr := recovered(recover()); perr != nil {
			fail(perr)
			for range inflight {
			}
			<-writerDone
			err = perr
		}
	}()

	var stopErr error // an answered NO that ends the stream
	for pe := range inflight {
		<-slots
		if pe.failed != nil {
			answered()
			if stopErr == nil {
				done(pe.ms[0], 0, pe.failed)
			}
			continue
		}
		if !p.usable() {
			answered()
			continue // the connection is gone: drain what the writer queued
		}
		d := p.to.forSize(pe.size)
		_ = p.conn.SetReadDeadline(time.Now().Add(d))
		r, err := p.awaitAppend(pe.tag)
		answered()
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
	// busy is the number of commands queued and not yet answered;
	// answered is signalled at each answer.
	busy     *atomic.Int64
	answered <-chan struct{}
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

// takeWhileBusy waits for the next item of the command being made for as
// long as the server has commands of this stream to answer. Made only of
// the messages ready at once, commands are small whenever the source is
// slower than the destination, and the destination's cost is per command
// (Dovecot saves each in one transaction): so a command grows while the
// server is busy anyway, and goes once it has answered the ones before (or
// when full). The first command never waits.
func (w *batchWriter) takeWhileBusy() (item, bool) {
	if w.closed || w.busy.Load() == 0 {
		return item{}, false
	}
	// What is buffered goes now: the answers awaited may need it.
	if !w.flush() {
		return item{}, false
	}
	for w.busy.Load() > 0 {
		select {
		case it, ok := <-w.items:
			if !ok {
				w.closed = true
			}
			return it, ok
		case <-w.answered:
		case <-w.stop:
			return item{}, false
		case <-w.ctx.Done():
			return item{}, false
		}
	}
	return w.take(false)
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
			w.busy.Add(1)
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
			err := p.writeBody(it.body)
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
				nx, ok = w.takeWhileBusy()
			}
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
		w.busy.Add(1)
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

// writeBody writes a message's body after what is buffered. On a plain
// TCP connection a body larger than the buffer goes from its own chunks in
// vectored writes (writev), instead of being copied into the buffer and
// written 64 KiB at a time; under TLS, and a smaller body, through the
// buffer.
func (p *pipeConn) writeBody(b *body) error {
	tcp, ok := p.raw.(*net.TCPConn)
	if !ok || p.encrypted() || b.Len() < int64(p.bw.Size()) {
		_, err := b.WriteTo(p.bw)
		return err
	}
	if err := p.bw.Flush(); err != nil {
		return err
	}
	bufs := b.buffers()
	_, err := bufs.WriteTo(tcp)
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
