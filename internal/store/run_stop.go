package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RequestStop stops the running run of the tenant's migration: the run is
// marked to stop (the copy jobs see it, StopRequested, and end their
// mailboxes cancelled), the mailboxes not started yet are cancelled at
// once and so are the runs scheduled after it. It returns the run and the
// River job ids of the runs cancelled, for the caller to delete in the
// same tx; then EndRunIfDone ends the run if no mailbox is copying. A
// migration not running is ErrWrongState; a run that ended while the stop
// waited for it is ErrNotFound.
//
// It takes its locks in the workers' order — the pending mailbox runs, the
// run (whose counters a mailbox's change of state moves, migration 101),
// the migration — and checks the migration's state last: a worker ending
// the run's last mailbox holds the mailbox, then the run, then the
// migration, and the stop taking the migration first deadlocked with it
// (TestStopCollidesWithTheLastMailboxEnding).
func RequestStop(ctx context.Context, tx pgx.Tx, tenantID, migrationID int64) (Run, []int64, error) {
	var runID int64
	err := tx.QueryRow(ctx, `SELECT id FROM runs WHERE tenant_id = $1 AND migration_id = $2 AND status = 'running'`,
		tenantID, migrationID).Scan(&runID)
	if errors.Is(err, pgx.ErrNoRows) {
		m, err := GetMigration(ctx, tx, tenantID, migrationID)
		if err != nil {
			return Run{}, nil, fmt.Errorf("request stop: %w", err)
		}
		return Run{}, nil, fmt.Errorf("request stop: migration is %s: %w", m.Status, ErrWrongState)
	}
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	// A worker starting a pending mailbox holds its row, then the run's: wait
	// for it here, before taking the run's. Those it started stay running
	// and see the stop at their next checkpoint.
	rows, err := tx.Query(ctx, `SELECT id FROM mailbox_runs WHERE tenant_id = $1 AND run_id = $2 AND status = 'pending'
		ORDER BY id FOR UPDATE`, tenantID, runID)
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	pending, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE mailbox_runs SET status = 'cancelled', ended_at = now(), updated_at = now()
		WHERE tenant_id = $1 AND id = ANY($2) AND status = 'pending'`, tenantID, pending); err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	r, err := scanRun(tx.QueryRow(ctx, `UPDATE runs r SET stop_requested_at = COALESCE(stop_requested_at, now())
		WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'running'
		RETURNING `+runColumns, tenantID, runID))
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: running run: %w", notFound(err))
	}
	rows, err = tx.Query(ctx, `UPDATE runs SET status = 'cancelled', ended_at = now()
		WHERE tenant_id = $1 AND migration_id = $2 AND status = 'scheduled'
		RETURNING COALESCE(river_job_id, 0)`, tenantID, migrationID)
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	m, err := LockMigration(ctx, tx, tenantID, migrationID)
	if err != nil {
		return Run{}, nil, fmt.Errorf("request stop: %w", err)
	}
	if m.Status != MigrationRunning {
		return Run{}, nil, fmt.Errorf("request stop: migration is %s: %w", m.Status, ErrWrongState)
	}
	var jobIDs []int64
	for _, id := range ids {
		if id != 0 {
			jobIDs = append(jobIDs, id)
		}
	}
	return r, jobIDs, nil
}

// StopRequested reports whether the tenant's run has been asked to stop.
func StopRequested(ctx context.Context, db DBTX, tenantID, runID int64) (bool, error) {
	var stop bool
	err := db.QueryRow(ctx, `SELECT stop_requested_at IS NOT NULL FROM runs WHERE tenant_id = $1 AND id = $2`, tenantID, runID).Scan(&stop)
	if err != nil {
		return false, fmt.Errorf("stop requested: %w", notFound(err))
	}
	return stop, nil
}

// ReopenStoppedRun takes up again the stopped run of the tenant's
// migration ("Riprendi"): its cancelled mailboxes whose password (or the
// master user's) is still kept go back to pending, the run and the
// migration to running, and they are returned for their jobs. The copy goes
// on from the checkpoints, so only what is missing is copied. A migration
// whose last run was not stopped, or with nothing to resume, is
// ErrWrongState.
func ReopenStoppedRun(ctx context.Context, tx pgx.Tx, tenantID, migrationID int64) ([]MailboxRun, error) {
	m, err := LockMigration(ctx, tx, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	if m.Status != MigrationCancelled {
		return nil, fmt.Errorf("reopen stopped run: migration is %s: %w", m.Status, ErrWrongState)
	}
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r
		WHERE r.tenant_id = $1 AND r.migration_id = $2 AND r.status = 'cancelled' AND r.stop_requested_at IS NOT NULL
		ORDER BY r.run_no DESC LIMIT 1 FOR UPDATE`, tenantID, migrationID))
	if err != nil {
		return nil, fmt.Errorf("reopen stopped run: no stopped run: %w", ErrWrongState)
	}
	rows, err := tx.Query(ctx, `
		UPDATE mailbox_runs b SET status = 'pending', error_text = NULL, error_code = NULL, error_args = NULL, ended_at = NULL, attempts = 0, updated_at = now()
		FROM migration_lines l
		WHERE b.tenant_id = $1 AND b.run_id = $2 AND b.status = 'cancelled'
			AND l.id = b.line_id AND l.tenant_id = b.tenant_id
			AND (l.remote_password_enc IS NOT NULL OR $3)
		RETURNING b.id`, tenantID, r.ID, m.MasterPasswordEnc != nil)
	if err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("reopen stopped run: nothing to resume: %w", ErrWrongState)
	}
	if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'running', stop_requested_at = NULL, ended_at = NULL,
		email_sent_at = NULL, email_error = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, r.ID); err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'running', updated_at = now() WHERE tenant_id = $1 AND id = $2`, tenantID, migrationID); err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	ms, err := collectMailboxRuns(tx.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.id = ANY($2) ORDER BY l.line_no`, tenantID, ids))
	if err != nil {
		return nil, fmt.Errorf("reopen stopped run: %w", err)
	}
	return ms, nil
}
