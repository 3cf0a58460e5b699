package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// RunWorker starts a run when it is due: it marks the run and the
// migration running and inserts one MailboxArgs job per mailbox, in one
// transaction. Doing it twice changes nothing.
type RunWorker struct {
	river.WorkerDefaults[RunArgs]
	d Deps
}

// NewRunWorker returns the run worker.
func NewRunWorker(d Deps) *RunWorker {
	return &RunWorker{d: d.withDefaults()}
}

// Work starts the run of the job.
func (w *RunWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	a := job.Args
	log := w.d.Logger.With("job_id", job.ID, "tenant_id", a.TenantID, "run_id", a.RunID)
	ins, err := w.d.inserter(ctx)
	if err != nil {
		return err
	}
	// A disabled tenant's runs wait until it is enabled again.
	if t, err := store.GetTenant(ctx, w.d.Pool, a.TenantID); err == nil && t.Disabled {
		log.Info("run: tenant disabled, waiting")
		return river.JobSnooze(10 * w.d.Poll)
	}
	return pgx.BeginFunc(ctx, w.d.Pool, func(tx pgx.Tx) error {
		r, err := store.StartRun(ctx, tx, a.TenantID, a.RunID)
		if errors.Is(err, store.ErrNotFound) {
			return river.JobCancel(err)
		}
		if errors.Is(err, store.ErrWrongState) {
			log.Info("run: not scheduled any more, left alone", "status", r.Status)
			return nil
		}
		if err != nil {
			return err
		}
		mbs, err := store.CreateMailboxRuns(ctx, tx, a.TenantID, a.RunID)
		if err != nil {
			return err
		}
		n, err := insertMailboxJobs(ctx, tx, ins, mbs, 0)
		if err != nil {
			return err
		}
		log.Info("run: started", "migration_id", r.MigrationID, "run_no", r.RunNo, "mailboxes", len(mbs), "jobs", n)
		return endRunIfDone(ctx, tx, w.d, a.TenantID, a.RunID, log) // a run with no mailbox ends at once
	})
}

// insertMailboxJobs inserts the jobs of the mailbox runs still to do, in
// one statement when ins can (River's InsertManyTx): a run of 200
// mailboxes inserted them one round trip each before it started any.
//
// resume, when not 0, tells them from an earlier job of the same mailbox
// run (see MailboxArgs.Resume).
func insertMailboxJobs(ctx context.Context, tx pgx.Tx, ins Inserter, mbs []store.MailboxRun, resume int64) (int, error) {
	var params []river.InsertManyParams
	for _, mb := range mbs {
		if !mb.Status.Ended() {
			params = append(params, river.InsertManyParams{Args: MailboxArgs{TenantID: mb.TenantID, MailboxRunID: mb.ID, Resume: resume}})
		}
	}
	if many, ok := ins.(manyInserter); ok && len(params) > 1 {
		if _, err := many.InsertManyTx(ctx, tx, params); err != nil {
			return 0, fmt.Errorf("insert mailbox jobs: %w", err)
		}
		return len(params), nil
	}
	for i, p := range params {
		if _, err := ins.InsertTx(ctx, tx, p.Args, nil); err != nil {
			return i, fmt.Errorf("insert mailbox job: %w", err)
		}
	}
	return len(params), nil
}

// manyInserter is an Inserter that inserts many jobs in one statement.
type manyInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// RetryFailedMailboxes puts the failed mailboxes of the tenant's ended run
// back to work ("Riprova le caselle fallite") and returns how many. It is
// store.ErrWrongState when the run has none that can be retried (none
// failed, or their passwords are erased) and store.ErrNotFound for a run
// of another tenant.
func RetryFailedMailboxes(ctx context.Context, pool *pgxpool.Pool, ins Inserter, tenantID, runID int64) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		mbs, err := store.ReopenFailedMailboxes(ctx, tx, tenantID, runID)
		if err != nil {
			return err
		}
		// The mailbox's earlier job may not be marked completed yet
		// (River does so just after Work returns): a job unique by
		// args would be taken for it and never run.
		n, err = insertMailboxJobs(ctx, tx, ins, mbs, time.Now().UnixNano())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry failed mailboxes: %w", err)
	}
	return n, nil
}

// EndRunIfDone ends the run when none of its mailboxes is still going,
// with its email job and, for the migration's last run, the erasure of the
// passwords no longer needed, in tx: for the panel, after a stop that found
// no mailbox copying.
func EndRunIfDone(ctx context.Context, tx pgx.Tx, d Deps, tenantID, runID int64) error {
	d = d.withDefaults()
	return endRunIfDone(ctx, tx, d, tenantID, runID, d.Logger)
}

// ResumeStoppedRun takes up the stopped run of the tenant's migration
// again ("Riprendi"), inserting a job for each mailbox to go on, and
// returns how many (store.ReopenStoppedRun says which).
func ResumeStoppedRun(ctx context.Context, pool *pgxpool.Pool, ins Inserter, tenantID, migrationID int64, after func(pgx.Tx) error) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		mbs, err := store.ReopenStoppedRun(ctx, tx, tenantID, migrationID)
		if err != nil {
			return err
		}
		resume := time.Now().UnixNano()
		for _, mb := range mbs {
			if _, err := ins.InsertTx(ctx, tx, MailboxArgs{TenantID: mb.TenantID, MailboxRunID: mb.ID, Resume: resume}, nil); err != nil {
				return fmt.Errorf("insert mailbox job: %w", err)
			}
			n++
		}
		return after(tx)
	})
	if err != nil {
		return 0, fmt.Errorf("resume stopped run: %w", err)
	}
	return n, nil
}

// ReconcileArgs is the periodic check that every mailbox run still to do
// has a live job: a job River gave up on (its worker died on the last
// attempt, say) would otherwise leave its mailbox running and its run
// without an end or an email. Such a mailbox ends failed.
type ReconcileArgs struct{}

// Kind is the River job kind.
func (ReconcileArgs) Kind() string { return "reconcile_runs" }

// InsertOpts puts the job on QueueMaintenance, once at a time.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// ReconcileWorker ends the orphaned mailbox runs.
type ReconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	d Deps
}

// NewReconcileWorker returns the reconcile worker.
func NewReconcileWorker(d Deps) *ReconcileWorker { return &ReconcileWorker{d: d.withDefaults()} }

// Work ends every orphaned mailbox run, across tenants (an operator task).
func (w *ReconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	// A mailbox run is orphaned when it is pending or running, its run is
	// running, and no live River job carries its id; rows younger than a
	// minute are left alone (their run job may not have committed yet).
	rows, err := w.d.Pool.Query(ctx, `
		SELECT b.tenant_id, b.id FROM mailbox_runs b
		JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
		WHERE b.status IN ('pending', 'running') AND r.status = 'running' AND b.updated_at < now() - interval '1 minute'
			AND NOT EXISTS (
				SELECT 1 FROM river_job j WHERE j.kind = 'mailbox_copy'
					AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
					AND (j.args->>'mailbox_run_id')::bigint = b.id AND (j.args->>'tenant_id')::bigint = b.tenant_id)`)
	if err != nil {
		return fmt.Errorf("reconcile runs: %w", err)
	}
	type key struct{ tenant, id int64 }
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
		var k key
		return k, r.Scan(&k.tenant, &k.id)
	})
	if err != nil {
		return fmt.Errorf("reconcile runs: %w", err)
	}
	for _, k := range keys {
		mb, err := store.GetMailboxRun(ctx, w.d.Pool, k.tenant, k.id)
		if err != nil {
			return err
		}
		log := w.d.Logger.With("tenant_id", k.tenant, "migration_id", mb.MigrationID, "mailbox_run_id", k.id)
		log.Warn("reconcile: mailbox run has no job left, ending it failed")
		w.d.Metrics.MailboxFailure("gave_up")
		text := i18n.New("run.gave_up")
		if err := store.AppendMailboxLogs(ctx, w.d.Pool, k.tenant, k.id, []store.LogLine{{At: time.Now(), Level: "error", Event: text}}); err != nil {
			return err
		}
		if err := finishMailbox(ctx, w.d, mb, store.MailboxFailed, mb.MailboxCounters, text, log); err != nil {
			return err
		}
	}
	return nil
}

// PurgePasswordsArgs erases the passwords that failed mailboxes kept for a
// retry once their migration has been over for Deps.PasswordRetention.
type PurgePasswordsArgs struct{}

// Kind is the River job kind.
func (PurgePasswordsArgs) Kind() string { return "purge_passwords" }

// InsertOpts puts the job on QueueMaintenance.
func (PurgePasswordsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// PurgePasswordsWorker runs PurgePasswordsArgs.
type PurgePasswordsWorker struct {
	river.WorkerDefaults[PurgePasswordsArgs]
	d Deps
}

// NewPurgePasswordsWorker returns the purge worker.
func NewPurgePasswordsWorker(d Deps) *PurgePasswordsWorker {
	return &PurgePasswordsWorker{d: d.withDefaults()}
}

// Work erases the stale passwords.
func (w *PurgePasswordsWorker) Work(ctx context.Context, job *river.Job[PurgePasswordsArgs]) error {
	n, err := store.PurgeStalePasswords(ctx, w.d.Pool, w.d.Now().Add(-w.d.PasswordRetention))
	if err != nil {
		return err
	}
	if n > 0 {
		w.d.Logger.Info("purge: passwords erased", "migrations", n)
	}
	if _, err := store.PruneRemoteLoginFailures(ctx, w.d.Pool, w.d.Now().Add(-w.d.RemoteLogins.Window)); err != nil {
		return err
	}
	// The panel's throttles count over an hour at most: a day of sign-in
	// attempts and reset requests is kept, the rest would only grow.
	if _, err := store.PruneLoginAttempts(ctx, w.d.Pool, w.d.Now().Add(-throttleKeep)); err != nil {
		return err
	}
	if _, err := store.PruneResetRequests(ctx, w.d.Pool, w.d.Now().Add(-throttleKeep)); err != nil {
		return err
	}
	if _, err := store.PruneRemoteBackOffs(ctx, w.d.Pool, w.d.Now()); err != nil {
		return err
	}
	// A validation whose job is gone (discarded, cancelled by an operator)
	// would keep its passwords for ever: it turns red without them.
	stuck, err := store.StuckValidations(ctx, w.d.Pool, w.d.Now().Add(-stuckValidationAfter))
	if err != nil {
		return err
	}
	for _, v := range stuck {
		text := i18n.New("check.stuck")
		if ok, err := store.FailStuckValidation(ctx, w.d.Pool, v.TenantID, v.ID, text); err != nil {
			return err
		} else if ok {
			w.d.Logger.Warn("purge: validation without a job turned red", "tenant_id", v.TenantID, "migration_id", v.ID)
		}
	}
	return nil
}

// throttleKeep is how long the purge keeps the rows of the panel's login
// and password-reset throttles.
const throttleKeep = 24 * time.Hour

// stuckValidationAfter is how long a migration validates without a live
// validation job before the purge turns it red.
const stuckValidationAfter = time.Hour
