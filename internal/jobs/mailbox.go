package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// MailboxArgs copies one mailbox (a migration line) in one run: the job of
// a mailbox_runs row. The run job inserts one per mailbox.
type MailboxArgs struct {
	TenantID     int64 `json:"tenant_id" river:"unique"`
	MailboxRunID int64 `json:"mailbox_run_id" river:"unique"`
	// Resume tells a job that takes a stopped mailbox up again from the
	// mailbox's earlier job, which may still be finishing (it saw the
	// mailbox cancelled): unique by args, it would be taken for it.
	// 0 otherwise.
	Resume int64 `json:"resume,omitempty" river:"unique"`
}

// Kind is the River job kind.
func (MailboxArgs) Kind() string { return "mailbox_copy" }

// liveStates are the River states of a job that may still run; a unique
// job is not inserted twice while one is in them, but a finished one does
// not block the next (a retry of failed mailboxes, a resent email).
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// InsertOpts puts the job on QueueTransfer, unique while live.
func (MailboxArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueTransfer,
		MaxAttempts: DefaultMailboxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// MailboxWorker copies one mailbox with the transfer engine, from the
// remote server to the provider's (as the master user), resuming from the
// line's checkpoints in PostgreSQL.
//
// Each attempt works at most Deps.MailboxSlice, then snoozes and goes on
// in a fresh attempt; so River's timeout and rescue of a job whose worker
// died stay short however big the mailbox is. Two PostgreSQL advisory
// locks, held on a connection of the job's own, keep one job per line at a
// time (run 2 waits for run 1; a rescued job cannot overlap the original)
// and the remote host's caps (Deps.PerHostLimit mailboxes per host, or
// the counts of Deps.HostLimits) across every worker process. A process
// that dies drops its connection and so its locks.
type MailboxWorker struct {
	river.WorkerDefaults[MailboxArgs]
	d Deps
	// locks keeps the lock connections between jobs (lockconns.go).
	locks *lockConns
}

// NewMailboxWorker returns the mailbox worker.
func NewMailboxWorker(d Deps) *MailboxWorker {
	return &MailboxWorker{d: d.withDefaults(), locks: &lockConns{}}
}

// Timeout is one attempt's time limit: the slice plus time to wind down.
func (w *MailboxWorker) Timeout(*river.Job[MailboxArgs]) time.Duration {
	return mailboxTimeout(w.d)
}

func mailboxTimeout(d Deps) time.Duration {
	return d.MailboxSlice + d.MailboxSlice/2 + 10*time.Second
}

// NextRetry backs off quadratically from Deps.RetryBase: 1, 4, 9, … times.
func (w *MailboxWorker) NextRetry(job *river.Job[MailboxArgs]) time.Time {
	n := max(job.Attempt, 1)
	return time.Now().Add(time.Duration(n*n) * w.d.RetryBase)
}

// errLasting marks a failure that retrying will not fix; cause is its
// label in the failure metric.
type errLasting struct {
	msg   i18n.Msg
	cause string
}

func (e errLasting) Error() string { return e.msg.Text(i18n.English) }

// Work copies the mailbox of the job.
func (w *MailboxWorker) Work(ctx context.Context, job *river.Job[MailboxArgs]) error {
	a := job.Args
	d := w.d
	log := d.Logger.With("job_id", job.ID, "tenant_id", a.TenantID, "mailbox_run_id", a.MailboxRunID, "attempt", job.Attempt)
	mb, err := store.GetMailboxRun(ctx, d.Pool, a.TenantID, a.MailboxRunID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	log = log.With("migration_id", mb.MigrationID, "run_no", mb.RunNo, "line_no", mb.LineNo)
	noWait(ctx) // unless it snoozes for a slot below
	if mb.Status.Ended() {
		log.Info("mailbox: already ended, nothing to do", "status", mb.Status)
		return nil
	}
	// Asked to stop between two attempts (a slice's end, a retry): it
	// ends cancelled with what earlier attempts copied.
	if stop, err := store.StopRequested(ctx, d.Pool, a.TenantID, mb.RunID); err != nil {
		return err
	} else if stop {
		log.Info("mailbox: run stopped on request, ending it")
		return finishMailbox(ctx, d, mb, store.MailboxCancelled, mb.MailboxCounters, i18n.Msg{}, log)
	}
	if mb.RunNo == 2 {
		other, err := store.OtherRunOfLine(ctx, d.Pool, a.TenantID, mb)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && !other.Status.Ended() {
			log.Info("mailbox: run 1 of this mailbox still going, run 2 waits")
			return snoozeOn(ctx, job, d.Poll, waitMailbox(mb.LocalUser))
		}
	}
	// Its old server asked to slow down: the account waits (throttle.go).
	if err := w.waitBackOff(ctx, mb, log); err != nil {
		return err
	}
	host := hostKey(mb.RemoteHost)
	// Most mailboxes of a migration share one remote host: those beyond
	// its limits (see remoteCounts) look at the locks from a pooled
	// connection first, and open a connection of their own only when a
	// slot looks free.
	remote := d.remoteCounts(a.TenantID, mb.RemoteHost, mb.RemoteUser)
	if full, err := remoteSlotsFree(ctx, d.Pool, remote); err != nil {
		return err
	} else if full != nil {
		full.waitLog(log, host)
		return snoozeOn(ctx, job, d.Poll, waitRemote(full))
	}

	// Nor may one tenant take every copy slot: its mailboxes beyond
	// PerTenantLimit wait, and other tenants' go first.
	if free, err := slotsFree(ctx, d.Pool, tenantSlotKeys(a.TenantID, d.PerTenantLimit)); err != nil {
		return err
	} else if !free {
		log.Debug("mailbox: per-tenant limit reached, waiting", "limit", d.PerTenantLimit)
		return snoozeOn(ctx, job, d.Poll, waitTenant(a.TenantID))
	}

	locks, err := w.locks.get(ctx, d.Pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("mailbox: connect for locks: %w", err)
	}
	defer func() {
		w.locks.put(ctx, locks)
		// What this job held may be what others wait for (slotwake.go).
		wakeWaiting(ctx, d, MailboxArgs{}.Kind(), append(waitRemotes(remote), waitTenant(a.TenantID), waitMailbox(mb.LocalUser))...)
	}()
	// One writer per destination mailbox, whichever migration or line
	// copies into it: two at once would duplicate its mail.
	if ok, err := tryLock(ctx, locks, mailboxLockKey(mb.LocalUser)); err != nil {
		return err
	} else if !ok {
		log.Info("mailbox: another job holds this mailbox, waiting")
		return snoozeOn(ctx, job, d.Poll, waitMailbox(mb.LocalUser))
	}
	if full, err := takeRemoteSlots(ctx, locks, remote); err != nil {
		return err
	} else if full != nil {
		full.waitLog(log, host)
		return snoozeOn(ctx, job, d.Poll, waitRemote(full))
	}
	if ok, err := takeSlot(ctx, locks, tenantSlotKeys(a.TenantID, d.PerTenantLimit)); err != nil {
		return err
	} else if !ok {
		log.Debug("mailbox: per-tenant limit reached, waiting", "limit", d.PerTenantLimit)
		return snoozeOn(ctx, job, d.Poll, waitTenant(a.TenantID))
	}

	mb, err = store.StartMailboxRun(ctx, d.Pool, a.TenantID, a.MailboxRunID)
	if errors.Is(err, store.ErrWrongState) {
		return nil // ended meanwhile
	}
	if err != nil {
		return err
	}
	if mb.Attempts == 1 {
		d.Metrics.MailboxStarted()
	}
	c := &mailboxCopy{w: w, mb: mb, log: log}
	return c.run(ctx, job)
}

// mailboxCopy is one attempt at one mailbox.
type mailboxCopy struct {
	w     *MailboxWorker
	mb    store.MailboxRun
	log   *slog.Logger
	scrub scrubber // the copy's passwords, out of every server text
}

func (c *mailboxCopy) run(ctx context.Context, job *river.Job[MailboxArgs]) error {
	d := c.w.d
	mb := c.mb
	m, err := store.GetMigration(ctx, d.Pool, mb.TenantID, mb.MigrationID)
	if err != nil {
		return err
	}
	line, err := store.GetLine(ctx, d.Pool, mb.TenantID, mb.LineID)
	if err != nil {
		return err
	}
	rep := newDBReporter(d, mb)
	defer rep.close()
	rep.expectTooLarge(line.Preview)
	rep.event(slog.LevelInfo, "log.run.attempt", mb.Attempts, line.RemoteUser, line.LocalUser)

	tj, err := c.transferJob(m, line, rep)
	if err != nil {
		var l errLasting
		if errors.As(err, &l) {
			d.Metrics.MailboxFailure(l.cause)
			return c.finish(ctx, store.MailboxFailed, rep, l.msg)
		}
		c.log.Error("mailbox: cannot prepare the copy", "error", err)
		d.Metrics.MailboxFailure("internal")
		return c.finish(ctx, store.MailboxFailed, rep, i18n.New("run.internal"))
	}
	if err := c.verifyOptions(ctx, &tj); err != nil {
		return err
	}
	sliceCtx, cancel := context.WithTimeout(ctx, d.MailboxSlice)
	defer cancel()
	// A shutdown ends the slice early (see Deps.Stopping).
	var (
		stopping atomic.Bool
		watch    sync.WaitGroup
	)
	ran := make(chan struct{})
	if d.Stopping != nil {
		watch.Go(func() {
			select {
			case <-d.Stopping:
				stopping.Store(true)
				cancel()
			case <-ran:
			}
		})
	}
	// A stop asked on the panel ends the slice too (see store.RequestStop).
	var stopped atomic.Bool
	watch.Go(func() { c.watchStop(sliceCtx, ran, &stopped, cancel) })
	start := time.Now()
	res, err := transfer.Run(sliceCtx, tj)
	err = c.scrub.err(err) // before it reaches a log, River's errors or a page
	close(ran)
	watch.Wait()
	rep.result(res, err == nil)
	c.saveRules(ctx, res)
	c.log.Info("mailbox: attempt ended", "duration", time.Since(start).Round(time.Millisecond),
		"copied", res.Copied, "already_there", res.AlreadyThere, "failed", res.Failed, "error", err)

	switch {
	case err == nil:
		return c.completed(ctx, rep, res) // verify.go
	case ctx.Err() == nil && stopped.Load():
		// Stopped on request: the engine wrote its checkpoints; the
		// mailbox ends cancelled with what it copied, and "Riprendi"
		// goes on from there.
		rep.event(slog.LevelInfo, "run.stopped")
		return c.finish(ctx, store.MailboxCancelled, rep, i18n.Msg{})
	case ctx.Err() == nil && stopping.Load():
		// The process is shutting down: the engine has written its
		// checkpoints; write the progress and go on in a fresh attempt,
		// here after a restart or in another worker.
		rep.event(slog.LevelInfo, "log.run.worker_stopping")
		rep.flush(context.WithoutCancel(ctx))
		c.log.Info("mailbox: paused for shutdown")
		return river.JobSnooze(time.Second)
	case ctx.Err() == nil && sliceCtx.Err() != nil:
		// The slice is over: go on in a fresh attempt, which resumes from
		// the checkpoints and does not count as a failure.
		rep.event(slog.LevelInfo, "log.run.slice_pause", d.MailboxSlice)
		rep.flush(context.WithoutCancel(ctx))
		return river.JobSnooze(time.Second)
	case ctx.Err() != nil:
		// Shutdown, cancellation or River's timeout: River retries.
		rep.event(slog.LevelWarn, "log.run.interrupted")
		rep.flush(context.WithoutCancel(ctx))
		return ctx.Err()
	}

	if te, ok := transfer.IsThrottled(err); ok {
		return c.throttled(ctx, te, rep)
	}
	text, lasting := c.reason(err)
	d.Metrics.MailboxFailure(failureCause(err))
	if lasting || job.Attempt >= job.MaxAttempts {
		rep.logMsg(slog.LevelError, text)
		return c.finish(ctx, store.MailboxFailed, rep, text)
	}
	next := c.w.NextRetry(job)
	rep.event(slog.LevelWarn, "log.run.retrying", text, job.Attempt, job.MaxAttempts-1, time.Until(next).Round(time.Second))
	rep.flush(ctx)
	if err := store.SetMailboxError(ctx, d.Pool, mb.TenantID, mb.ID, text); err != nil {
		return err
	}
	return err
}

// watchStop looks every Deps.StopPoll whether the mailbox's run was asked
// to stop, until ran is closed; then it sets stopped and cancels the copy.
func (c *mailboxCopy) watchStop(ctx context.Context, ran <-chan struct{}, stopped *atomic.Bool, cancel context.CancelFunc) {
	d := c.w.d
	t := time.NewTicker(d.StopPoll)
	defer t.Stop()
	for {
		select {
		case <-ran:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			stop, err := store.StopRequested(ctx, d.Pool, c.mb.TenantID, c.mb.RunID)
			if err != nil {
				continue // looked at again at the next tick
			}
			if stop {
				stopped.Store(true)
				cancel()
				return
			}
		}
	}
}

// transferJob builds the engine's job: the remote server as the line's
// user (or the migration's master user), the provider's as the master
// user on behalf of the local mailbox.
func (c *mailboxCopy) transferJob(m store.Migration, line store.Line, rep *dbReporter) (transfer.Job, error) {
	d := c.w.d
	preset, err := transfer.ParsePreset(m.Preset)
	if err != nil {
		return transfer.Job{}, err
	}
	src := transfer.Endpoint{
		Host:               line.RemoteHost,
		DialAddr:           line.PinnedAddr,
		User:               line.RemoteUser,
		InsecureSkipVerify: m.InsecureTLS,
		Dialer:             d.Guard.Dialer(),
	}
	switch {
	case m.MasterUser != "":
		if len(m.MasterPasswordEnc) == 0 {
			return transfer.Job{}, errLasting{i18n.New("run.password_gone"), "password_gone"}
		}
		pw, err := d.Box.Open(m.MasterPasswordEnc, MasterSecretAD(m.TenantID, m.MasterUser))
		if err != nil {
			return transfer.Job{}, fmt.Errorf("open master password: %w", err)
		}
		src.AuthUser, src.Password = m.MasterUser, string(pw)
		src.MasterForm = transfer.MasterFormFor(transfer.Preset(m.Preset))
	case len(line.RemotePasswordEnc) > 0:
		pw, err := d.Box.Open(line.RemotePasswordEnc, LineSecretAD(m.TenantID, line.LocalUser, line.RemoteHost, line.RemoteUser))
		if err != nil {
			return transfer.Job{}, fmt.Errorf("open line password: %w", err)
		}
		src.Password = string(pw)
	case preset == transfer.PresetOffice365 || preset == transfer.PresetGmail:
		// No password: OAuth2, a fresh token for every connection.
		ts, err := d.tokenSource(context.Background(), m.TenantID, preset, line.RemoteHost, line.RemoteUser)
		var nt errNoToken
		if errors.As(err, &nt) {
			return transfer.Job{}, errLasting{i18n.New(nt.key, nt.args...), "oauth"}
		}
		if err != nil {
			return transfer.Job{}, err
		}
		src.TokenSource = ts
	default:
		return transfer.Job{}, errLasting{i18n.New("run.password_gone"), "password_gone"}
	}
	d.noPlainText(preset, &src)
	dst := d.Dest
	dst.User = line.LocalUser
	c.scrub = newScrubber(src.User, src.AuthUser, src.Password).with(newScrubber(dst.User, dst.AuthUser, dst.Password)).with(d.oauthSecrets())
	rep.setScrubber(c.scrub)
	return transfer.Job{
		Preset:         preset,
		Source:         src,
		Dest:           dst,
		Checkpoints:    rep.batchCheckpoints(store.Checkpoints{DB: d.Pool, TenantID: m.TenantID, LineID: line.ID, MailboxRunID: c.mb.ID}),
		Reporter:       rep,
		Timeouts:       d.Timeouts,
		DestConns:      d.DestConns,
		Lanes:          d.FolderLanes,
		MaxMessageSize: d.MaxMessageSize,
		Expected:       previewExpected(line.Preview),
		MinRate:        d.MinRate,
		RateWindow:     d.RateWindow,
		Deadline:       c.deadline(),
	}, nil
}

// previewExpected is how many messages the line's test login counted in
// the folders to copy (its stored transfer.Preview), for the engine's
// total before the first body (transfer.Job.Expected); 0, and the engine
// counts with STATUS, when the test did not count or could not count them
// all (Gmail's All Mail).
func previewExpected(preview []byte) int {
	var pv transfer.Preview
	if len(preview) == 0 || json.Unmarshal(preview, &pv) != nil || pv.Partial {
		return 0
	}
	return pv.Messages + pv.TooLarge
}

// deadline is the end of the mailbox's time budget for this run, counted
// from its first attempt.
func (c *mailboxCopy) deadline() time.Time {
	if c.w.d.MailboxBudget <= 0 || c.mb.StartedAt == nil {
		return time.Time{}
	}
	return c.mb.StartedAt.Add(c.w.d.MailboxBudget)
}

// reason is the customer's reason for a failed attempt and whether retrying
// cannot help.
func (c *mailboxCopy) reason(err error) (text i18n.Msg, lasting bool) {
	if errors.Is(err, transfer.ErrDestinationFull) {
		return i18n.New("run.dest_full", c.mb.LocalUser), true
	}
	if ce, ok := transfer.IsConnError(err); ok {
		if ce.Side == transfer.SideDestination {
			// Our own server: the operator fixes it, a retry goes on.
			return i18n.New("run.dest_unavailable"), false
		}
		switch ce.Reason {
		case transfer.ReasonAuth, transfer.ReasonForbidden, transfer.ReasonCertificate,
			transfer.ReasonNoTLS, transfer.ReasonPlainRefuse:
			return explainLogin(ce, c.w.d.ForbidPlainLogin, c.scrub), true
		case transfer.ReasonOAuth:
			// The provider answered with a refusal (consent revoked, …):
			// lasting until the customer acts; unreachable: passing.
			var oe *oauth.Error
			return explainLogin(ce, c.w.d.ForbidPlainLogin, c.scrub), errors.As(ce.Err, &oe) && oe.Err == nil
		}
		return explainLogin(ce, c.w.d.ForbidPlainLogin, c.scrub), false
	}
	var stall *transfer.StallError
	if errors.As(err, &stall) {
		return i18n.New("run.stalled", i18n.Size(stall.MinRate), stall.Window), false
	}
	if errors.Is(err, transfer.ErrTimeBudget) {
		return i18n.New("run.time_budget", c.w.d.MailboxBudget), true
	}
	var perr *transfer.PanicError
	if errors.As(err, &perr) {
		c.log.Error("mailbox: the copy engine panicked", "error", err, "stack", string(perr.Stack))
		return i18n.New("run.internal"), false
	}
	c.log.Warn("mailbox: copy failed", "error", err)
	return i18n.New("run.interrupted"), false
}

// failureCause is the reason label of a failed attempt in the metrics:
// dest_full, dest_unavailable (our own server), the remote connection's
// reason (auth, timeout, refused, certificate, …) or other.
func failureCause(err error) string {
	if errors.Is(err, transfer.ErrDestinationFull) {
		return "dest_full"
	}
	if ce, ok := transfer.IsConnError(err); ok {
		if ce.Side == transfer.SideDestination {
			return "dest_unavailable"
		}
		return strings.ReplaceAll(string(ce.Reason), "-", "_")
	}
	return "other"
}

// finish ends the mailbox run and, when it was the run's last mailbox,
// the run (with its email job), in one transaction.
func (c *mailboxCopy) finish(ctx context.Context, status store.MailboxStatus, rep *dbReporter, text i18n.Msg) error {
	ctx = context.WithoutCancel(ctx)
	rep.event(slog.LevelInfo, "log.run.ended", i18n.New("web.mailbox."+string(status)))
	rep.flush(ctx)
	return finishMailbox(ctx, c.w.d, c.mb, status, rep.counters(), text, c.log)
}

// finishMailbox ends a mailbox run and, if it was the last of its run,
// the run, in one transaction; ending the run enqueues its email and, for
// the migration's last run, erases the passwords no longer needed.
func finishMailbox(ctx context.Context, d Deps, mb store.MailboxRun, status store.MailboxStatus, counters store.MailboxCounters, text i18n.Msg, log *slog.Logger) error {
	ended := false
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		err := store.FinishMailboxRun(ctx, tx, mb.TenantID, mb.ID, status, counters, text)
		if errors.Is(err, store.ErrWrongState) {
			return nil // ended by someone else
		}
		if err != nil {
			return err
		}
		ended = true
		return endRunIfDone(ctx, tx, d, mb.TenantID, mb.RunID, log)
	})
	if err == nil && ended {
		d.Metrics.MailboxEnded(status)
	}
	return err
}

// endRunIfDone ends the run when none of its mailboxes is still going.
func endRunIfDone(ctx context.Context, tx pgx.Tx, d Deps, tenantID, runID int64, log *slog.Logger) error {
	r, ended, last, err := store.EndRunIfDone(ctx, tx, tenantID, runID)
	if err != nil || !ended {
		return err
	}
	log.Info("run ended", "run_id", r.ID, "status", r.Status, "last", last)
	if last {
		if err := store.EraseFinishedPasswords(ctx, tx, tenantID, r.MigrationID); err != nil {
			return err
		}
	}
	ins, err := d.inserter(ctx)
	if err != nil {
		return err
	}
	_, err = ins.InsertTx(ctx, tx, RunEmailArgs{TenantID: tenantID, RunID: runID}, nil)
	if err != nil {
		return fmt.Errorf("insert run email job: %w", err)
	}
	return nil
}

// hostKey is the remote host a per-host limit counts: its name without
// port, lower case.
func hostKey(remoteHost string) string {
	h := strings.ToLower(strings.TrimSpace(remoteHost))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return h
}

// Advisory lock keys: a class in the high 16 bits keeps trasloco's locks
// apart from each other and from database.Migrate's.
const (
	lockClassHost           = 0x7402
	lockClassMailbox        = 0x7403
	lockClassTenantCopy     = 0x7404
	lockClassTenantValidate = 0x7405
)

// tenantSlotKeys are the locks of a tenant's copy slots.
func tenantSlotKeys(tenantID int64, limit int) []int64 {
	return slotKeys(lockClassTenantCopy, tenantID, limit)
}

// slotKeys are limit lock keys of class for id (a tenant's).
func slotKeys(class, id int64, limit int) []int64 {
	keys := make([]int64, limit)
	for i := range keys {
		keys[i] = class<<48 | (id&(1<<40-1))<<8 | int64(i&0xff)
	}
	return keys
}

// slotsFree reports whether one of keys is not held in this database, as
// pg_locks shows them (a bigint advisory key is classid for its high 32
// bits and objid for its low ones, objsubid 1; pg_locks lists every
// database of the cluster). It is a hint, before opening a connection for
// the locks: the slot is only ours once tryLock takes it.
func slotsFree(ctx context.Context, db store.DBTX, keys []int64) (bool, error) {
	var held int
	err := db.QueryRow(ctx, `
		SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND ((classid::bigint << 32) | objid::bigint) = ANY($1)`, keys).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("look at slots: %w", err)
	}
	return held < len(keys), nil
}

// takeSlot takes the first free lock of keys on conn, until conn closes
// or it is unlocked; ok=false when all are held.
func takeSlot(ctx context.Context, conn *pgx.Conn, keys []int64) (bool, error) {
	for _, k := range keys {
		ok, err := tryLock(ctx, conn, k)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// mailboxLockKey is the lock of a destination mailbox (its address, lower
// case).
func mailboxLockKey(localUser string) int64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(localUser)))
	return lockClassMailbox<<48 | int64(h.Sum64()&(1<<48-1))
}

func hostLockKey(host string, slot int) int64 {
	h := fnv.New64a()
	h.Write([]byte(host))
	return lockClassHost<<48 | int64(h.Sum64()&(1<<40-1))<<8 | int64(slot&0xff)
}

// waitAgain is how long a waiting mailbox job snoozes: poll at first,
// growing with the snoozes it already had up to six times poll, plus a
// random part, so a thousand mailboxes queued for one host do not all
// look again at once, nor every few seconds for hours.
func waitAgain(job *river.Job[MailboxArgs], poll time.Duration) time.Duration {
	var md struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &md)
	f := min(1+md.Snoozes/5, 6)
	return time.Duration(f)*poll + rand.N(poll/2+1)
}

// releaseLocks unlocks every advisory lock of conn, then closes it: the
// server would release them only once its backend is gone, a moment after
// the close, and the next job of the same tenant or host would wait.
func releaseLocks(ctx context.Context, conn *pgx.Conn) {
	ctx = context.WithoutCancel(ctx)
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
	_ = conn.Close(ctx)
}

func tryLock(ctx context.Context, conn *pgx.Conn, key int64) (bool, error) {
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("mailbox: advisory lock: %w", err)
	}
	return ok, nil
}
