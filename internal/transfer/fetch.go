package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/trasloco/trasloco/internal/i18n"
)

// fetchMeta fetches UID, FLAGS, INTERNALDATE and RFC822.SIZE of every message
// of the selected source folder in one command.
func (r *runner) fetchMeta(src *source, n uint32) ([]meta, error) {
	if n == 0 {
		return nil, nil
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	// EXISTS is what the server claims: preallocate no more than a
	// folder's worth of what it can really send.
	out := make([]meta, 0, min(n, 1<<12))
	seen := make(map[uint32]bool, min(n, 1<<12))
	wd := src.watchdog(r.job.Timeouts.Command)
	defer wd.Stop()
	cmd := src.fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true})
	defer r.meter.wait()()
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		wd.Reset(r.job.Timeouts.Command)
		r.meter.add(64) // about a line of UID, FLAGS, INTERNALDATE, RFC822.SIZE
		// Item by item, not Collect: a literal the server adds unasked is
		// discarded by go-imap, never read into memory.
		var m meta
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				m.uid = uint32(it.UID)
			case imapclient.FetchItemDataFlags:
				m.flags = flagStrings(it.Flags)
			case imapclient.FetchItemDataInternalDate:
				m.date = it.Time
			case imapclient.FetchItemDataRFC822Size:
				m.size = it.Size
			}
		}
		if m.uid == 0 || seen[m.uid] {
			continue // no UID, or one listed twice: nothing to copy by it
		}
		if m.flags == nil {
			m.flags = []string{}
		}
		seen[m.uid] = true
		out = append(out, m)
	}
	if err := cmd.Close(); err != nil {
		return nil, r.netErr(src, "FETCH", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].uid < out[j].uid })
	return out, nil
}

// netErr replaces the error of a command the watchdog cut off by a clear one.
func (r *runner) netErr(s interface {
	wasTimedOut() bool
	cause(error) error
}, what string, err error) error {
	if _, src := s.(*source); src {
		if serr := r.meter.err(); serr != nil {
			return serr
		}
	}
	if s.wasTimedOut() {
		return errWatchdog{what: what, d: r.job.Timeouts.Command}
	}
	return s.cause(err)
}

// Why a message is not copied: codes of SkippedMessage.Reason, rendered in
// the reader's language at the edge.
const (
	ReasonTooLarge     = "too_large"              // over the size limit
	ReasonNotDelivered = "not_delivered"          // the source did not send it, asked twice
	ReasonSourceRefuse = "refused_by_source"      // the source answered NO to its FETCH alone
	ReasonSizeMismatch = "size_mismatch"          // the source sent far more than it declared
	ReasonDestRefuse   = "refused_by_destination" // our server refused its APPEND
	ReasonNoOutcome    = "no_outcome"             // the engine lost track of it (a bug)
)

// bodySlack is how much a body may exceed its declared RFC822.SIZE:
// servers count sizes differently (line ends, Exchange's estimate), not by
// megabytes.
func bodySlack(declared int64) int64 { return max(declared/2, 1<<20) }

// errUIDValidity is a source folder renumbered during the copy: the
// folder is copied again, and its messages recognised by Message-ID.
var errUIDValidity = errors.New("the source folder's UIDVALIDITY changed during the copy")

// bodyFetch streams the bodies of one pass from the source into items, and
// decides the fate of every message the source does not deliver: a chunk
// the source refuses (a tagged NO or BAD) or leaves messages out of is
// fetched again one message at a time; a message still not delivered is
// gone when a UID SEARCH proves it expunged, and failed otherwise. A body
// far larger than the message declared (bodySlack) or than the size limit
// is not read: the message is failed or too large, and the source
// reconnected. A connection that breaks while a body comes is reopened and
// the FETCH goes on (see survive).
type bodyFetch struct {
	r      *runner
	f      opened
	byUID  map[uint32]meta
	budget *budget
	items  chan<- item

	// strikes counts, per message, the connections that broke while its
	// body was being read; reopens the reconnects of this pass.
	strikes map[uint32]int
	reopens int
}

// maxReopens bounds the reconnects of one pass; past them a broken
// connection ends the pass, and the folder is retried with back-off.
const maxReopens = 20

// fetched is what one body FETCH delivered.
type fetched struct {
	delivered map[uint32]bool
	refusal   *imap.Error // a tagged NO or BAD
	cut       bool        // stopped at a body not read: the source must be reopened
	// tooBig is the connection's own bound on a literal, hit by a body of
	// one of the messages not delivered (which one, only a FETCH of each
	// alone tells).
	tooBig *LiteralTooLargeError
	// reading is the message whose body was being read when the
	// connection failed; 0 when none was.
	reading uint32
}

func (b *bodyFetch) run(ctx context.Context, todo []meta) error {
	const chunk = 250
	for start := 0; start < len(todo); start += chunk {
		if err := b.fetchAll(ctx, uidsOf(todo[start:min(start+chunk, len(todo))])); err != nil {
			return err
		}
	}
	return nil
}

// fetchAll fetches the bodies of uids, then one by one those not delivered.
func (b *bodyFetch) fetchAll(ctx context.Context, uids []uint32) error {
	for len(uids) > 0 {
		res, err := b.fetch(ctx, uids)
		if err != nil {
			if err := b.survive(ctx, res, err); err != nil {
				return err
			}
			uids = b.undelivered(uids, res.delivered)
			continue
		}
		rest := b.undelivered(uids, res.delivered)
		if named := res.tooBig; named != nil && b.byUID[named.UID].uid != 0 && len(b.undelivered([]uint32{named.UID}, nil)) == 1 {
			// The connection's bound named a message still to do: it is
			// too large, the others go on together. (A name already
			// decided is no progress: one at a time, below.)
			b.refuseLiteral(b.byUID[res.tooBig.UID], res.tooBig.Size)
			if err := b.reopen(ctx); err != nil {
				return err
			}
			uids = b.undelivered(rest, nil)
			continue
		}
		if res.tooBig != nil {
			if err := b.reopen(ctx); err != nil {
				return err
			}
			b.r.t.event(slog.LevelWarn, b.f.p.Source, "log.fetch.body_over_limit", len(rest))
			for _, uid := range rest {
				if err := b.alone(ctx, uid); err != nil {
					return err
				}
			}
			return nil
		}
		if res.cut {
			if err := b.reopen(ctx); err != nil {
				return err
			}
			uids = rest
			continue
		}
		if len(rest) == 0 {
			return nil
		}
		ev := i18n.New("log.fetch.left_out", len(rest), len(uids))
		if res.refusal != nil {
			ev = i18n.New("log.fetch.refused", string(res.refusal.Type), clip(res.refusal.Text), len(rest), len(uids))
		}
		b.r.t.logMsg(slog.LevelWarn, b.f.p.Source, ev)
		for _, uid := range rest {
			if err := b.alone(ctx, uid); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// alone fetches one message again, and decides its fate if the source
// still does not deliver it.
func (b *bodyFetch) alone(ctx context.Context, uid uint32) error {
	res, err := b.fetch(ctx, []uint32{uid})
	if err != nil {
		if err := b.survive(ctx, res, err); err != nil {
			return err
		}
		if len(b.undelivered([]uint32{uid}, res.delivered)) == 0 {
			return nil
		}
		return b.alone(ctx, uid)
	}
	if res.tooBig != nil && !res.delivered[uid] {
		b.refuseLiteral(b.byUID[uid], res.tooBig.Size)
		return b.reopen(ctx)
	}
	if res.cut {
		return b.reopen(ctx)
	}
	if res.delivered[uid] || len(b.undelivered([]uint32{uid}, nil)) == 0 {
		return nil
	}
	m := b.byUID[uid]
	folder := b.f.p.Source
	if res.refusal != nil {
		b.r.t.decide(folder, m, fateFailed, ReasonSourceRefuse, b.r.scrub(res.refusal.Text))
		b.r.t.event(slog.LevelError, folder, "log.message.source_refuses", uid, clip(b.r.scrub(res.refusal.Text)))
		return nil
	}
	there, err := b.present(uid)
	if err != nil {
		return err
	}
	if !there {
		b.r.t.decide(folder, m, fateGone, "", "")
		b.r.t.event(slog.LevelInfo, folder, "log.message.gone", uid)
		return nil
	}
	b.r.t.decide(folder, m, fateFailed, ReasonNotDelivered, "")
	b.r.t.event(slog.LevelError, folder, "log.message.not_delivered", uid)
	return nil
}

// survive goes on after the connection broke in a body FETCH, when the
// FETCH got somewhere: the message being read when it broke is struck
// (struck twice, it failed: a server that breaks on one message every time
// does not stop the others), and the source is reconnected. It returns err
// when there is no going on: no progress, too many reconnects, a stop.
func (b *bodyFetch) survive(ctx context.Context, res fetched, err error) error {
	var stall *StallError
	if ctx.Err() != nil || !retriable(err) || errors.Is(err, errUIDValidity) || errors.As(err, &stall) {
		return err
	}
	if len(res.delivered) == 0 && res.reading == 0 || b.reopens >= maxReopens {
		return err
	}
	b.reopens++
	folder := b.f.p.Source
	if uid := res.reading; uid != 0 {
		if b.strikes == nil {
			b.strikes = map[uint32]int{}
		}
		b.strikes[uid]++
		if b.strikes[uid] >= 2 {
			b.r.t.decide(folder, b.byUID[uid], fateFailed, ReasonNotDelivered, clip(b.r.scrub(err.Error())))
			b.r.t.event(slog.LevelError, folder, "log.message.broke_twice", uid, err)
		} else {
			b.r.t.event(slog.LevelWarn, folder, "log.conn.broke_message", uid, err)
		}
	} else {
		b.r.t.event(slog.LevelWarn, folder, "log.conn.broke_fetch", err)
	}
	return b.reopen(ctx)
}

// undelivered are the uids neither delivered nor decided.
func (b *bodyFetch) undelivered(uids []uint32, delivered map[uint32]bool) []uint32 {
	decided := b.r.t.decisions(b.f.p.Source)
	var out []uint32
	for _, u := range uids {
		if !delivered[u] && decided[u] == 0 {
			out = append(out, u)
		}
	}
	return out
}

// present reports whether uid is still in the folder: EXAMINE again (which
// also shows a changed UIDVALIDITY), then UID SEARCH.
func (b *bodyFetch) present(uid uint32) (bool, error) {
	src := b.r.c.src
	sel, err := src.examine(b.f.p.Source)
	if err != nil {
		return false, err
	}
	if sel.UIDValidity != b.f.sel.UIDValidity {
		return false, errUIDValidity
	}
	var set imap.UIDSet
	set.AddNum(imap.UID(uid))
	found, err := src.uidSearch(set)
	if err != nil {
		return false, err
	}
	return len(found) > 0, nil
}

// reopen connects to the source again and examines the folder.
func (b *bodyFetch) reopen(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.r.c.reopenSource(); err != nil {
		return err
	}
	sel, err := b.r.c.src.examine(b.f.p.Source)
	if err != nil {
		return err
	}
	if sel.UIDValidity != b.f.sel.UIDValidity {
		return errUIDValidity
	}
	return nil
}

// fetch sends one body FETCH of uids and streams what it delivers.
func (b *bodyFetch) fetch(ctx context.Context, uids []uint32) (fetched, error) {
	r, src := b.r, b.r.c.src
	res := fetched{delivered: map[uint32]bool{}}
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	cmd := src.fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	waiting := r.meter.wait()
	defer func() { waiting() }()
	wd := src.watchdog(r.job.Timeouts.Command)
	err := func() error {
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			wd.Reset(r.job.Timeouts.Command)
			var uid uint32
			var data *body
			var held int64
			for it := msg.Next(); it != nil; it = msg.Next() {
				switch it := it.(type) {
				case imapclient.FetchItemDataUID:
					uid = uint32(it.UID)
				case imapclient.FetchItemDataBodySection:
					if it.Literal == nil || data != nil {
						continue // BODY[] NIL: not delivered
					}
					m, ok := b.byUID[uid]
					if !ok {
						continue // not asked for (or UID after the body): go-imap discards it
					}
					size := it.Literal.Size()
					if size > r.job.MaxMessageSize || size > m.size+bodySlack(m.size) {
						b.refuseLiteral(m, size)
						res.cut = true
						return nil
					}
					var err error
					waiting()
					held, err = b.budget.acquire(ctx, size)
					waiting = r.meter.wait()
					if err != nil {
						return err
					}
					wd.Reset(r.job.Timeouts.forSize(size))
					if data, err = readBody(counted{it.Literal, r.meter}, size); err != nil {
						b.budget.release(held)
						res.reading = uid
						return r.netErr(src, "FETCH", err)
					}
				}
			}
			if data == nil {
				continue
			}
			m, ok := b.byUID[uid]
			if !ok || res.delivered[uid] {
				item{body: data, held: held}.done(b.budget)
				continue
			}
			res.delivered[uid] = true
			r.heard(b.f, uid, data)
			waiting()
			select {
			case b.items <- item{m: m, body: data, held: held}:
			case <-ctx.Done():
				item{body: data, held: held}.done(b.budget)
				return ctx.Err()
			}
			waiting = r.meter.wait()
		}
		return nil
	}()
	wd.Stop()
	if err != nil || res.cut {
		// The FETCH is left half-read: the connection cannot be reused.
		// go-imap's reader waits for us to consume what it already read:
		// cut the connection under it, then drain the command, which
		// now fails fast.
		src.cut()
		_ = cmd.Close()
		return res, b.tooBig(&res, err)
	}
	if err := cmd.Close(); err != nil {
		var ierr *imap.Error
		if te, ok := IsThrottled(err); ok {
			return res, te // not the messages' fault: the account waits
		}
		if errors.As(err, &ierr) && (ierr.Type == imap.StatusResponseTypeNo || ierr.Type == imap.StatusResponseTypeBad) {
			res.refusal = ierr
			return res, nil
		}
		return res, b.tooBig(&res, r.netErr(src, "FETCH", err))
	}
	return res, nil
}

// tooBig takes out of err the connection's bound on a literal (see
// wireConn), which the caller attributes to a message, and returns the
// rest.
func (b *bodyFetch) tooBig(res *fetched, err error) error {
	var lerr *LiteralTooLargeError
	if errors.As(b.r.c.src.cause(err), &lerr) {
		res.tooBig = lerr
		return nil
	}
	return err
}

// refuseLiteral decides the fate of a message whose body is far larger
// than it declared (failed: the server misbehaves, the message may come
// whole another time) or, declared near the limit, larger than the size
// limit (too large).
func (b *bodyFetch) refuseLiteral(m meta, size int64) {
	folder := b.f.p.Source
	if size <= m.size+bodySlack(m.size) {
		b.r.t.decide(folder, m, fateTooLarge, ReasonTooLarge, fmt.Sprintf("%d", size))
		b.r.t.event(slog.LevelWarn, folder, "log.message.over_limit", m.uid, i18n.Size(size), i18n.Size(b.r.job.MaxMessageSize))
		return
	}
	b.r.t.decide(folder, m, fateFailed, ReasonSizeMismatch, fmt.Sprintf("%d > %d", size, m.size))
	b.r.t.event(slog.LevelError, folder, "log.message.size_mismatch", m.uid, size, m.size)
}
