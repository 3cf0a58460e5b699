package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/sync/errgroup"

	"github.com/trasloco/trasloco/internal/i18n"
)

// item is a message on its way from the source to the destination.
type item struct {
	m    meta
	body *body
	held int64 // bytes held in the in-flight budget
}

// size is the message's size in bytes.
func (it item) size() int64 { return it.body.Len() }

// done gives back the item's memory and budget once its bytes are written.
func (it item) done(b *budget) {
	b.release(it.held)
	it.body.free()
}

// outcome is what an appender reports for one message.
type outcome struct {
	m       meta
	destUID uint32
	err     error // the destination refused this message
}

// pipeline streams the bodies of todo from the source while several
// destination connections append them; the checkpoint is written in batches
// after the destination confirmed each message. Messages the destination
// refused together in one MULTIAPPEND are appended again one by one.
func (r *runner) pipeline(ctx context.Context, f opened, todo []meta) error {
	p := f.p
	again, err := r.pipelineOnce(ctx, f, todo, false)
	if err != nil || len(again) == 0 {
		return err
	}
	r.t.event(slog.LevelWarn, p.Source, "log.append.group_refused", len(again))
	_, err = r.pipelineOnce(ctx, f, again, true)
	return err
}

// pipelineOnce is one pass of pipeline; alone appends one message per
// command. It returns the messages refused together with others.
func (r *runner) pipelineOnce(ctx context.Context, f opened, todo []meta, alone bool) (again []meta, err error) {
	p := f.p
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(pctx)
	budget := r.budget
	if budget == nil {
		budget = newBudget(r.job.InFlightBytes)
	}
	items := make(chan item, 64)
	outcomes := make(chan outcome, 256)
	byUID := make(map[uint32]meta, len(todo))
	for _, m := range todo {
		byUID[m.uid] = m
	}

	goSafe(g, func() error {
		defer close(items)
		bf := &bodyFetch{r: r, f: f, byUID: byUID, budget: budget, items: items}
		return bf.run(gctx, todo)
	})
	var wg sync.WaitGroup
	for _, a := range r.c.appenders() {
		wg.Add(1)
		goSafe(g, func() error {
			defer wg.Done()
			return r.appendLoop(gctx, p, a, alone, budget, items, outcomes)
		})
	}
	go func() { wg.Wait(); close(outcomes) }()

	// Record in batches: on a crash at most one batch is unrecorded, and
	// those messages are then recognised at the destination by Message-ID.
	pending := map[uint32]Copied{}
	lastFlush := time.Now()
	now := r.copiedNow[p.Source]
	if now == nil {
		now = map[uint32]int64{}
		r.copiedNow[p.Source] = now
	}
	var recErr error
	flush := func() {
		if len(pending) == 0 || recErr != nil {
			return
		}
		// Record even when ctx has ended (a slice over, a shutdown): these
		// messages are at the destination, and the next attempt should
		// know without looking them up.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := r.job.Checkpoints.RecordMessages(rctx, p.Source, pending); err != nil {
			// Stop copying what could not be recorded; the retry recognises
			// the unrecorded messages at the destination.
			recErr = fmt.Errorf("record checkpoint: %w", err)
			stop()
			return
		}
		pending = map[uint32]Copied{}
		lastFlush = time.Now()
	}
	for o := range outcomes {
		if errors.Is(o.err, errRetryAlone) {
			again = append(again, o.m)
			continue
		}
		if o.err != nil {
			text := o.err.Error()
			var ierr *imap.Error
			if errors.As(o.err, &ierr) {
				text = ierr.Text
			}
			text = r.scrub(text)
			r.t.decide(p.Source, o.m, fateFailed, ReasonDestRefuse, text)
			r.t.event(slog.LevelError, p.Source, "log.append.refused", o.m.uid, i18n.Size(o.m.size), i18n.Day(o.m.date), clip(text))
			continue
		}
		r.t.settle(o.m, fateCopied, o.m.size)
		pending[o.m.uid] = Copied{DestUID: o.destUID, Flags: o.m.flags}
		now[o.m.uid] = o.m.size
		if len(pending) >= 200 || time.Since(lastFlush) > time.Second {
			flush()
		}
		r.t.progress(false)
	}
	flush()
	err = g.Wait()
	// What the appenders left in items, when they stopped first, gives its
	// memory back: the process's budget outlives the pass.
	for it := range items {
		it.done(budget)
	}
	if recErr != nil {
		err = recErr
	}
	r.c.dropBrokenPipes()
	var gone errFolderGone
	if errors.As(err, &gone) {
		delete(r.dstFolders, p.Dest)
	}
	sort.Slice(again, func(i, j int) bool { return again[i].uid < again[j].uid })
	return again, err
}
