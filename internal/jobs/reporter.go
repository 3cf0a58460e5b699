package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// maxLogLines bounds the log of one mailbox run; past it only warnings and
// errors are kept, and the log says so once.
const maxLogLines = 5000

// dbReporter is the engine's Reporter for one mailbox run: it keeps the
// log lines, skipped messages and latest progress in memory (the engine
// calls it under its own lock) and a goroutine writes them to PostgreSQL
// every Deps.FlushInterval, so the panel shows the copy as it goes.
//
// Counters add up across attempts: an attempt that resumes sees the
// messages copied by the earlier ones as already there, so it adds its
// own copies to the base the earlier attempts left.
type dbReporter struct {
	d    Deps
	mb   store.MailboxRun
	base store.MailboxCounters // what earlier attempts copied

	mu       sync.Mutex
	logs     []store.LogLine
	skipped  []store.SkippedMessage
	last     transfer.Progress
	dirty    bool
	written  int
	capNoted bool
	// counted is what of this attempt's copies the metrics have seen.
	counted transfer.Counters
	// scrub takes the copy's secrets out of every text before it is stored.
	scrub scrubber
	// finished says the engine's final counters are in (result): its
	// snapshots from then on are stale.
	finished bool
	// tooLarge is how many messages over the size limit the line's test
	// login counted (its preview): STATUS counts them, the copy's total
	// does not (see countersLocked).
	tooLarge int
	// cp holds the engine's checkpoints until a flush writes them with the
	// rest (nil: the engine writes its own).
	cp *batchedCheckpoints
	// proof are the folder figures and checks to write (verify.go), in
	// order, under mu; a flush writes them.
	proof proofPending

	flushMu sync.Mutex
	stop    chan struct{}
	done    chan struct{}
}

func newDBReporter(d Deps, mb store.MailboxRun) *dbReporter {
	r := &dbReporter{d: d, mb: mb, stop: make(chan struct{}), done: make(chan struct{})}
	// A message gone in an earlier attempt is not seen again: it adds up too.
	r.base = store.MailboxCounters{Copied: mb.Copied, Bytes: mb.Bytes, FlagsUpdated: mb.FlagsUpdated, Gone: mb.Gone}
	go r.loop()
	return r
}

func (r *dbReporter) loop() {
	defer close(r.done)
	t := time.NewTicker(r.d.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			_ = r.flushOnce(context.Background())
		}
	}
}

// close stops the background writer (the caller flushes what is left).
func (r *dbReporter) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// Log implements transfer.Reporter.
func (r *dbReporter) Log(e transfer.LogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Skipped != nil {
		s := e.Skipped
		var date *time.Time
		if !s.Date.IsZero() {
			dt := s.Date
			date = &dt
		}
		r.skipped = append(r.skipped, store.SkippedMessage{
			MailboxRunID: r.mb.ID, Folder: s.Folder, UID: s.UID, Size: s.Size, Date: date,
			Sender: clip(r.scrub.text(s.From), 500), Subject: clip(r.scrub.text(s.Subject), 500), Reason: cmp.Or(s.Reason, transfer.ReasonTooLarge),
			Detail: clip(r.scrub.text(s.Detail), 1000),
		})
	}
	if r.written+len(r.logs) >= maxLogLines && e.Level < slog.LevelWarn {
		if !r.capNoted {
			r.capNoted = true
			r.logs = append(r.logs, store.LogLine{At: time.Now(), Level: "warn", Event: i18n.New("log.run.capped", maxLogLines)})
		}
		return
	}
	r.logs = append(r.logs, r.logLine(e))
}

// setScrubber sets the secrets taken out of the texts stored from now on.
func (r *dbReporter) setScrubber(s scrubber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scrub = s
}

// expectTooLarge takes, from the line's stored preview (transfer.Preview
// JSON, nil when the test did not measure), how many of the mailbox's
// messages are over the size limit before the copy finds them.
func (r *dbReporter) expectTooLarge(preview []byte) {
	var pv transfer.Preview
	if len(preview) == 0 || json.Unmarshal(preview, &pv) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tooLarge = pv.TooLarge
}

// Progress implements transfer.Reporter.
func (r *dbReporter) Progress(p transfer.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return // a snapshot older than the final counters
	}
	r.last = p
	r.dirty = true
	r.count(p.Counters)
}

// count adds to the metrics the copies of this attempt not counted yet,
// so messages_copied_total grows while a big mailbox is being copied.
func (r *dbReporter) count(c transfer.Counters) {
	msgs, bytes := c.Copied-r.counted.Copied, c.Bytes-r.counted.Bytes
	if msgs <= 0 && bytes <= 0 {
		return
	}
	r.d.Metrics.Copied(max(msgs, 0), max(bytes, 0))
	r.counted.Copied = max(r.counted.Copied, c.Copied)
	r.counted.Bytes = max(r.counted.Bytes, c.Bytes)
}

// result takes the engine's final counters; complete says the copy went
// through every folder (transfer.Run returned no error).
func (r *dbReporter) result(res transfer.Result, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = true
	r.last.Counters = res.Counters
	r.last.Folder = ""
	if complete {
		r.last.Expected = 0 // every folder was listed: Total is what there was
	} // else the folders not reached yet still count, as STATUS said
	r.dirty = true
	r.count(res.Counters)
}

// event adds a line of the worker's own to the log: key (of i18n's log
// catalog) and args as i18n.New makes them.
func (r *dbReporter) event(level slog.Level, key string, args ...any) {
	r.logMsg(level, i18n.New(key, args...))
}

// logMsg adds a line of the worker's own, an event already made.
func (r *dbReporter) logMsg(level slog.Level, m i18n.Msg) {
	r.Log(transfer.LogEntry{Time: time.Now(), Level: level, Event: m})
}

// logLine is the stored line of e: its event, without the copy's secrets
// in its texts. An entry without an event (none should come) keeps its
// text, so no line is lost.
func (r *dbReporter) logLine(e transfer.LogEntry) store.LogLine {
	l := store.LogLine{At: e.Time, Level: levelName(e.Level), Folder: e.Folder}
	if e.Event.IsZero() {
		l.Message = clip(r.scrub.text(e.Message), 4000)
		return l
	}
	l.Event = r.scrub.msg(e.Event, 1000)
	return l
}

// counters are the mailbox run's counters now, earlier attempts included.
func (r *dbReporter) counters() store.MailboxCounters {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countersLocked()
}

func (r *dbReporter) countersLocked() store.MailboxCounters {
	p := r.last
	c := store.MailboxCounters{
		Folders:         p.Folders,
		Found:           p.Found,
		Copied:          r.base.Copied + p.Copied,
		AlreadyThere:    max(0, p.AlreadyThere-r.base.Copied),
		TooLarge:        p.TooLarge,
		Gone:            r.base.Gone + p.Gone,
		ExcludedFolders: p.ExcludedFolders,
		Failed:          p.Failed,
		FlagsUpdated:    r.base.FlagsUpdated + p.FlagsUpdated,
		Bytes:           r.base.Bytes + p.Bytes,
		Done:            p.Done,
		// Before the folders are listed one by one, the total is what
		// STATUS said they hold, less what is known to be too large: the
		// copy's found so far, or the test login's when more (STATUS
		// counts a message over the limit, the total never does; taken
		// off only once found, it made a running total go down).
		Total: max(p.Total, p.Expected-max(p.TooLarge, r.tooLarge)),
	}
	if c.Done == 0 && c.Total == 0 {
		c.Done = c.Copied + c.AlreadyThere + c.Failed
	}
	return c
}

// flush writes what is pending, and tries again (for up to about half a
// minute) what the database refused: a line of the log or a message of
// the list is never dropped for a passing database error.
func (r *dbReporter) flush(ctx context.Context) {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if r.flushOnce(ctx) == nil || attempt == 8 || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 8*time.Second)
	}
}

// flushOnce writes what is pending once, in one transaction: the skipped
// messages, the log, the counters, the checkpoints the engine recorded
// since the last flush (see batchedCheckpoints), so the counters never run
// ahead of the checkpoints, and the folder figures and checks (verify.go).
// What the database refused stays pending, in order, for the next flush;
// the error is logged and returned.
func (r *dbReporter) flushOnce(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	logs, skipped, dirty := r.logs, r.skipped, r.dirty
	r.logs, r.skipped, r.dirty = nil, nil, false
	c, folder := r.countersLocked(), r.last.Folder
	r.mu.Unlock()
	batch := r.cp.take()
	proof := r.takeProof()
	if len(logs) == 0 && len(skipped) == 0 && !dirty && batch == nil && len(proof) == 0 {
		return nil
	}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tenant := r.mb.TenantID
	write := func(batch store.CheckpointBatch, proof []proofItem) error {
		return pgx.BeginFunc(ctx, r.d.Pool, func(tx pgx.Tx) error {
			for _, s := range skipped {
				if err := store.AddSkippedMessage(ctx, tx, tenant, s); err != nil {
					return err
				}
			}
			if len(logs) > 0 {
				if err := store.AppendMailboxLogs(ctx, tx, tenant, r.mb.ID, logs); err != nil {
					return err
				}
			}
			if dirty {
				if err := store.SetMailboxProgress(ctx, tx, tenant, r.mb.ID, c, folder); err != nil {
					return err
				}
			}
			if batch != nil {
				if err := r.cp.db.With(tx).WriteBatch(ctx, batch); err != nil {
					return err
				}
			}
			// After the checkpoints: the figures count what they record.
			return r.writeProof(ctx, tx, proof) // verify.go
		})
	}
	err := write(batch, proof)
	if errors.Is(err, store.ErrNotFound) && batch != nil {
		// A record of a folder never reset: the engine's mistake, which
		// must not hold the log and the counters back. Those messages are
		// recognised at the destination by the next attempt.
		r.d.Logger.Error("mailbox: checkpoints refused, dropped", "tenant_id", tenant, "migration_id", r.mb.MigrationID, "mailbox_run_id", r.mb.ID, "error", err)
		r.cp.done(batch, true)
		batch = nil
		err = write(nil, proof)
	}
	if err != nil && len(proof) > 0 {
		// Folder figures the database refuses must not hold the log, the
		// counters and the checkpoints back: they wait for the next flush.
		r.d.Logger.Warn("mailbox: cannot store folder figures, will retry", "tenant_id", tenant, "mailbox_run_id", r.mb.ID, "error", err)
		r.requeueProof(proof)
		proof = nil
		err = write(batch, nil)
	}
	r.cp.done(batch, err == nil)
	if err != nil {
		r.d.Logger.Warn("mailbox: cannot store progress, log and checkpoints, will retry", "tenant_id", tenant, "migration_id", r.mb.MigrationID, "mailbox_run_id", r.mb.ID, "lines", len(logs), "error", err)
		r.mu.Lock()
		r.skipped = append(slices.Clone(skipped), r.skipped...)
		r.logs = append(logs, r.logs...)
		r.dirty = r.dirty || dirty
		r.mu.Unlock()
		r.requeueProof(proof)
		return err
	}
	r.mu.Lock()
	r.written += len(logs)
	r.mu.Unlock()
	return nil
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

// clip cuts s to at most n bytes on a rune boundary and drops NULs, which
// PostgreSQL text refuses.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
