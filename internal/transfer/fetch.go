package transfer

import (
	"context"
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// fetchMeta fetches UID, FLAGS, INTERNALDATE and RFC822.SIZE of every message
// of the selected source folder in one command.
func (r *runner) fetchMeta(src *source, n uint32) ([]meta, error) {
	if n == 0 {
		return nil, nil
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	out := make([]meta, 0, n)
	wd := src.watchdog(r.job.Timeouts.Command)
	defer wd.Stop()
	cmd := src.fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		wd.Reset(r.job.Timeouts.Command)
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, r.netErr(src, "FETCH", err)
		}
		out = append(out, meta{uid: uint32(buf.UID), flags: flagStrings(buf.Flags), date: buf.InternalDate, size: buf.RFC822Size})
	}
	if err := cmd.Close(); err != nil {
		return nil, r.netErr(src, "FETCH", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].uid < out[j].uid })
	return out, nil
}

// netErr replaces the error of a command the watchdog cut off by a clear one.
func (r *runner) netErr(s interface{ wasTimedOut() bool }, what string, err error) error {
	if s.wasTimedOut() {
		return errWatchdog{what: what, d: r.job.Timeouts.Command}
	}
	return err
}

// fetchBodies streams BODY.PEEK[] of todo, in UID chunks, into items.
func (r *runner) fetchBodies(ctx context.Context, src *source, todo []meta, byUID map[uint32]meta, budget *budget, items chan<- item) error {
	const chunk = 250
	for start := 0; start < len(todo); start += chunk {
		end := min(start+chunk, len(todo))
		var set imap.UIDSet
		for _, m := range todo[start:end] {
			set.AddNum(imap.UID(m.uid))
		}
		section := &imap.FetchItemBodySection{Peek: true}
		cmd := src.fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
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
						size := it.Literal.Size()
						var err error
						if held, err = budget.acquire(ctx, size); err != nil {
							return err
						}
						wd.Reset(r.job.Timeouts.forSize(size))
						if data, err = readBody(it.Literal, size); err != nil {
							budget.release(held)
							return r.netErr(src, "FETCH", err)
						}
					}
				}
				if data == nil {
					continue // a message expunged meanwhile, or flags only
				}
				m, ok := byUID[uid]
				if !ok {
					item{body: data, held: held}.done(budget)
					continue
				}
				select {
				case items <- item{m: m, body: data, held: held}:
				case <-ctx.Done():
					item{body: data, held: held}.done(budget)
					return ctx.Err()
				}
			}
			return nil
		}()
		wd.Stop()
		if err != nil {
			// The FETCH is left half-read: the connection cannot be reused.
			// go-imap's reader waits for us to consume what it already read:
			// cut the connection under it, then drain the command, which
			// now fails fast.
			src.cut()
			_ = cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return r.netErr(src, "FETCH", err)
		}
	}
	return nil
}
