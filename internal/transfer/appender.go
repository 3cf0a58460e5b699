package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/emersion/go-imap/v2"
)

// appender appends a stream of messages into one destination folder: the
// pipelined appender (pipeConn) or go-imap's APPEND, one round trip each.
type appender interface {
	// stream appends every item of items to mailbox (one message per
	// command when alone is set) until items is closed. release is called
	// for each item once its bytes are written, or once they will not be;
	// done once for each message answered, with the UID the destination
	// gave it (0 when it did not say), or the refusal of that message
	// alone (an *imap.Error NO), or errRetryAlone when refused together
	// with others. It returns a failure of the connection, or the
	// *imap.Error NO of a refusal that concerns the whole folder (over
	// quota, TRYCREATE).
	stream(ctx context.Context, mailbox string, alone bool, items <-chan item, release func(item), done func(m meta, uid uint32, err error)) error
}

// pipeAppender is a pipelined appender (LITERAL+, MULTIAPPEND).
type pipeAppender struct{ pc *pipeConn }

func (a pipeAppender) stream(ctx context.Context, mailbox string, alone bool, items <-chan item, release func(item), done func(meta, uint32, error)) error {
	lim := multiBatch
	if alone || !a.pc.multi {
		lim = singleBatch
	}
	return a.pc.appendStream(ctx, mailbox, lim, items, release, done)
}

// imapAppender appends through go-imap on a destination session.
type imapAppender struct {
	s  *session
	to Timeouts
}

func (a imapAppender) stream(_ context.Context, mailbox string, _ bool, items <-chan item, release func(item), done func(meta, uint32, error)) error {
	for it := range items {
		uid, err := a.appendOne(mailbox, it)
		release(it)
		var ierr *imap.Error
		switch {
		case err == nil:
		case errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo && (isOverQuota(ierr) || ierr.Code == imap.ResponseCodeTryCreate):
			return err
		case errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo:
			// This message only; the connection is still good.
		default:
			return err
		}
		done(it.m, uid, err)
	}
	return nil
}

func (a imapAppender) appendOne(mailbox string, it item) (uint32, error) {
	d := a.s
	try := func() (uint32, error) {
		var uid uint32
		err := d.do("APPEND", a.to.forSize(it.size()), func() error {
			cmd := d.c.Append(mailbox, it.size(), &imap.AppendOptions{Flags: imapFlags(it.m.flags), Time: it.m.date})
			_, werr := it.body.WriteTo(cmd)
			cerr := cmd.Close()
			data, err := cmd.Wait()
			if err != nil {
				return err
			}
			if werr != nil {
				return werr
			}
			if cerr != nil {
				return cerr
			}
			if data != nil {
				uid = uint32(data.UID)
			}
			return nil
		})
		return uid, err
	}
	uid, err := try()
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeTryCreate {
		if cerr := d.do("CREATE", a.to.Command, func() error { return d.c.Create(mailbox, nil).Wait() }); cerr == nil {
			uid, err = try()
		}
	}
	return uid, err
}

// errFolderGone is a destination folder that vanished during the copy (an
// APPEND answered NO [TRYCREATE]): the folder is retried, which creates it
// again.
type errFolderGone struct{ folder, text string }

func (e errFolderGone) Error() string {
	return fmt.Sprintf("destination folder %q is gone (%s)", e.folder, e.text)
}

// appendLoop appends items with a until items closes, sending every answer
// to outcomes, and maps what ends the stream: over quota ends the mailbox,
// TRYCREATE retries the folder, anything else is the connection's failure.
func (r *runner) appendLoop(ctx context.Context, p FolderPlan, a appender, alone bool, budget *budget, items <-chan item, outcomes chan<- outcome) error {
	err := a.stream(ctx, p.Dest, alone, items,
		func(it item) { it.done(budget) },
		// Every answer is reported, even after ctx ended: the pipeline
		// reads outcomes to the end, and a message the destination
		// confirmed must be recorded.
		func(m meta, uid uint32, err error) { outcomes <- outcome{m: m, destUID: uid, err: err} })
	var ierr *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo && isOverQuota(ierr):
		r.t.event(slog.LevelError, p.Source, "log.conn.destination_full", ierr.Text)
		return ErrDestinationFull
	case errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeTryCreate:
		return errFolderGone{folder: p.Dest, text: ierr.Text}
	}
	return err
}
