package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunStatus is where a run is in its life.
type RunStatus string

// The statuses of a run.
const (
	RunScheduled           RunStatus = "scheduled"
	RunRunning             RunStatus = "running"
	RunCompleted           RunStatus = "completed"
	RunCompletedWithErrors RunStatus = "completed_with_errors"
	RunCancelled           RunStatus = "cancelled"
)

// Run is run 1 (the copy) or run 2 (what arrived since) of a migration.
type Run struct {
	ID          int64
	MigrationID int64
	TenantID    int64
	RunNo       int // 1 or 2
	Status      RunStatus
	ScheduledAt time.Time
	StartedAt   *time.Time
	EndedAt     *time.Time
	RiverJobID  int64 // the job that starts the run; 0 when none yet
	EmailSentAt *time.Time
	EmailError  string
	CreatedAt   time.Time
}

// NewRun is what CreateRun needs.
type NewRun struct {
	MigrationID int64
	RunNo       int
	ScheduledAt time.Time
	RiverJobID  int64 // 0 when the job is inserted afterwards (see SetRunJob)
}

const runColumns = `r.id, r.migration_id, r.tenant_id, r.run_no, r.status, r.scheduled_at, r.started_at, r.ended_at,
	COALESCE(r.river_job_id, 0), r.email_sent_at, COALESCE(r.email_error, ''), r.created_at`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.MigrationID, &r.TenantID, &r.RunNo, &r.Status, &r.ScheduledAt, &r.StartedAt, &r.EndedAt,
		&r.RiverJobID, &r.EmailSentAt, &r.EmailError, &r.CreatedAt)
	return r, err
}

// MaxRuns is the most runs a migration has: run 1, run 2 and the runs
// added after the last one.
const MaxRuns = 20

// CreateRun adds a scheduled run to the tenant's migration.
func CreateRun(ctx context.Context, db DBTX, tenantID int64, nr NewRun) (Run, error) {
	if nr.RunNo < 1 || nr.RunNo > MaxRuns {
		return Run{}, fmt.Errorf("create run: %w", invalidf("run number %d", nr.RunNo))
	}
	r, err := scanRun(db.QueryRow(ctx, `
		INSERT INTO runs (migration_id, tenant_id, run_no, scheduled_at, river_job_id)
		SELECT m.id, m.tenant_id, $3, $4, NULLIF($5, 0::bigint) FROM migrations m WHERE m.tenant_id = $1 AND m.id = $2
		RETURNING id, migration_id, tenant_id, run_no, status, scheduled_at, started_at, ended_at,
			COALESCE(river_job_id, 0), email_sent_at, COALESCE(email_error, ''), created_at`,
		tenantID, nr.MigrationID, nr.RunNo, nr.ScheduledAt, nr.RiverJobID))
	if err != nil {
		if _, ok := uniqueViolation(err); ok {
			return Run{}, fmt.Errorf("create run: run %d %w", nr.RunNo, ErrAlreadyExists)
		}
		return Run{}, fmt.Errorf("create run: migration: %w", notFound(err))
	}
	return r, nil
}

// GetRun returns the tenant's run with the given id.
func GetRun(ctx context.Context, db DBTX, tenantID, id int64) (Run, error) {
	r, err := scanRun(db.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.id = $2`, tenantID, id))
	if err != nil {
		return Run{}, fmt.Errorf("get run: %w", notFound(err))
	}
	return r, nil
}

// ListRuns returns the runs of the tenant's migration, run 1 first.
func ListRuns(ctx context.Context, db DBTX, tenantID, migrationID int64) ([]Run, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.migration_id = $2 ORDER BY r.run_no`, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) { return scanRun(r) })
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return rs, nil
}

// SetRunJob records the River job that starts the run.
func SetRunJob(ctx context.Context, db DBTX, tenantID, runID, riverJobID int64) error {
	tag, err := db.Exec(ctx, `UPDATE runs SET river_job_id = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, runID, riverJobID)
	if err != nil {
		return fmt.Errorf("set run job: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set run job: %w", ErrNotFound)
	}
	return nil
}

// SetRunStatus moves the tenant's run to status `to`, stamping started_at
// when it starts running and ended_at when it ends.
func SetRunStatus(ctx context.Context, db DBTX, tenantID, runID int64, to RunStatus) error {
	tag, err := db.Exec(ctx, `
		UPDATE runs SET status = $3,
			started_at = CASE WHEN $3 = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
			ended_at = CASE WHEN $3 IN ('completed', 'completed_with_errors', 'cancelled') THEN now() ELSE ended_at END
		WHERE tenant_id = $1 AND id = $2`, tenantID, runID, to)
	if err != nil {
		return fmt.Errorf("set run status: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set run status: %w", ErrNotFound)
	}
	return nil
}

// SetRunEmail records the outcome of the completion email: sent (emailErr
// nil) or the error.
func SetRunEmail(ctx context.Context, db DBTX, tenantID, runID int64, emailErr error) error {
	var text string
	if emailErr != nil {
		text = emailErr.Error()
	}
	tag, err := db.Exec(ctx, `
		UPDATE runs SET email_sent_at = CASE WHEN $3 = '' THEN now() END, email_error = NULLIF($3, '')
		WHERE tenant_id = $1 AND id = $2`, tenantID, runID, text)
	if err != nil {
		return fmt.Errorf("set run email: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set run email: %w", ErrNotFound)
	}
	return nil
}

// LockRun returns the tenant's run locked FOR UPDATE in tx.
func LockRun(ctx context.Context, tx pgx.Tx, tenantID, id int64) (Run, error) {
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE`, tenantID, id))
	if err != nil {
		return Run{}, fmt.Errorf("lock run: %w", notFound(err))
	}
	return r, nil
}
