package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
)

// MailboxStatus is where one mailbox is in one run.
type MailboxStatus string

// The statuses of a mailbox run.
const (
	MailboxPending             MailboxStatus = "pending"
	MailboxRunning             MailboxStatus = "running"
	MailboxCompleted           MailboxStatus = "completed"
	MailboxCompletedWithErrors MailboxStatus = "completed_with_errors" // some messages refused
	MailboxFailed              MailboxStatus = "failed"                // see ErrorText
	MailboxCancelled           MailboxStatus = "cancelled"
)

// Ended reports whether the status is final.
func (s MailboxStatus) Ended() bool {
	return s != MailboxPending && s != MailboxRunning
}

// MailboxCounters are the numbers of one mailbox in one run.
type MailboxCounters struct {
	Folders         int
	Found           int
	Copied          int
	AlreadyThere    int
	TooLarge        int
	Gone            int // expunged at the source during the copy
	ExcludedFolders int
	Failed          int
	FlagsUpdated    int
	Bytes           int64
	Done            int // messages dealt with so far
	Total           int // messages to deal with in the folders seen so far
}

// MailboxRun is one mailbox (migration line) in one run, with the line's
// and the run's identifying fields joined in.
type MailboxRun struct {
	ID       int64
	RunID    int64
	LineID   int64
	TenantID int64
	Status   MailboxStatus
	MailboxCounters
	CurrentFolder string
	Error         i18n.Msg // why it failed (or its last attempt did): see Reason
	ErrorText     string   // that reason as stored before codes; "" for a newer one
	Attempts      int
	StartedAt     *time.Time
	EndedAt       *time.Time
	UpdatedAt     time.Time

	// Verdict is the verification after the copy (#12).
	Verdict Verdict

	MigrationID int64
	RunNo       int
	LineNo      int
	LocalUser   string
	RemoteHost  string
	RemoteUser  string
}

// Duration is how long the mailbox took (so far, when still running).
func (m MailboxRun) Duration(now time.Time) time.Duration {
	if m.StartedAt == nil {
		return 0
	}
	end := now
	if m.EndedAt != nil {
		end = *m.EndedAt
	}
	return end.Sub(*m.StartedAt)
}

const mailboxRunFrom = ` FROM mailbox_runs b
	JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
	JOIN migration_lines l ON l.id = b.line_id AND l.tenant_id = b.tenant_id`

const mailboxRunColumns = `b.id, b.run_id, b.line_id, b.tenant_id, b.status, b.folders, b.found, b.copied,
	b.already_there, b.too_large, b.excluded_folders, b.failed, b.flags_updated, b.bytes, b.done, b.total, b.gone,
	COALESCE(b.current_folder, ''), COALESCE(b.error_text, ''), COALESCE(b.error_code, ''), b.error_args, b.attempts, b.started_at, b.ended_at, b.updated_at,
	b.verified, b.verify_expected, b.verify_missing, b.verify_duplicates, b.verify_deleted_by_customer,
	b.verify_excluded_copied, b.verify_flags_behind, b.verify_still_there,
	r.migration_id, r.run_no, l.line_no, l.local_user, l.remote_host, l.remote_user`

func scanMailboxRun(row pgx.Row) (MailboxRun, error) {
	var m MailboxRun
	var args []byte
	err := row.Scan(&m.ID, &m.RunID, &m.LineID, &m.TenantID, &m.Status, &m.Folders, &m.Found, &m.Copied,
		&m.AlreadyThere, &m.TooLarge, &m.ExcludedFolders, &m.Failed, &m.FlagsUpdated, &m.Bytes, &m.Done, &m.Total, &m.Gone,
		&m.CurrentFolder, &m.ErrorText, &m.Error.Code, &args, &m.Attempts, &m.StartedAt, &m.EndedAt, &m.UpdatedAt,
		&m.Verdict.Verified, &m.Verdict.Expected, &m.Verdict.Missing, &m.Verdict.Duplicates, &m.Verdict.DeletedByCustomer,
		&m.Verdict.ExcludedCopied, &m.Verdict.FlagsBehind, &m.Verdict.StillThere,
		&m.MigrationID, &m.RunNo, &m.LineNo, &m.LocalUser, &m.RemoteHost, &m.RemoteUser)
	if err != nil {
		return m, err
	}
	m.Error, err = reasonOf(m.Error.Code, args)
	return m, err
}

func collectMailboxRuns(rows pgx.Rows, err error) ([]MailboxRun, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MailboxRun, error) { return scanMailboxRun(r) })
}

// CreateMailboxRuns adds a pending mailbox run for every valid line of the
// run's migration, unless it exists already, and returns all of the run's
// mailbox runs in line order. Each keeps what its line's test login counted
// (preview_messages, unless partial): the total it shows until it starts.
func CreateMailboxRuns(ctx context.Context, db DBTX, tenantID, runID int64) ([]MailboxRun, error) {
	_, err := db.Exec(ctx, `
		INSERT INTO mailbox_runs (run_id, line_id, tenant_id, preview_messages)
		SELECT r.id, l.id, r.tenant_id,
			CASE WHEN NOT coalesce((l.preview->>'partial')::boolean, false) THEN (l.preview->>'messages')::int END
		FROM runs r
		JOIN migration_lines l ON l.migration_id = r.migration_id AND l.tenant_id = r.tenant_id
		WHERE r.tenant_id = $1 AND r.id = $2 AND l.status = 'ok'
		ON CONFLICT (run_id, line_id) DO NOTHING`, tenantID, runID)
	if err != nil {
		return nil, fmt.Errorf("create mailbox runs: %w", err)
	}
	return ListRunMailboxes(ctx, db, tenantID, runID)
}

// GetMailboxRun returns the tenant's mailbox run with the given id.
func GetMailboxRun(ctx context.Context, db DBTX, tenantID, id int64) (MailboxRun, error) {
	m, err := scanMailboxRun(db.QueryRow(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.id = $2`, tenantID, id))
	if err != nil {
		return MailboxRun{}, fmt.Errorf("get mailbox run: %w", notFound(err))
	}
	return m, nil
}

// LockMailboxRun returns the mailbox run locked FOR UPDATE in tx.
func LockMailboxRun(ctx context.Context, tx pgx.Tx, tenantID, id int64) (MailboxRun, error) {
	m, err := scanMailboxRun(tx.QueryRow(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.id = $2 FOR UPDATE OF b`, tenantID, id))
	if err != nil {
		return MailboxRun{}, fmt.Errorf("lock mailbox run: %w", notFound(err))
	}
	return m, nil
}

// ListRunMailboxes returns the mailbox runs of the tenant's run in line order.
func ListRunMailboxes(ctx context.Context, db DBTX, tenantID, runID int64) ([]MailboxRun, error) {
	ms, err := collectMailboxRuns(db.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.run_id = $2 ORDER BY l.line_no`, tenantID, runID))
	if err != nil {
		return nil, fmt.Errorf("list run mailboxes: %w", err)
	}
	return ms, nil
}

// ListMigrationMailboxes returns the mailbox runs of every run of the
// tenant's migration, by line then run.
func ListMigrationMailboxes(ctx context.Context, db DBTX, tenantID, migrationID int64) ([]MailboxRun, error) {
	ms, err := collectMailboxRuns(db.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND r.migration_id = $2 ORDER BY l.line_no, r.run_no`, tenantID, migrationID))
	if err != nil {
		return nil, fmt.Errorf("list migration mailboxes: %w", err)
	}
	return ms, nil
}

// OtherRunOfLine returns the mailbox run of the same line in the other run
// of its migration (run 1 for a run 2 mailbox and vice versa), or
// ErrNotFound when there is none.
func OtherRunOfLine(ctx context.Context, db DBTX, tenantID int64, m MailboxRun) (MailboxRun, error) {
	o, err := scanMailboxRun(db.QueryRow(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.line_id = $2 AND b.id <> $3 AND r.migration_id = $4`,
		tenantID, m.LineID, m.ID, m.MigrationID))
	if err != nil {
		return MailboxRun{}, fmt.Errorf("other run of line: %w", notFound(err))
	}
	return o, nil
}

// StartMailboxRun marks a pending or running mailbox run running for a new
// attempt: it stamps started_at the first time and counts the attempt. A
// mailbox run that has ended is ErrWrongState.
func StartMailboxRun(ctx context.Context, db DBTX, tenantID, id int64) (MailboxRun, error) {
	tag, err := db.Exec(ctx, `
		UPDATE mailbox_runs SET status = 'running', started_at = COALESCE(started_at, now()),
			attempts = attempts + 1, error_text = NULL, error_code = NULL, error_args = NULL, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'running')`, tenantID, id)
	if err != nil {
		return MailboxRun{}, fmt.Errorf("start mailbox run: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := GetMailboxRun(ctx, db, tenantID, id); err != nil {
			return MailboxRun{}, fmt.Errorf("start mailbox run: %w", err)
		}
		return MailboxRun{}, fmt.Errorf("start mailbox run: %w", ErrWrongState)
	}
	return GetMailboxRun(ctx, db, tenantID, id)
}

// SetMailboxProgress stores the live counters of a running mailbox run.
func SetMailboxProgress(ctx context.Context, db DBTX, tenantID, id int64, c MailboxCounters, folder string) error {
	_, err := db.Exec(ctx, `
		UPDATE mailbox_runs SET folders = $3, found = $4, copied = $5, already_there = $6, too_large = $7,
			excluded_folders = $8, failed = $9, flags_updated = $10, bytes = $11, done = $12, total = $13,
			current_folder = NULLIF($14, ''), gone = $15, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status = 'running'`,
		tenantID, id, c.Folders, c.Found, c.Copied, c.AlreadyThere, c.TooLarge, c.ExcludedFolders, c.Failed,
		c.FlagsUpdated, c.Bytes, c.Done, c.Total, folder, c.Gone)
	if err != nil {
		return fmt.Errorf("set mailbox progress: %w", err)
	}
	return nil
}

// SetMailboxError records the reason of a failed attempt on a mailbox run
// that is still going to be retried (it stays running; the panel shows it).
func SetMailboxError(ctx context.Context, db DBTX, tenantID, id int64, reason i18n.Msg) error {
	code, args := reasonSQL(reason)
	_, err := db.Exec(ctx, `UPDATE mailbox_runs SET error_text = NULL, error_code = $3, error_args = $4::jsonb, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, id, code, args)
	if err != nil {
		return fmt.Errorf("set mailbox error: %w", err)
	}
	return nil
}

// FinishMailboxRun ends a running (or pending) mailbox run with its final
// status, counters and, for a failure, the user-facing reason. It returns
// ErrWrongState when the mailbox run had ended already, so the caller can
// tell that it did not end it.
func FinishMailboxRun(ctx context.Context, db DBTX, tenantID, id int64, to MailboxStatus, c MailboxCounters, reason i18n.Msg) error {
	if !to.Ended() {
		return fmt.Errorf("finish mailbox run: %w", invalidf("status %s is not final", to))
	}
	code, args := reasonSQL(reason)
	tag, err := db.Exec(ctx, `
		UPDATE mailbox_runs SET status = $3, folders = $4, found = $5, copied = $6, already_there = $7,
			too_large = $8, excluded_folders = $9, failed = $10, flags_updated = $11, bytes = $12,
			done = $13, total = $14, current_folder = NULL, error_text = NULL, error_code = $15, error_args = $17::jsonb, gone = $16,
			started_at = COALESCE(started_at, now()), ended_at = now(), updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'running')`,
		tenantID, id, to, c.Folders, c.Found, c.Copied, c.AlreadyThere, c.TooLarge, c.ExcludedFolders, c.Failed,
		c.FlagsUpdated, c.Bytes, c.Done, c.Total, code, c.Gone, args)
	if err != nil {
		return fmt.Errorf("finish mailbox run: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := GetMailboxRun(ctx, db, tenantID, id); err != nil {
			return fmt.Errorf("finish mailbox run: %w", err)
		}
		return fmt.Errorf("finish mailbox run: %w", ErrWrongState)
	}
	return nil
}

// StartRun marks a scheduled run running (stamping started_at) and the
// migration running. It returns ErrWrongState when the run is not
// scheduled or running (cancelled, or ended).
func StartRun(ctx context.Context, tx pgx.Tx, tenantID, runID int64) (Run, error) {
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE`, tenantID, runID))
	if err != nil {
		return Run{}, fmt.Errorf("start run: %w", notFound(err))
	}
	if r.Status != RunScheduled && r.Status != RunRunning {
		return r, fmt.Errorf("start run: run is %s: %w", r.Status, ErrWrongState)
	}
	if err := SetRunStatus(ctx, tx, tenantID, runID, RunRunning); err != nil {
		return Run{}, fmt.Errorf("start run: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'running', updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status IN ('scheduled', 'running')`, tenantID, r.MigrationID); err != nil {
		return Run{}, fmt.Errorf("start run: %w", err)
	}
	return GetRun(ctx, tx, tenantID, runID)
}

// EndRunIfDone ends a running run whose mailbox runs have all ended:
// completed when every mailbox completed, completed_with_errors otherwise.
// It returns ended=true only to the one caller that ended it (the run row
// is locked), so whatever follows the end happens once. When the run was
// the migration's last, the migration ends too (last=true); otherwise the
// migration goes back to scheduled until its next run.
func EndRunIfDone(ctx context.Context, tx pgx.Tx, tenantID, runID int64) (r Run, ended, last bool, err error) {
	r, err = scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE`, tenantID, runID))
	if err != nil {
		return Run{}, false, false, fmt.Errorf("end run: %w", notFound(err))
	}
	if r.Status != RunRunning {
		return r, false, false, nil
	}
	var open, bad int
	if err := tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status IN ('pending', 'running')),
		       count(*) FILTER (WHERE status NOT IN ('pending', 'running', 'completed'))
		FROM mailbox_runs WHERE tenant_id = $1 AND run_id = $2`, tenantID, runID).Scan(&open, &bad); err != nil {
		return r, false, false, fmt.Errorf("end run: %w", err)
	}
	if open > 0 {
		return r, false, false, nil
	}
	to := RunCompleted
	if bad > 0 {
		to = RunCompletedWithErrors
	}
	// A run stopped on request ends cancelled, with what it copied; the
	// runs after it were cancelled when the stop was asked.
	var stopped bool
	if err := tx.QueryRow(ctx, `SELECT stop_requested_at IS NOT NULL FROM runs WHERE tenant_id = $1 AND id = $2`,
		tenantID, runID).Scan(&stopped); err != nil {
		return r, false, false, fmt.Errorf("end run: %w", err)
	}
	if stopped {
		to = RunCancelled
	}
	if err := SetRunStatus(ctx, tx, tenantID, runID, to); err != nil {
		return r, false, false, fmt.Errorf("end run: %w", err)
	}
	var later int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM runs WHERE tenant_id = $1 AND migration_id = $2
		AND status IN ('scheduled', 'running')`, tenantID, r.MigrationID).Scan(&later); err != nil {
		return r, false, false, fmt.Errorf("end run: %w", err)
	}
	last = later == 0
	var mstatus MigrationStatus
	switch {
	case stopped:
		mstatus = MigrationCancelled
	case !last:
		mstatus = MigrationScheduled
	default:
		// The migration's outcome is the worst of its runs'.
		var worse int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM runs WHERE tenant_id = $1 AND migration_id = $2
			AND status = 'completed_with_errors'`, tenantID, r.MigrationID).Scan(&worse); err != nil {
			return r, false, false, fmt.Errorf("end run: %w", err)
		}
		mstatus = MigrationCompleted
		if worse > 0 {
			mstatus = MigrationCompletedWithErrors
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET status = $3, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status = 'running'`, tenantID, r.MigrationID, mstatus); err != nil {
		return r, false, false, fmt.Errorf("end run: %w", err)
	}
	r, err = GetRun(ctx, tx, tenantID, runID)
	return r, err == nil, last, err
}

// Retryable reports whether "Riprova" can copy the mailbox again: it
// failed, or it completed with messages that failed (the old server did not
// deliver them, ours refused them), or its verification found messages
// missing, twice or with flags behind at the destination. Its password is kept for that.
func (b MailboxRun) Retryable() bool {
	return b.Status == MailboxFailed || b.Status == MailboxCompletedWithErrors && (b.Failed > 0 || b.Verdict.Repairable())
}

// ReopenFailedMailboxes puts the retryable mailbox runs (see
// MailboxRun.Retryable) of an ended run back to pending for another try,
// with a time budget of their own (started_at is cleared), reopens the run
// (clearing its email record, so a new email reports the retry) and the
// migration, and returns the reopened mailbox runs. Nothing failed is
// ErrWrongState.
func ReopenFailedMailboxes(ctx context.Context, tx pgx.Tx, tenantID, runID int64) ([]MailboxRun, error) {
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE`, tenantID, runID))
	if err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", notFound(err))
	}
	if r.Status != RunCompletedWithErrors {
		return nil, fmt.Errorf("reopen failed mailboxes: run is %s: %w", r.Status, ErrWrongState)
	}
	rows, err := tx.Query(ctx, `
		UPDATE mailbox_runs b SET status = 'pending', error_text = NULL, error_code = NULL, error_args = NULL, started_at = NULL, ended_at = NULL, attempts = 0, updated_at = now()
		FROM migration_lines l
		WHERE b.tenant_id = $1 AND b.run_id = $2 AND (b.status = 'failed' OR b.status = 'completed_with_errors' AND (b.failed > 0 OR b.verify_missing > 0 OR b.verify_duplicates > 0 OR b.verify_flags_behind > 0))
			AND l.id = b.line_id AND l.tenant_id = b.tenant_id
			AND (l.remote_password_enc IS NOT NULL OR EXISTS (
				SELECT 1 FROM migrations m WHERE m.id = l.migration_id AND m.tenant_id = l.tenant_id AND m.master_password_enc IS NOT NULL))
		RETURNING b.id`, tenantID, runID)
	if err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("reopen failed mailboxes: no failed mailbox can be retried: %w", ErrWrongState)
	}
	if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'running', ended_at = NULL, email_sent_at = NULL, email_error = NULL
		WHERE tenant_id = $1 AND id = $2`, tenantID, runID); err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'running', updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, r.MigrationID); err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", err)
	}
	ms, err := collectMailboxRuns(tx.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND b.id = ANY($2) ORDER BY l.line_no`, tenantID, ids))
	if err != nil {
		return nil, fmt.Errorf("reopen failed mailboxes: %w", err)
	}
	return ms, nil
}

// EraseFinishedPasswords erases the sealed passwords a migration's runs no
// longer need: every line's whose mailbox is not retryable after its last
// run (see MailboxRun.Retryable) or was stopped (those stay, so "Riprova le
// caselle fallite" and "Riprendi" can copy them again, until ErasePasswords
// or PurgeStalePasswords), and the master user's when no
// line still needs it.
func EraseFinishedPasswords(ctx context.Context, db DBTX, tenantID, migrationID int64) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE migration_lines l SET remote_password_enc = NULL
			WHERE l.tenant_id = $1 AND l.migration_id = $2 AND NOT EXISTS (
				SELECT 1 FROM mailbox_runs b JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
				WHERE b.tenant_id = l.tenant_id AND b.line_id = l.id AND (b.status IN ('failed', 'cancelled') OR b.status = 'completed_with_errors' AND (b.failed > 0 OR b.verify_missing > 0 OR b.verify_duplicates > 0 OR b.verify_flags_behind > 0))
					AND r.run_no = (SELECT max(r2.run_no) FROM runs r2 WHERE r2.tenant_id = r.tenant_id
						AND r2.migration_id = r.migration_id AND (r2.status <> 'cancelled' OR r2.stop_requested_at IS NOT NULL)))`, tenantID, migrationID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE migrations m SET master_password_enc = NULL, updated_at = now()
			WHERE m.tenant_id = $1 AND m.id = $2 AND m.master_password_enc IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM mailbox_runs b JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
				WHERE r.tenant_id = m.tenant_id AND r.migration_id = m.id AND (b.status IN ('failed', 'cancelled') OR b.status = 'completed_with_errors' AND (b.failed > 0 OR b.verify_missing > 0 OR b.verify_duplicates > 0 OR b.verify_flags_behind > 0))
					AND r.run_no = (SELECT max(r2.run_no) FROM runs r2 WHERE r2.tenant_id = r.tenant_id
						AND r2.migration_id = r.migration_id AND (r2.status <> 'cancelled' OR r2.stop_requested_at IS NOT NULL)))`, tenantID, migrationID)
		return err
	})
	if err != nil {
		return fmt.Errorf("erase finished passwords: %w", err)
	}
	return nil
}

// PurgeStalePasswords erases every sealed password of migrations that
// ended (or were cancelled) before the given time, across all tenants: the
// operator's periodic clean-up of what failed mailboxes kept for a retry.
// It returns the number of migrations purged.
func PurgeStalePasswords(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE migration_lines l SET remote_password_enc = NULL FROM migrations m
			WHERE m.id = l.migration_id AND m.tenant_id = l.tenant_id AND l.remote_password_enc IS NOT NULL
				AND m.status IN ('completed', 'completed_with_errors', 'cancelled', 'red') AND m.updated_at < $1`, before); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE migrations SET master_password_enc = NULL
			WHERE master_password_enc IS NOT NULL AND status IN ('completed', 'completed_with_errors', 'cancelled', 'red')
				AND updated_at < $1`, before)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge stale passwords: %w", err)
	}
	return n, nil
}
