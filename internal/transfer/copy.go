package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// runner holds the state of one Run.
type runner struct {
	job Job
	t   *tally
	c   *conns

	// dstFolders are the destination folders known to exist.
	dstFolders map[string]bool
	dstDelim   rune
	// labelled counts, for Gmail, the message keys seen in label folders.
	labelled map[string]int
	// meter is the source's rate floor.
	meter *meter
	// copiedNow holds, per source folder, the UIDs appended by this Run, so
	// that a folder retried after a dropped connection counts them as
	// copied, not as already there.
	copiedNow map[string]map[uint32]int64
	// proof keeps, per folder, what the figures and the verification need.
	proof *proof
	// sizes are the folders' messages by STATUS (expect), which decide the
	// lanes.
	sizes map[string]int
	// budget, when set, is the in-flight budget the lanes of the Run share;
	// else every pass has one of its own.
	budget *budget
}

// Run copies one mailbox. It returns the counters and, when the copy could not
// be completed, an error: a *ConnError for a refused login or an unreachable
// server, ErrDestinationFull, or the last network error after MaxAttempts.
// Run is idempotent: with the same checkpoints (or none at all), running it
// again copies nothing twice. Nothing a server sends makes it panic; should
// the engine panic all the same, in any of its goroutines, Run returns a
// *PanicError, whose Stack is for the operator's log.
func Run(ctx context.Context, job Job) (res Result, err error) {
	job.setDefaults()
	t := newTally(job.Reporter)
	r := &runner{job: job, t: t, dstFolders: map[string]bool{}, copiedNow: map[string]map[uint32]int64{}, proof: &proof{}}
	r.meter = newMeter(job.MinRate, job.RateWindow)
	r.c = &conns{job: &r.job, event: t.event, meter: r.meter}
	defer func() {
		if perr := recovered(recover()); perr != nil {
			res, err = t.result(), perr
		}
	}()
	defer r.c.closeAll()
	processLanes.hold(1)
	defer processLanes.hold(-1)
	stop := make(chan struct{})
	defer close(stop)
	go r.meter.run(stop)
	runCtx := ctx
	if !job.Deadline.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, job.Deadline)
		defer cancel()
	}
	err = r.run(runCtx)
	if err != nil && ctx.Err() == nil && runCtx.Err() != nil {
		r.t.event(slog.LevelError, "", "log.copy.time_budget", job.Deadline)
		err = ErrTimeBudget
	}
	return t.result(), err
}

func (r *runner) run(ctx context.Context) error {
	r.t.event(slog.LevelInfo, "", "log.copy.connecting", endpointMsg(r.job.Source), r.job.Preset.Label(), endpointMsg(r.job.Dest))
	if err := r.c.connect(ctx); err != nil {
		return err
	}
	r.t.event(slog.LevelInfo, "", "log.copy.logged_in", r.c.src.remote())

	plans, err := r.plan()
	if err != nil {
		return fmt.Errorf("list folders: %w", err)
	}
	for _, p := range plans {
		if p.Excluded != "" {
			r.t.update(func(res *Result) { res.ExcludedFolders++ })
			r.t.event(slog.LevelInfo, p.Source, "log.folder.excluded", exclusionMsg(p.Excluded))
			r.folderSkipped(p, p.Excluded)
		}
	}
	r.expect(plans)
	if err := r.copyFolders(ctx, plans); err != nil {
		return err
	}
	if r.job.Verify && !r.job.DryRun {
		if err := r.verify(ctx, plans); err != nil {
			return err
		}
	}
	r.t.progress(true)
	res := r.t.result()
	r.t.event(slog.LevelInfo, "", "log.copy.finished",
		res.Folders, res.Found, res.Copied, res.AlreadyThere, res.TooLarge, res.Gone, res.Failed, res.FlagsUpdated)
	return nil
}

// expect reports, before the first body, how many messages the folders to
// copy hold (Job.Expected, else a STATUS of each), so that a page can show
// an honest total from the start. A folder STATUS does not answer for
// counts for nothing. The lanes need each folder's size: Job.Expected
// spares the STATUS only where no lane could open (one lane allowed, too
// few messages to share, or every lane of the process taken).
func (r *runner) expect(plans []FolderPlan) {
	if r.job.Expected > 0 && (r.job.Lanes <= 1 || r.job.DryRun || r.job.Expected <= laneMin || !processLanes.free(laneCap())) {
		r.t.expect(r.job.Expected)
		r.t.progress(true)
		return
	}
	n := 0
	r.sizes = map[string]int{}
	for _, p := range plans {
		if p.Excluded != "" {
			continue
		}
		if m, err := r.c.src.messages(p.Source); err == nil {
			n += int(m)
			r.sizes[p.Source] = int(m)
		}
	}
	r.t.expect(n)
	r.t.progress(true)
}

func (r *runner) plan() ([]FolderPlan, error) {
	srcL, err := r.c.src.listing()
	if err != nil {
		return nil, err
	}
	dstL, err := r.c.dst().listing()
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
	rules, why := effectivePreset(r.job.Preset, r.c.src.says(), srcL)
	r.labelled = nil
	if rules == PresetGmail {
		r.labelled = map[string]int{}
	}
	text := why.English(rules)
	r.t.update(func(res *Result) { res.Rules, res.RulesWhy, res.RulesReason = rules, why, text })
	r.t.logMsg(slog.LevelInfo, "", why.Msg(rules))
	return PlanFolders(rules, srcL, dstL), nil
}

// folderError is a failure that concerns one folder only (it cannot be
// selected or created): the copy goes on with the next folder.
type folderError struct{ err error }

func (e folderError) Error() string { return e.err.Error() }
func (e folderError) Unwrap() error { return e.err }

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
			r.t.event(slog.LevelInfo, p.Source, "log.folder.created", name)
		}
		_ = dst.do("SUBSCRIBE", r.job.Timeouts.Command, func() error { return dst.c.Subscribe(name).Wait() })
		r.dstFolders[name] = true
	}
	return nil
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

// flagDelta is what changed in a message's flags at the source since they
// were last written at the destination.
type flagDelta struct{ add, remove []string }

// deltaOf compares the flags last written (was) with the source's now.
func deltaOf(was, now []string) flagDelta {
	has := func(fl []string, f string) bool {
		for _, x := range fl {
			if strings.EqualFold(x, f) {
				return true
			}
		}
		return false
	}
	var d flagDelta
	for _, f := range now {
		if !has(was, f) {
			d.add = append(d.add, f)
		}
	}
	for _, f := range was {
		if !has(now, f) {
			d.remove = append(d.remove, f)
		}
	}
	return d
}

func (d flagDelta) key() string {
	return strings.Join(d.add, " ") + "\x00" + strings.Join(d.remove, " ")
}

// updateFlags applies at the destination what changed in the flags at the
// source since they were last written (+FLAGS and -FLAGS of the change,
// one STORE each per distinct change), so a flag the customer set or
// cleared at the destination meanwhile is left as it is.
func (r *runner) updateFlags(ctx context.Context, p FolderPlan, dst *session, st FolderState, changes []meta) error {
	to := r.job.Timeouts
	if err := dst.do("SELECT", to.Command, func() error {
		_, err := dst.c.Select(p.Dest, nil).Wait()
		return err
	}); err != nil {
		return asFolderError(err)
	}
	groups := map[string][]meta{}
	deltas := map[string]flagDelta{}
	for _, m := range changes {
		d := deltaOf(st.Messages[m.uid].Flags, m.flags)
		deltas[d.key()] = d
		groups[d.key()] = append(groups[d.key()], m)
	}
	for k, ms := range groups {
		var set imap.UIDSet
		rec := map[uint32]Copied{}
		for _, m := range ms {
			c := st.Messages[m.uid]
			set.AddNum(imap.UID(c.DestUID))
			rec[m.uid] = Copied{DestUID: c.DestUID, Flags: m.flags}
		}
		d := deltas[k]
		var err error
		for _, op := range []struct {
			op    imap.StoreFlagsOp
			flags []string
		}{{imap.StoreFlagsAdd, d.add}, {imap.StoreFlagsDel, d.remove}} {
			if len(op.flags) == 0 || err != nil {
				continue
			}
			flags := imapFlags(op.flags)
			err = dst.do("STORE", to.Command, func() error {
				return dst.c.Store(set, &imap.StoreFlags{Op: op.op, Silent: true, Flags: flags}, nil).Close()
			})
		}
		if err != nil {
			var ierr *imap.Error
			if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
				r.t.event(slog.LevelWarn, p.Source, "log.flags.not_updated", len(ms), ierr.Text)
				continue
			}
			return err
		}
		if err := r.job.Checkpoints.RecordMessages(ctx, p.Source, rec); err != nil {
			return fmt.Errorf("record checkpoint: %w", err)
		}
		r.t.update(func(res *Result) { res.FlagsUpdated += len(ms) })
	}
	r.t.event(slog.LevelInfo, p.Source, "log.flags.updated", len(changes))
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
