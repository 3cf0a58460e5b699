package transfer

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/trasloco/trasloco/internal/i18n"
)

// conns are the connections of one Run: the source (read-only), the
// destination connections (the first creates folders and looks messages up;
// all of them append through go-imap when there are no pipes), and the
// pipelined appenders.
type conns struct {
	job   *Job
	event func(level slog.Level, folder, key string, args ...any)

	src  *source
	dsts []*session
	// pipes are the pipelined appenders, when the destination takes them.
	pipes []*pipeConn
	// noPipes is set once the destination turned out not to take them.
	noPipes bool
	// runCtx is the context of the last connect: a connection is cut when
	// it ends, so one reopened inside a pass must not use the pass's own.
	runCtx context.Context
	// meter measures every source connection.
	meter *meter
}

// ready reports whether the source and a destination are connected.
func (c *conns) ready() bool { return c.src != nil && len(c.dsts) > 0 }

// dst is the destination connection that creates folders and looks up.
func (c *conns) dst() *session { return c.dsts[0] }

func (c *conns) closeAll() {
	if c.src != nil {
		c.src.Close()
		c.src = nil
	}
	for _, d := range c.dsts {
		d.Close()
	}
	c.dsts = nil
	for _, pc := range c.pipes {
		pc.Close()
	}
	c.pipes = nil
}

func (c *conns) connect(ctx context.Context) error {
	c.closeAll()
	c.runCtx = ctx
	s, err := dial(ctx, SideSource, c.job.Preset, c.job.Source, c.job.Timeouts, func(n i18n.Msg) { c.event(slog.LevelWarn, "", "log.conn.source_note", n) })
	if err != nil {
		return err
	}
	c.src = &source{s: s}
	c.meter.attach(s.cut)
	d, err := dial(ctx, SideDestination, PresetStandardSSL, c.job.Dest, c.job.Timeouts, func(n i18n.Msg) { c.event(slog.LevelWarn, "", "log.conn.dest_note", n) })
	if err != nil {
		return err
	}
	c.dsts = []*session{d}
	return nil
}

// reopenSource replaces the source connection by a new one (the old one
// was cut in the middle of a reply), for as long as the Run goes on.
func (c *conns) reopenSource() error {
	if c.src != nil {
		c.src.Close()
		c.src = nil
	}
	s, err := dial(c.runCtx, SideSource, c.job.Preset, c.job.Source, c.job.Timeouts, func(i18n.Msg) {})
	if err != nil {
		return err
	}
	c.src = &source{s: s}
	c.meter.attach(s.cut)
	return nil
}

// moreDests opens up to n destination connections; failures only mean fewer.
func (c *conns) moreDests(ctx context.Context, n int) {
	for len(c.dsts) < n {
		d, err := dial(ctx, SideDestination, PresetStandardSSL, c.job.Dest, c.job.Timeouts, func(i18n.Msg) {})
		if err != nil {
			c.event(slog.LevelDebug, "", "log.conn.extra_dest_refused", err, len(c.dsts))
			return
		}
		c.dsts = append(c.dsts, d)
	}
}

// openPipes opens the pipelined appenders (DestConns-1 of them) when the
// destination takes them; it reports whether there is at least one. A
// failure only means appending through go-imap, as before.
func (c *conns) openPipes(ctx context.Context) bool {
	want := c.job.DestConns - 1
	if want < 1 || c.noPipes || c.job.Dest.OAuth2Token != "" || c.job.Dest.TokenSource != nil || !c.dst().caps.Has(imap.CapLiteralPlus) {
		return false
	}
	for len(c.pipes) < want {
		pc, err := dialPipe(ctx, c.job.Dest, c.job.Timeouts, c.dst().caps.Has(imap.CapIMAP4rev2))
		if err != nil {
			if errors.Is(err, errNoLiteralPlus) {
				c.noPipes = true
			}
			c.event(slog.LevelDebug, "", "log.conn.pipe_not_opened", err, len(c.pipes))
			break
		}
		c.pipes = append(c.pipes, pc)
	}
	return len(c.pipes) > 0
}

// prepareAppend opens what appending n messages is worth: pipes, or else
// more go-imap connections.
func (c *conns) prepareAppend(ctx context.Context, n int) {
	if n > 8 || len(c.pipes) > 0 {
		if !c.openPipes(ctx) {
			c.moreDests(ctx, c.job.DestConns)
		}
	}
}

// appenders are the appenders of the next pass: the pipes when there are
// any, else the go-imap destination connections.
func (c *conns) appenders() []appender {
	var out []appender
	if len(c.pipes) > 0 {
		for _, pc := range c.pipes {
			out = append(out, pipeAppender{pc})
		}
		return out
	}
	for _, d := range c.dsts {
		out = append(out, imapAppender{s: d, to: c.job.Timeouts})
	}
	return out
}

// closePipes closes the pipelined appenders; the next folder opens new ones.
func (c *conns) closePipes() {
	for _, pc := range c.pipes {
		pc.Close()
	}
	c.pipes = nil
}

// dropBrokenPipes closes the pipes that failed; the next folder opens new
// ones.
func (c *conns) dropBrokenPipes() {
	c.pipes = slices.DeleteFunc(c.pipes, func(pc *pipeConn) bool {
		if pc.usable() {
			return false
		}
		pc.Close()
		return true
	})
}
