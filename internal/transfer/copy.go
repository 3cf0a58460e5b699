package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxMessageSize is the size over which a message is not copied.
const DefaultMaxMessageSize = 30 << 20

// Job is the copy of one mailbox.
type Job struct {
	// Preset is the kind of source server; it sets the source's connection
	// defaults and folder rules.
	Preset Preset
	// Source is the old server.
	Source Endpoint
	// Dest is our server; its defaults are Standard-SSL's.
	Dest Endpoint
	// MaxMessageSize skips larger messages; default DefaultMaxMessageSize.
	MaxMessageSize int64
	// Checkpoints remembers what was copied; default an in-memory store.
	Checkpoints CheckpointStore
	// Reporter receives the log and the progress; default none.
	Reporter Reporter
	// DryRun plans and counts without writing anything anywhere.
	DryRun bool
	// DestConns is the number of destination connections; default 2. When
	// the destination offers LITERAL+ (Dovecot does), one of them creates
	// folders and looks messages up and the others only append, pipelined
	// (see pipeConn); else, or with DestConns 1, every connection appends
	// through go-imap, one round trip per message. Keep it under the
	// per-user limit.
	DestConns int
	// Timeouts bound every network operation.
	Timeouts Timeouts
	// MaxAttempts bounds the reconnects after a dropped connection, per
	// folder; default 5.
	MaxAttempts int
	// Backoff is the wait before reconnect attempt n (1-based); default
	// 1s, 2s, 4s, … capped at 30s.
	Backoff func(attempt int) time.Duration
	// InFlightBytes bounds the message bytes held in memory between the
	// source and the destination; default 16 MiB. A larger message is
	// still copied, alone. All the copies of a process also share
	// ProcessInFlightBytes.
	InFlightBytes int64
}

// Result is the outcome of a copy.
type Result struct {
	Counters
	// FailedFolders lists source folders that could not be copied at all.
	FailedFolders []string `json:"failed_folders,omitempty"`
	// ToCopy is, in a dry run, the number of messages a real run would copy.
	ToCopy int `json:"to_copy,omitempty"`
}

// Complete reports whether every message that should be copied is at the
// destination.
func (r Result) Complete() bool { return r.Failed == 0 && len(r.FailedFolders) == 0 }

func (j *Job) setDefaults() {
	if j.MaxMessageSize <= 0 {
		j.MaxMessageSize = DefaultMaxMessageSize
	}
	if j.Timeouts.MaxLiteral <= 0 {
		j.Timeouts.MaxLiteral = j.MaxMessageSize + literalSlack
	}
	if j.Checkpoints == nil {
		j.Checkpoints = NewMemoryCheckpoints()
	}
	if j.Reporter == nil {
		j.Reporter = NopReporter{}
	}
	if j.DestConns <= 0 {
		j.DestConns = 2
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 5
	}
	if j.Backoff == nil {
		j.Backoff = func(n int) time.Duration {
			d := time.Second << (n - 1)
			if d > 30*time.Second || d <= 0 {
				d = 30 * time.Second
			}
			return d
		}
	}
	if j.InFlightBytes <= 0 {
		j.InFlightBytes = 16 << 20
	}
	j.Timeouts = j.Timeouts.withDefaults()
}

// runner holds the state of one Run.
type runner struct {
	job    Job
	mu     sync.Mutex // guards res and the reporter
	res    Result
	folder string
	done   int
	total  int
	lastPr time.Time
	lastN  int // done at the last progress report

	src  *session
	dsts []*session
	// pipes are the pipelined appenders, when the destination takes them.
	pipes []*pipeConn
	// noPipes is set once the destination turned out not to take them.
	noPipes bool
	// dstFolders are the destination folders known to exist.
	dstFolders map[string]bool
	dstDelim   rune
	// labelled counts, for Gmail, the message keys seen in label folders.
	labelled map[string]int
	// copiedNow holds, per source folder, the UIDs appended by this Run, so
	// that a folder retried after a dropped connection counts them as
	// copied, not as already there.
	copiedNow map[string]map[uint32]int64
}

// Run copies one mailbox. It returns the counters and, when the copy could not
// be completed, an error: a *ConnError for a refused login or an unreachable
// server, ErrDestinationFull, or the last network error after MaxAttempts.
// Run is idempotent: with the same checkpoints (or none at all), running it
// again copies nothing twice.
func Run(ctx context.Context, job Job) (Result, error) {
	job.setDefaults()
	r := &runner{job: job, dstFolders: map[string]bool{}, copiedNow: map[string]map[uint32]int64{}}
	if job.Preset == PresetGmail {
		r.labelled = map[string]int{}
	}
	defer r.closeAll()
	err := r.run(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res, err
}

func (r *runner) logf(level slog.Level, folder, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.job.Reporter.Log(LogEntry{Time: time.Now(), Level: level, Folder: folder, Message: fmt.Sprintf(format, args...)})
}

// progress sends a snapshot every 200ms or 50 messages, or when forced:
// messages come back from the destination in groups (MULTIAPPEND), many
// in 200ms.
func (r *runner) progress(force bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !force && time.Since(r.lastPr) < 200*time.Millisecond && r.done-r.lastN < 50 {
		return
	}
	r.lastPr, r.lastN = time.Now(), r.done
	r.job.Reporter.Progress(Progress{Counters: r.res.Counters, Done: r.done, Total: r.total, Folder: r.folder})
}

func (r *runner) closeAll() {
	if r.src != nil {
		r.src.Close()
		r.src = nil
	}
	for _, d := range r.dsts {
		d.Close()
	}
	r.dsts = nil
	for _, pc := range r.pipes {
		pc.Close()
	}
	r.pipes = nil
}

func (r *runner) connect(ctx context.Context) error {
	r.closeAll()
	var err error
	r.src, err = dial(ctx, SideSource, r.job.Preset, r.job.Source, r.job.Timeouts, func(s string) { r.logf(slog.LevelWarn, "", "source: %s", s) })
	if err != nil {
		return err
	}
	d, err := dial(ctx, SideDestination, PresetStandardSSL, r.job.Dest, r.job.Timeouts, func(s string) { r.logf(slog.LevelWarn, "", "destination: %s", s) })
	if err != nil {
		return err
	}
	r.dsts = []*session{d}
	return nil
}

// moreDests opens up to n destination connections; failures only mean fewer.
func (r *runner) moreDests(ctx context.Context, n int) {
	for len(r.dsts) < n {
		d, err := dial(ctx, SideDestination, PresetStandardSSL, r.job.Dest, r.job.Timeouts, func(string) {})
		if err != nil {
			r.logf(slog.LevelDebug, "", "extra destination connection refused (%v): going on with %d", err, len(r.dsts))
			return
		}
		r.dsts = append(r.dsts, d)
	}
}

// openPipes opens the pipelined appenders (DestConns-1 of them) when the
// destination takes them; it reports whether there is at least one. A
// failure only means appending through go-imap, as before.
func (r *runner) openPipes(ctx context.Context) bool {
	want := r.job.DestConns - 1
	if want < 1 || r.noPipes || r.job.Dest.OAuth2Token != "" || r.job.Dest.TokenSource != nil || !r.dsts[0].caps.Has(imap.CapLiteralPlus) {
		return false
	}
	for len(r.pipes) < want {
		pc, err := dialPipe(ctx, r.job.Dest, r.job.Timeouts, r.dsts[0].caps.Has(imap.CapIMAP4rev2))
		if err != nil {
			if errors.Is(err, errNoLiteralPlus) {
				r.noPipes = true
			}
			r.logf(slog.LevelDebug, "", "pipelined destination connection not opened (%v): going on with %d", err, len(r.pipes))
			break
		}
		r.pipes = append(r.pipes, pc)
	}
	return len(r.pipes) > 0
}

func (r *runner) run(ctx context.Context) error {
	r.logf(slog.LevelInfo, "", "connecting to the source %s (%s) and the destination %s", r.job.Source, r.job.Preset.Label(), r.job.Dest)
	if err := r.connect(ctx); err != nil {
		return err
	}
	r.logf(slog.LevelInfo, "", "logged in on both sides (source reached at %s)", r.src.remote)

	plans, err := r.plan()
	if err != nil {
		return fmt.Errorf("list folders: %w", err)
	}
	for _, p := range plans {
		if p.Excluded != "" {
			r.res.ExcludedFolders++
			r.logf(slog.LevelInfo, p.Source, "folder not copied: %s", p.Excluded)
		}
	}
	for _, p := range plans {
		if p.Excluded != "" {
			continue
		}
		if err := r.copyFolderWithRetry(ctx, p); err != nil {
			return err
		}
	}
	r.progress(true)
	r.logf(slog.LevelInfo, "", "finished: %d folders, %d messages found, %d copied, %d already there, %d too large, %d failed, %d flag updates",
		r.res.Folders, r.res.Found, r.res.Copied, r.res.AlreadyThere, r.res.TooLarge, r.res.Failed, r.res.FlagsUpdated)
	return nil
}

func (r *runner) plan() ([]FolderPlan, error) {
	srcL, err := r.src.listing()
	if err != nil {
		return nil, err
	}
	dstL, err := r.dsts[0].listing()
	if err != nil {
		return nil, err
	}
	r.dstDelim = dstL.Personal.Delim
	if r.dstDelim == 0 {
		r.dstDelim = '/'
	}
	for _, f := range dstL.Folders {
		if !f.has(imap.MailboxAttrNoSelect) && !f.has(imap.MailboxAttrNonExistent) {
			r.dstFolders[f.Name] = true
		}
	}
	return PlanFolders(r.job.Preset, srcL, dstL), nil
}

// folderError is a failure that concerns one folder only (it cannot be
// selected or created): the copy goes on with the next folder.
type folderError struct{ err error }

func (e folderError) Error() string { return e.err.Error() }
func (e folderError) Unwrap() error { return e.err }

func (r *runner) copyFolderWithRetry(ctx context.Context, p FolderPlan) error {
	r.mu.Lock()
	saved, savedDone, savedTotal := r.res, r.done, r.total
	r.mu.Unlock()
	for attempt := 1; ; attempt++ {
		err := r.copyFolder(ctx, p)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// Stopped, not retried: the counters keep what this pass did
			// copy (and recorded), so a caller that resumes later counts
			// those messages as copied, not as already there.
			return ctx.Err()
		}
		// A retry recounts the folder from scratch.
		r.mu.Lock()
		r.res, r.done, r.total = saved, savedDone, savedTotal
		r.mu.Unlock()
		var fe folderError
		if errors.As(err, &fe) {
			r.mu.Lock()
			r.res.FailedFolders = append(r.res.FailedFolders, p.Source)
			r.mu.Unlock()
			r.logf(slog.LevelError, p.Source, "folder not copied: %v", fe.err)
			return nil
		}
		if !retriable(err) {
			return err
		}
		if attempt >= r.job.MaxAttempts {
			return fmt.Errorf("copy folder %q: giving up after %d attempts: %w", p.Source, attempt, err)
		}
		wait := r.job.Backoff(attempt)
		r.logf(slog.LevelWarn, p.Source, "connection lost (%v): reconnecting in %s (attempt %d of %d)", err, wait, attempt+1, r.job.MaxAttempts)
		r.closeAll()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if err := r.connect(ctx); err != nil {
			if ce, ok := IsConnError(err); ok && !retriable(ce) {
				return err
			}
			r.logf(slog.LevelWarn, p.Source, "reconnect failed: %v", err)
		}
	}
}

// meta is what the engine knows of a source message before its body.
type meta struct {
	uid   uint32
	flags []string
	date  time.Time
	size  int64
}

func (r *runner) copyFolder(ctx context.Context, p FolderPlan) error {
	if r.src == nil || len(r.dsts) == 0 {
		if err := r.connect(ctx); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.folder = p.Source
	r.mu.Unlock()
	src, dst := r.src, r.dsts[0]
	to := r.job.Timeouts

	// Source, read-only: EXAMINE never sets \Seen.
	var sel *imap.SelectData
	if err := src.do("EXAMINE", to.Command, func() error {
		var err error
		sel, err = src.c.Select(p.Source, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	}); err != nil {
		return asFolderError(err)
	}

	// Destination folder, created with its parents when missing.
	if !r.dstFolders[p.Dest] && !r.job.DryRun {
		if err := r.createDest(dst, p); err != nil {
			return err
		}
	}
	var dstUV, dstCount uint32
	if r.dstFolders[p.Dest] {
		if err := dst.do("STATUS", to.Command, func() error {
			st, err := dst.c.Status(p.Dest, &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
			if err != nil {
				return err
			}
			dstUV = st.UIDValidity
			if st.NumMessages != nil {
				dstCount = *st.NumMessages
			}
			return nil
		}); err != nil {
			return asFolderError(err)
		}
	}

	st, err := r.job.Checkpoints.LoadFolder(ctx, p.Source)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if st.UIDValidity != sel.UIDValidity || st.DestFolder != p.Dest || st.DestUIDValidity != dstUV {
		if len(st.Messages) > 0 {
			r.logf(slog.LevelWarn, p.Source, "the checkpoint no longer matches the folders (UIDVALIDITY changed): recognising copied messages by Message-ID")
		}
		st = FolderState{UIDValidity: sel.UIDValidity, DestFolder: p.Dest, DestUIDValidity: dstUV, Messages: map[uint32]Copied{}}
		if !r.job.DryRun {
			if err := r.job.Checkpoints.ResetFolder(ctx, p.Source, st); err != nil {
				return fmt.Errorf("reset checkpoint: %w", err)
			}
		}
	}

	metas, err := r.fetchMeta(src, sel.NumMessages)
	if err != nil {
		return err
	}

	// Partition: already copied (maybe with changed flags), too large, to do.
	var todo []meta
	var flagChanges []meta
	tooLarge := 0
	var large []meta
	already, copiedBefore := 0, 0
	var copiedBytes int64
	for _, m := range metas {
		if c, ok := st.Messages[m.uid]; ok {
			if size, now := r.copiedNow[p.Source][m.uid]; now {
				copiedBefore++
				copiedBytes += size
			} else {
				already++
			}
			if !equalFlags(c.Flags, m.flags) && c.DestUID != 0 {
				flagChanges = append(flagChanges, m)
			}
			continue
		}
		if m.size > r.job.MaxMessageSize {
			tooLarge++
			large = append(large, m)
			continue
		}
		todo = append(todo, m)
	}
	r.mu.Lock()
	r.res.Folders++
	r.res.Found += len(metas)
	r.res.TooLarge += tooLarge
	r.res.AlreadyThere += already
	r.res.Copied += copiedBefore
	r.res.Bytes += copiedBytes
	r.total += len(metas) - tooLarge
	r.done += already + copiedBefore
	r.mu.Unlock()
	if len(large) > 0 {
		r.reportLarge(src, p.Source, large)
	}

	// Gmail: All Mail only brings what no label folder has.
	if r.labelled != nil {
		if p.OnlyUnlabelled {
			todo, err = r.dropLabelled(src, p.Source, todo)
			if err != nil {
				return err
			}
		} else if err := r.rememberLabelled(src, metas); err != nil {
			return err
		}
	}

	// Messages at the destination that no checkpoint accounts for (a crash
	// between APPEND and record, a lost checkpoint, a changed UIDVALIDITY):
	// recognise them by Message-ID instead of copying them again.
	if len(todo) > 0 && dstCount > 0 {
		todo, err = r.matchExisting(ctx, p, dst, &st, todo)
		if err != nil {
			return err
		}
	}

	if r.job.DryRun {
		r.mu.Lock()
		r.res.ToCopy += len(todo)
		r.mu.Unlock()
		r.logf(slog.LevelInfo, p.Source, "would copy %d of %d messages into %q", len(todo), len(metas), p.Dest)
		return nil
	}

	if len(flagChanges) > 0 {
		if err := r.updateFlags(ctx, p, dst, st, flagChanges); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		if len(todo) > 8 || len(r.pipes) > 0 {
			if !r.openPipes(ctx) {
				r.moreDests(ctx, r.job.DestConns)
			}
		}
		if err := r.pipeline(ctx, p, todo); err != nil {
			return err
		}
	}
	r.progress(true)
	r.logf(slog.LevelInfo, p.Source, "folder done into %q: %d messages, %d copied now, %d already there, %d too large",
		p.Dest, len(metas), len(todo), already, tooLarge)
	return nil
}

// asFolderError keeps network errors retriable and turns a server's refusal
// into a folder error.
func asFolderError(err error) error {
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
		return folderError{err}
	}
	return err
}

func (r *runner) createDest(dst *session, p FolderPlan) error {
	delim := string(r.dstDelim)
	parts := strings.Split(p.Dest, delim)
	for i := 1; i <= len(parts); i++ {
		name := strings.Join(parts[:i], delim)
		if r.dstFolders[name] || strings.EqualFold(name, "INBOX") && i == 1 && len(parts) > 1 {
			continue
		}
		var opts *imap.CreateOptions
		if i == len(parts) && p.CreateSpecial != "" && dst.caps.Has(imap.CapCreateSpecialUse) {
			opts = &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{p.CreateSpecial}}
		}
		err := dst.do("CREATE", r.job.Timeouts.Command, func() error { return dst.c.Create(name, opts).Wait() })
		var ierr *imap.Error
		if err != nil && !(errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAlreadyExists) {
			if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
				if isOverQuota(ierr) {
					return ErrDestinationFull
				}
				return folderError{fmt.Errorf("create destination folder %q: %w", name, err)}
			}
			return err
		}
		if err == nil {
			r.logf(slog.LevelInfo, p.Source, "created destination folder %q", name)
		}
		_ = dst.do("SUBSCRIBE", r.job.Timeouts.Command, func() error { return dst.c.Subscribe(name).Wait() })
		r.dstFolders[name] = true
	}
	return nil
}

// fetchMeta fetches UID, FLAGS, INTERNALDATE and RFC822.SIZE of every message
// of the selected source folder in one command.
func (r *runner) fetchMeta(src *session, n uint32) ([]meta, error) {
	if n == 0 {
		return nil, nil
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	out := make([]meta, 0, n)
	wd := src.watchdog(r.job.Timeouts.Command)
	defer wd.Stop()
	cmd := src.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true})
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
func (r *runner) netErr(s *session, what string, err error) error {
	if s.wasTimedOut() {
		return errWatchdog{what: what, d: r.job.Timeouts.Command}
	}
	return s.cause(err)
}

func flagStrings(fl []imap.Flag) []string {
	out := make([]string, 0, len(fl))
	for _, f := range fl {
		if strings.EqualFold(string(f), `\Recent`) || f == "" {
			continue
		}
		out = append(out, string(f))
	}
	sort.Strings(out)
	return out
}

func equalFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func imapFlags(fl []string) []imap.Flag {
	out := make([]imap.Flag, len(fl))
	for i, f := range fl {
		out[i] = imap.Flag(f)
	}
	return out
}

func isOverQuota(ierr *imap.Error) bool {
	return ierr.Code == imap.ResponseCodeOverQuota || strings.Contains(strings.ToLower(ierr.Text), "quota")
}

// updateFlags brings the destination's flags up to date with one STORE per
// distinct flag set.
func (r *runner) updateFlags(ctx context.Context, p FolderPlan, dst *session, st FolderState, changes []meta) error {
	to := r.job.Timeouts
	if err := dst.do("SELECT", to.Command, func() error {
		_, err := dst.c.Select(p.Dest, nil).Wait()
		return err
	}); err != nil {
		return asFolderError(err)
	}
	groups := map[string][]meta{}
	for _, m := range changes {
		k := strings.Join(m.flags, " ")
		groups[k] = append(groups[k], m)
	}
	for _, ms := range groups {
		var set imap.UIDSet
		rec := map[uint32]Copied{}
		for _, m := range ms {
			c := st.Messages[m.uid]
			set.AddNum(imap.UID(c.DestUID))
			rec[m.uid] = Copied{DestUID: c.DestUID, Flags: m.flags}
		}
		flags := imapFlags(ms[0].flags)
		err := dst.do("STORE", to.Command, func() error {
			return dst.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: flags}, nil).Close()
		})
		if err != nil {
			var ierr *imap.Error
			if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
				r.logf(slog.LevelWarn, p.Source, "flags of %d messages not updated: %v", len(ms), ierr.Text)
				continue
			}
			return err
		}
		if err := r.job.Checkpoints.RecordMessages(ctx, p.Source, rec); err != nil {
			return fmt.Errorf("record checkpoint: %w", err)
		}
		r.mu.Lock()
		r.res.FlagsUpdated += len(ms)
		r.mu.Unlock()
	}
	r.logf(slog.LevelInfo, p.Source, "flags brought up to date on %d messages", len(changes))
	// Leave the folder without expunging anything.
	return dst.do("UNSELECT", to.Command, func() error { return unselect(dst) })
}

func unselect(s *session) error {
	if s.caps.Has(imap.CapUnselect) {
		return s.c.Unselect().Wait()
	}
	// EXAMINE of INBOX deselects without the implicit EXPUNGE of CLOSE.
	_, err := s.c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	return err
}

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
func (r *runner) pipeline(ctx context.Context, p FolderPlan, todo []meta) error {
	again, err := r.pipelineOnce(ctx, p, todo, false)
	if err != nil || len(again) == 0 {
		return err
	}
	r.logf(slog.LevelWarn, p.Source, "the destination refused a group of %d messages: appending them one by one", len(again))
	_, err = r.pipelineOnce(ctx, p, again, true)
	return err
}

// pipelineOnce is one pass of pipeline; alone appends one message per
// command. It returns the messages refused together with others.
func (r *runner) pipelineOnce(ctx context.Context, p FolderPlan, todo []meta, alone bool) (again []meta, err error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(pctx)
	budget := newBudget(r.job.InFlightBytes)
	items := make(chan item, 64)
	outcomes := make(chan outcome, 256)
	byUID := make(map[uint32]meta, len(todo))
	for _, m := range todo {
		byUID[m.uid] = m
	}

	g.Go(func() error {
		defer close(items)
		return r.fetchBodies(gctx, r.src, todo, byUID, budget, items)
	})
	var wg sync.WaitGroup
	if len(r.pipes) > 0 {
		for _, pc := range r.pipes {
			wg.Add(1)
			g.Go(func() error {
				defer wg.Done()
				return r.pipeAppendLoop(gctx, p, pc, alone, budget, items, outcomes)
			})
		}
	} else {
		for _, d := range r.dsts {
			wg.Add(1)
			g.Go(func() error {
				defer wg.Done()
				return r.appendLoop(gctx, p, d, budget, items, outcomes)
			})
		}
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
		r.mu.Lock()
		r.done++
		if o.err != nil {
			r.res.Failed++
		} else {
			r.res.Copied++
			r.res.Bytes += o.m.size
		}
		r.mu.Unlock()
		if o.err != nil {
			r.logf(slog.LevelError, p.Source, "message UID %d (%d bytes, %s) refused by the destination: %v", o.m.uid, o.m.size, o.m.date.Format("2006-01-02"), o.err)
			continue
		}
		pending[o.m.uid] = Copied{DestUID: o.destUID, Flags: o.m.flags}
		now[o.m.uid] = o.m.size
		if len(pending) >= 200 || time.Since(lastFlush) > time.Second {
			flush()
		}
		r.progress(false)
	}
	flush()
	err = g.Wait()
	if recErr != nil {
		err = recErr
	}
	// A pipe that failed is closed; the next folder opens a new one.
	r.pipes = slices.DeleteFunc(r.pipes, func(pc *pipeConn) bool {
		if pc.usable() {
			return false
		}
		pc.Close()
		return true
	})
	var gone errFolderGone
	if errors.As(err, &gone) {
		delete(r.dstFolders, p.Dest)
	}
	sort.Slice(again, func(i, j int) bool { return again[i].uid < again[j].uid })
	return again, err
}

// fetchBodies streams BODY.PEEK[] of todo, in UID chunks, into items.
func (r *runner) fetchBodies(ctx context.Context, src *session, todo []meta, byUID map[uint32]meta, budget *budget, items chan<- item) error {
	const chunk = 250
	for start := 0; start < len(todo); start += chunk {
		end := min(start+chunk, len(todo))
		var set imap.UIDSet
		for _, m := range todo[start:end] {
			set.AddNum(imap.UID(m.uid))
		}
		section := &imap.FetchItemBodySection{Peek: true}
		cmd := src.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
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

// errFolderGone is a destination folder that vanished during the copy (an
// APPEND answered NO [TRYCREATE]): the folder is retried, which creates it
// again.
type errFolderGone struct{ folder, text string }

func (e errFolderGone) Error() string {
	return fmt.Sprintf("destination folder %q is gone (%s)", e.folder, e.text)
}

// pipeAppendLoop appends items on one pipelined connection until items
// closes.
func (r *runner) pipeAppendLoop(ctx context.Context, p FolderPlan, pc *pipeConn, alone bool, budget *budget, items <-chan item, outcomes chan<- outcome) error {
	lim := multiBatch
	if alone || !pc.multi {
		lim = singleBatch
	}
	err := pc.appendStream(ctx, p.Dest, lim, items,
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
		r.logf(slog.LevelError, p.Source, "the destination mailbox is full: %s", ierr.Text)
		return ErrDestinationFull
	case errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeTryCreate:
		return errFolderGone{folder: p.Dest, text: ierr.Text}
	}
	return err
}

// appendLoop appends items on one destination connection until items closes.
func (r *runner) appendLoop(ctx context.Context, p FolderPlan, d *session, budget *budget, items <-chan item, outcomes chan<- outcome) error {
	for it := range items {
		destUID, err := r.appendOne(d, p, it)
		it.done(budget)
		var ierr *imap.Error
		switch {
		case err == nil:
		case errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo && isOverQuota(ierr):
			r.logf(slog.LevelError, p.Source, "the destination mailbox is full: %s", ierr.Text)
			return ErrDestinationFull
		case errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo:
			// This message only; the connection is still good.
		default:
			return err
		}
		select {
		case outcomes <- outcome{m: it.m, destUID: destUID, err: err}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (r *runner) appendOne(d *session, p FolderPlan, it item) (uint32, error) {
	try := func() (uint32, error) {
		var uid uint32
		err := d.do("APPEND", r.job.Timeouts.forSize(it.size()), func() error {
			cmd := d.c.Append(p.Dest, it.size(), &imap.AppendOptions{Flags: imapFlags(it.m.flags), Time: it.m.date})
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
		if cerr := d.do("CREATE", r.job.Timeouts.Command, func() error { return d.c.Create(p.Dest, nil).Wait() }); cerr == nil {
			uid, err = try()
		}
	}
	return uid, err
}
