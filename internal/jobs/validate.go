package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// validateTimeout bounds one attempt of a validation. Results are stored
// line by line, so an attempt cut short is resumed by the retry, which
// checks only the lines still pending.
const validateTimeout = time.Hour

// ValidateWorker checks the lines of a migration: the local mailbox's
// domain is the tenant's, the destination mailbox exists, the remote host
// is allowed and a test login to it succeeds. Each line's result is stored
// as soon as it is known; at the end the migration turns scheduled (with
// its runs' jobs) or red, in one transaction.
type ValidateWorker struct {
	river.WorkerDefaults[ValidateMigrationArgs]
	d Deps
}

// NewValidateWorker returns the validation worker.
func NewValidateWorker(d Deps) *ValidateWorker {
	return &ValidateWorker{d: d.withDefaults()}
}

// Timeout is one attempt's time limit.
func (w *ValidateWorker) Timeout(*river.Job[ValidateMigrationArgs]) time.Duration {
	return validateTimeout
}

// errRetryLater marks lines left pending because our own side (the
// destination server) did not answer: the job is retried.
var errRetryLater = errors.New("some lines could not be checked, retrying later")

// Work validates the migration of the job.
func (w *ValidateWorker) Work(ctx context.Context, job *river.Job[ValidateMigrationArgs]) error {
	a := job.Args
	log := w.d.Logger.With("job_id", job.ID, "tenant_id", a.TenantID, "migration_id", a.MigrationID, "attempt", job.Attempt)
	m, err := store.GetMigration(ctx, w.d.Pool, a.TenantID, a.MigrationID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("validate: migration not found")
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if m.Status != store.MigrationValidating {
		log.Info("validate: migration no longer validating, left alone", "status", m.Status)
		return nil
	}
	// At most PerTenantValidations of a tenant at once, across processes:
	// a tenant's hundred migrations leave the slots to the others' too.
	keys := slotKeys(lockClassTenantValidate, a.TenantID, w.d.PerTenantValidations)
	if free, err := slotsFree(ctx, w.d.Pool, keys); err != nil {
		return err
	} else if !free {
		log.Debug("validate: per-tenant limit reached, waiting")
		setWait(ctx, waitValidation(a.TenantID))
		return river.JobSnooze(w.d.Poll)
	}
	locks, err := pgx.ConnectConfig(ctx, w.d.Pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("validate: connect for locks: %w", err)
	}
	defer func() {
		releaseLocks(ctx, locks)
		wakeWaiting(ctx, w.d, ValidateMigrationArgs{}.Kind(), waitValidation(a.TenantID))
	}()
	if ok, err := takeSlot(ctx, locks, keys); err != nil {
		return err
	} else if !ok {
		log.Debug("validate: per-tenant limit reached, waiting")
		setWait(ctx, waitValidation(a.TenantID))
		return river.JobSnooze(w.d.Poll)
	}
	noWait(ctx)

	tenant, err := store.GetTenant(ctx, w.d.Pool, a.TenantID)
	if err != nil {
		return fmt.Errorf("validate migration: %w", err)
	}
	if tenant.Disabled {
		// Stopped; the purge turns it red without its passwords later.
		log.Info("validate: tenant disabled, stopping")
		return nil
	}
	v := &validation{
		w: w, m: m,
		lastAttempt: job.Attempt >= job.MaxAttempts,
	}
	if err := v.prepare(); err != nil {
		log.Error("validate: cannot prepare the checks", "error", err)
		if serr := store.SetMigrationError(ctx, w.d.Pool, a.TenantID, a.MigrationID, i18n.New("check.internal")); serr != nil {
			return serr
		}
		return river.JobCancel(err)
	}
	lines, err := store.ListLines(ctx, w.d.Pool, a.TenantID, a.MigrationID)
	if err != nil {
		return fmt.Errorf("validate migration: %w", err)
	}
	start := w.d.Now()
	retry, err := v.checkAll(ctx, lines)
	if err != nil {
		return fmt.Errorf("validate migration: %w", err)
	}
	log.Info("validate: lines checked", "lines", len(lines), "duration", w.d.Now().Sub(start).Round(time.Millisecond))
	if retry {
		return errRetryLater
	}
	return w.finish(ctx, a, log)
}

// finish turns the migration scheduled or red, in one transaction, unless
// it is no longer validating.
func (w *ValidateWorker) finish(ctx context.Context, a ValidateMigrationArgs, log *slog.Logger) error {
	ins := w.d.Inserter
	if ins == nil {
		c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err != nil {
			return fmt.Errorf("validate migration: no River client to insert the runs: %w", err)
		}
		ins = c
	}
	return pgx.BeginFunc(ctx, w.d.Pool, func(tx pgx.Tx) error {
		m, err := store.LockMigration(ctx, tx, a.TenantID, a.MigrationID)
		if err != nil {
			return fmt.Errorf("finish validation: %w", err)
		}
		if m.Status != store.MigrationValidating {
			log.Info("validate: migration no longer validating, left alone", "status", m.Status)
			return nil
		}
		lines, err := store.ListLines(ctx, tx, a.TenantID, a.MigrationID)
		if err != nil {
			return fmt.Errorf("finish validation: %w", err)
		}
		failed := 0
		for _, l := range lines {
			switch l.Status {
			case store.LinePending:
				return fmt.Errorf("finish validation: line %d still pending: %w", l.LineNo, errRetryLater)
			case store.LineFailed:
				failed++
			}
		}
		if len(lines) == 0 {
			log.Info("validate: no lines, red")
			return store.SetMigrationError(ctx, tx, a.TenantID, a.MigrationID, i18n.New("csv.file.empty"))
		}
		if failed > 0 {
			log.Info("validate: red", "failed", failed, "lines", len(lines))
			if err := store.SetMigrationStatus(ctx, tx, a.TenantID, a.MigrationID, store.MigrationRed, store.MigrationValidating); err != nil {
				return err
			}
			// Its lines are only ever replaced now: their passwords go.
			return store.EraseLinePasswords(ctx, tx, a.TenantID, a.MigrationID)
		}
		if !m.FirstRunAt.After(w.d.Now()) {
			// Scheduling now would start copying at once, at a time the
			// customer did not choose: they are asked for a new one.
			tenant, err := store.GetTenant(ctx, tx, a.TenantID)
			if err != nil {
				return fmt.Errorf("finish validation: %w", err)
			}
			log.Info("validate: first run time has passed, red", "first_run_at", m.FirstRunAt)
			return store.SetMigrationError(ctx, tx, a.TenantID, a.MigrationID, i18n.New("web.edit.time_passed_red", i18n.ZonedTime{T: m.FirstRunAt, Zone: tenant.Timezone}))
		}
		runs, err := Schedule(ctx, tx, ins, m)
		if err != nil {
			return err
		}
		log.Info("validate: scheduled", "lines", len(lines), "runs", len(runs))
		return nil
	})
}

// Schedule marks a validating migration scheduled and creates its runs
// (run 1 at FirstRunAt, run 2 at SecondRunAt when set), each with its
// RunArgs job inserted through ins at the run's time, all in tx. The
// validation worker calls it when every line passed; callers elsewhere
// must have checked the lines themselves. A time already past makes the
// run start at once: the validation never calls it with a first run in the
// past (the migration turns red, asking for a new time).
func Schedule(ctx context.Context, tx pgx.Tx, ins Inserter, m store.Migration) ([]store.Run, error) {
	if err := store.SetMigrationStatus(ctx, tx, m.TenantID, m.ID, store.MigrationScheduled, store.MigrationValidating); err != nil {
		return nil, fmt.Errorf("schedule migration: %w", err)
	}
	times := []time.Time{m.FirstRunAt}
	if m.SecondRunAt != nil {
		times = append(times, *m.SecondRunAt)
	}
	var runs []store.Run
	for i, at := range times {
		r, err := store.CreateRun(ctx, tx, m.TenantID, store.NewRun{MigrationID: m.ID, RunNo: i + 1, ScheduledAt: at})
		if err != nil {
			return nil, fmt.Errorf("schedule migration: %w", err)
		}
		res, err := ins.InsertTx(ctx, tx, RunArgs{TenantID: m.TenantID, RunID: r.ID}, runInsertOpts(at))
		if err != nil {
			return nil, fmt.Errorf("schedule migration: insert run %d job: %w", r.RunNo, err)
		}
		if err := store.SetRunJob(ctx, tx, m.TenantID, r.ID, res.Job.ID); err != nil {
			return nil, fmt.Errorf("schedule migration: %w", err)
		}
		r.RiverJobID = res.Job.ID
		runs = append(runs, r)
	}
	return runs, nil
}

// runInsertOpts are the insert options of a run's job due at `at`. A run
// due already is inserted available: River notifies the workers and one
// starts it at once; with a ScheduledAt, even a past one, River inserts it
// scheduled and it waits for River's scheduler, which makes due jobs
// available every 5 s from the leader only (seen as 0.35–5.5 s before a
// run due "now" started).
func runInsertOpts(at time.Time) *river.InsertOpts {
	if !at.After(time.Now()) {
		return nil
	}
	return &river.InsertOpts{ScheduledAt: at}
}

// validation is one attempt at checking a migration's lines.
type validation struct {
	w           *ValidateWorker
	m           store.Migration
	lastAttempt bool

	preset         transfer.Preset
	masterPassword string // remote master user's, opened in memory only

	mu      sync.Mutex
	perHost map[string]chan struct{} // by remoteCount.id
}

func (v *validation) prepare() error {
	p, err := transfer.ParsePreset(v.m.Preset)
	if err != nil {
		return err
	}
	v.preset = p
	if v.m.MasterUser != "" && len(v.m.MasterPasswordEnc) > 0 {
		pw, err := v.w.d.Box.Open(v.m.MasterPasswordEnc, MasterSecretAD(v.m.TenantID, v.m.MasterUser))
		if err != nil {
			return fmt.Errorf("open master password: %w", err)
		}
		v.masterPassword = string(pw)
	}
	v.perHost = map[string]chan struct{}{}
	return nil
}

// remoteSlots returns the semaphores of a line's remote host, one per
// count of its caps (Deps.remoteCounts), in the order they are taken.
// A tenant's validations run one at a time (PerTenantValidations), so
// these hold the tenant's and its accounts' counts across processes.
func (v *validation) remoteSlots(l store.Line) []chan struct{} {
	counts := v.w.d.remoteCounts(v.m.TenantID, l.RemoteHost, l.RemoteUser)
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]chan struct{}, len(counts))
	for i, c := range counts {
		s, ok := v.perHost[c.id]
		if !ok {
			s = make(chan struct{}, len(c.keys))
			v.perHost[c.id] = s
		}
		out[i] = s
	}
	return out
}

// checkAll checks every pending line, concurrently within the caps. retry
// says some lines stayed pending because our side did not answer.
func (v *validation) checkAll(ctx context.Context, lines []store.Line) (retry bool, err error) {
	global := make(chan struct{}, v.w.d.Concurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for _, l := range lines {
		if l.Status != store.LinePending {
			continue // refused for its format, or checked by an earlier attempt
		}
		wg.Go(func() {
			slots := &lineSlots{global: global, remote: v.remoteSlots(l)}
			defer slots.release()
			if slots.take(ctx, global) != nil {
				return
			}
			again, err := v.checkLine(ctx, l, slots)
			mu.Lock()
			defer mu.Unlock()
			retry = retry || again
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return retry, firstErr
}

// checkLine checks one line and stores its result. It stores nothing when
// the job's ctx ends, and returns retry when our destination server did
// not answer (unless this is the last attempt).
func (v *validation) checkLine(ctx context.Context, l store.Line, slots *lineSlots) (retry bool, err error) {
	d := v.w.d
	log := d.Logger.With("tenant_id", v.m.TenantID, "migration_id", v.m.ID, "line_no", l.LineNo, "remote_host", l.RemoteHost)
	status, err := currentStatus(ctx, d, v.m.TenantID, v.m.ID)
	if err != nil || status != store.MigrationValidating {
		return false, err
	}
	if t, err := store.GetTenant(ctx, d.Pool, v.m.TenantID); err != nil || t.Disabled {
		return false, err // disabled meanwhile: no more lines checked
	}
	fail := func(key string, args ...any) (bool, error) {
		reason := i18n.New("csv.line", l.LineNo, i18n.New(key, args...))
		log.Info("validate: line failed", "reason", key)
		return false, v.store(ctx, l, store.LineResult{Status: store.LineFailed, Error: reason})
	}

	// (a) The local mailbox's domain is the tenant's.
	_, domain, _ := strings.Cut(l.LocalUser, "@")
	owned, err := store.TenantOwnsDomain(ctx, d.Pool, v.m.TenantID, domain)
	if err != nil {
		return false, err
	}
	if !owned {
		return fail("check.domain_not_owned", strings.ToLower(domain))
	}

	// (a') No other active migration of the tenant copies into it: two
	// writers would duplicate its mail.
	switch other, err := store.ActiveMigrationWithMailbox(ctx, d.Pool, v.m.TenantID, v.m.ID, l.LocalUser); {
	case err == nil:
		return fail("check.mailbox_busy", l.LocalUser, other.Name, other.LineNo)
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}

	// (b) The destination mailbox exists: our master user can log in to it.
	dest := d.Dest
	dest.User = l.LocalUser
	if err := v.login(ctx, "destination", transfer.PresetStandardSSL, dest, nil, nil); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if ce, ok := transfer.IsConnError(err); ok && ce.Reason == transfer.ReasonAuth {
			return fail("check.dest_missing", l.LocalUser)
		}
		log.Warn("validate: destination server did not answer", "error", newScrubber(dest.User, dest.AuthUser, dest.Password).err(err))
		if !v.lastAttempt {
			return true, nil
		}
		return fail("check.dest_unavailable", l.LocalUser)
	}

	// The old server's part, under its host's cap (see lineSlots).
	if err := slots.toRemote(ctx); err != nil {
		return false, err
	}

	// (c) The remote host is allowed: its port, and not our own server,
	// before anything is dialled (the guard checks the address actually
	// dialled again).
	switch err := d.Guard.CheckHost(l.RemoteHost, v.preset.Defaults().Port); {
	case errors.Is(err, netguard.ErrPortNotAllowed):
		return fail("check.port_not_allowed", l.RemoteHost, d.Guard.PortList())
	case errors.Is(err, netguard.ErrOwnServer):
		return fail("check.own_server", l.RemoteHost)
	case err != nil:
		log.Info("validate: remote host refused", "error", err)
		return fail("check.forbidden", l.RemoteHost)
	}

	remote := transfer.Endpoint{
		Host:               l.RemoteHost,
		User:               l.RemoteUser,
		InsecureSkipVerify: v.m.InsecureTLS,
		Dialer:             d.Guard.Dialer(),
	}
	if v.m.MasterUser != "" {
		remote.AuthUser, remote.Password = v.m.MasterUser, v.masterPassword
		remote.MasterForm = transfer.MasterFormFor(transfer.Preset(v.m.Preset))
	} else if len(l.RemotePasswordEnc) > 0 {
		pw, err := d.Box.Open(l.RemotePasswordEnc, LineSecretAD(v.m.TenantID, l.LocalUser, l.RemoteHost, l.RemoteUser))
		if err != nil {
			log.Error("validate: cannot open the line's password", "error", err)
			return fail("check.internal")
		}
		remote.Password = string(pw)
	} else {
		ts, err := d.tokenSource(ctx, v.m.TenantID, v.preset, l.RemoteHost, l.RemoteUser)
		var nt errNoToken
		if errors.As(err, &nt) {
			return fail("check.failed", i18n.New(nt.key, nt.args...))
		}
		if err != nil {
			return false, err
		}
		remote.TokenSource = ts
	}
	d.noPlainText(v.preset, &remote)
	// Its server asked to slow down, in a check or a copy: the line
	// waits for the validation's next attempt (throttle.go).
	if _, busy, err := d.backedOff(ctx, v.m.TenantID, l.RemoteHost, l.RemoteUser); err != nil {
		return false, err
	} else if busy && !v.lastAttempt {
		log.Info("validate: the remote account is backed off, checking it later")
		return true, nil
	}
	// (d) A test login succeeds, unless too many failed already for this
	// remote user or this tenant: each try is recorded before it is made.
	reservation, ok, err := store.ReserveRemoteLogin(ctx, d.Pool, v.m.TenantID, hostOnly(l.RemoteHost), l.RemoteUser, d.RemoteLogins, d.Now())
	if err != nil {
		return false, err
	}
	if !ok {
		log.Warn("validate: remote logins throttled", "remote_user", l.RemoteUser)
		return fail("check.remote_throttled")
	}
	var res *transfer.CheckResult
	var pv measured
	err = v.login(ctx, "remote", v.preset, remote, &res, &pv)
	// What the servers said goes to the log without the passwords.
	sc := newScrubber(remote.User, remote.AuthUser, remote.Password).with(newScrubber(dest.User, dest.AuthUser, dest.Password)).with(d.oauthSecrets())
	err = sc.err(err)
	if ce, isConn := transfer.IsConnError(err); !isConn || ce.Reason != transfer.ReasonAuth {
		// Only a refused password counts against the limits.
		if ferr := store.ForgetRemoteLogin(context.WithoutCancel(ctx), d.Pool, v.m.TenantID, reservation); ferr != nil {
			return false, ferr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		ce, ok := transfer.IsConnError(err)
		if !ok {
			log.Error("validate: remote check failed", "error", err)
			return fail("check.internal")
		}
		log.Info("validate: remote check failed", "reason", ce.Reason, "error", sc.text(ce.Error()))
		if ce.Reason == transfer.ReasonForbidden {
			return fail("check.forbidden", l.RemoteHost)
		}
		if te, ok := transfer.IsThrottled(ce); ok {
			if _, err := d.backOff(ctx, v.m.TenantID, l.RemoteHost, l.RemoteUser, d.throttleWait(te)); err != nil {
				return false, err
			}
			if !v.lastAttempt {
				return true, nil // checked again at the next attempt
			}
		}
		if why := d.oauthReason(v.preset, remote, ce, sc); !why.IsZero() {
			return fail("check.failed", why)
		}
		return fail("check.failed", explainLogin(ce, d.ForbidPlainLogin, sc))
	}
	r := store.LineResult{Status: store.LineOK}
	if d.PinRemoteAddr {
		r.PinnedAddr = res.RemoteAddr
	}
	r.Preview = v.previewJSON(pv, sc, log)
	notes := make([]string, len(res.Notes))
	for i, n := range res.Notes {
		notes[i] = sc.text(n)
	}
	log.Info("validate: line ok", "remote_addr", res.RemoteAddr, "notes", notes)
	return false, v.store(ctx, l, r)
}

// measured is what a remote test login measured of the copy (see
// transfer.CheckWithPreview).
type measured struct {
	pv  *transfer.Preview
	err error
}

// login runs one test login bounded by CheckTimeout and counts its result
// (unless the job's ctx ended) on side, "destination" or "remote". With
// pv it also measures, on the same connection, what the copy will take:
// one login (and one token) per line, the measure given as long again.
func (v *validation) login(ctx context.Context, side string, p transfer.Preset, e transfer.Endpoint, out **transfer.CheckResult, pv *measured) error {
	to := v.w.d.CheckTimeout
	budget := to
	if pv != nil {
		budget = 2 * to
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var res *transfer.CheckResult
	var err error
	if pv != nil {
		res, pv.pv, pv.err, err = transfer.CheckWithPreview(cctx, p, e, transfer.Timeouts{Dial: to, Command: to}, v.w.d.MaxMessageSize)
	} else {
		res, err = transfer.Check(cctx, p, e, transfer.Timeouts{Dial: to, Command: to}, false)
	}
	if out != nil {
		*out = res
	}
	if ctx.Err() == nil {
		result := metrics.ResultOK
		if ce, ok := transfer.IsConnError(err); ok {
			result = strings.ReplaceAll(string(ce.Reason), "-", "_")
		} else if err != nil {
			result = metrics.ResultError
		}
		v.w.d.Metrics.ValidationLogin(side, result)
	}
	return err
}

// previewJSON is the line's stored preview (folders, messages and size to
// copy, what stays behind) for the migration page; nil when the measure
// failed, which only leaves the line without one.
func (v *validation) previewJSON(m measured, sc scrubber, log *slog.Logger) []byte {
	if m.err != nil || m.pv == nil {
		log.Info("validate: no preview", "error", sc.err(m.err))
		return nil
	}
	pv := *m.pv
	if pv.RulesWhy != nil {
		// The panel shows it: the server's words, scrubbed.
		why := sc.rulesWhy(*pv.RulesWhy)
		pv.RulesWhy = &why
	}
	b, err := json.Marshal(pv)
	if err != nil {
		return nil
	}
	return b
}

func (v *validation) store(ctx context.Context, l store.Line, r store.LineResult) error {
	err := store.SetLineResult(ctx, v.w.d.Pool, v.m.TenantID, l.ID, r)
	if errors.Is(err, store.ErrWrongState) {
		return nil // checked meanwhile by another attempt
	}
	return err
}

func currentStatus(ctx context.Context, d Deps, tenantID, id int64) (store.MigrationStatus, error) {
	m, err := store.GetMigration(ctx, d.Pool, tenantID, id)
	if err != nil {
		return "", err
	}
	return m.Status, nil
}

// hostOnly is a remote host without its port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// reasonMsg is the customer's reason for a failed remote login
// (plainForbidden: the operator forbids plain-text logins). Refused,
// timed out and unreachable are one reason: told apart, they would map
// the network behind an address.
func reasonMsg(ce *transfer.ConnError, plainForbidden bool) i18n.Msg {
	key := "check.reason." + strings.ReplaceAll(string(ce.Reason), "-", "_")
	if ce.Reason == transfer.ReasonNoTLS && plainForbidden {
		key = "check.reason.no_starttls_forbidden"
	}
	switch ce.Reason {
	case transfer.ReasonRefused, transfer.ReasonTimeout, transfer.ReasonUnreachable:
		key = "check.reason.connect"
	}
	if !i18n.Has(key) {
		key = "check.reason.protocol"
	}
	if ce.Reason == transfer.ReasonAuth {
		return i18n.New(key)
	}
	return i18n.New(key, ce.Addr)
}
