package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
)

// MigrationStatus is where a migration is in its life.
type MigrationStatus string

// The statuses of a migration.
const (
	MigrationValidating          MigrationStatus = "validating"            // lines being checked
	MigrationRed                 MigrationStatus = "red"                   // some line failed; nothing scheduled
	MigrationScheduled           MigrationStatus = "scheduled"             // every line passed; runs scheduled (blue)
	MigrationRunning             MigrationStatus = "running"               // a run is copying
	MigrationCompleted           MigrationStatus = "completed"             // the last run ended without errors
	MigrationCompletedWithErrors MigrationStatus = "completed_with_errors" // the last run ended, some mailbox failed
	MigrationCancelled           MigrationStatus = "cancelled"             // cancelled before it started
)

// MaxSecondRunDelay is how long after the first run the second may start.
const MaxSecondRunDelay = 23 * time.Hour

// Migration is one uploaded CSV with its schedule.
type Migration struct {
	ID                int64
	TenantID          int64
	Name              string
	Preset            string // remote server type (transfer's preset name)
	Status            MigrationStatus
	InsecureTLS       bool   // accept the remote server's self-signed certificate
	MasterUser        string // remote master user, "" when none
	MasterPasswordEnc []byte // sealed by internal/secret; nil when none or erased
	FirstRunAt        time.Time
	SecondRunAt       *time.Time // nil: no second run
	Error             i18n.Msg   // a problem with the upload as a whole, shown when red: see Reason
	ErrorText         string     // that problem as stored before codes; "" for a newer one
	LineCount         int
	ValidatedCount    int // lines checked so far
	FailedCount       int // lines that failed
	CreatedBy         int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NewMigration is what CreateMigration needs.
type NewMigration struct {
	Name              string
	Preset            string
	Status            MigrationStatus // default MigrationValidating
	InsecureTLS       bool
	MasterUser        string
	MasterPasswordEnc []byte
	FirstRunAt        time.Time
	SecondRunAt       *time.Time
	Error             i18n.Msg // a problem with the file as a whole (the migration is then red)
	CreatedBy         int64    // user id; 0 when unknown
	Lines             []NewLine
}

const migrationColumns = `m.id, m.tenant_id, m.name, m.preset, m.status, m.insecure_tls, COALESCE(m.master_user, ''),
	m.master_password_enc, m.first_run_at, m.second_run_at, COALESCE(m.error_text, ''), COALESCE(m.error_code, ''), m.error_args, m.line_count,
	m.validated_count, m.failed_count, COALESCE(m.created_by, 0), m.created_at, m.updated_at`

func scanMigration(row pgx.Row) (Migration, error) {
	var m Migration
	err := scanMigrationInto(row, &m)
	return m, err
}

// scanMigrationInto scans migrationColumns into m, then extra columns.
func scanMigrationInto(row pgx.Row, m *Migration, extra ...any) error {
	var args []byte
	err := row.Scan(append([]any{&m.ID, &m.TenantID, &m.Name, &m.Preset, &m.Status, &m.InsecureTLS, &m.MasterUser,
		&m.MasterPasswordEnc, &m.FirstRunAt, &m.SecondRunAt, &m.ErrorText, &m.Error.Code, &args, &m.LineCount,
		&m.ValidatedCount, &m.FailedCount, &m.CreatedBy, &m.CreatedAt, &m.UpdatedAt}, extra...)...)
	if err != nil {
		return err
	}
	m.Error, err = reasonOf(m.Error.Code, args)
	return err
}

func checkSchedule(first time.Time, second *time.Time) error {
	if first.IsZero() {
		return invalidf("no first run time")
	}
	if second != nil && (!second.After(first) || second.Sub(first) > MaxSecondRunDelay) {
		return invalidf("second run must be after the first and at most 23 hours after it")
	}
	return nil
}

// CreateMigration stores a migration and its lines in one transaction.
// Lines with Status LineFailed count as validated and failed already.
func CreateMigration(ctx context.Context, db DBTX, tenantID int64, nm NewMigration) (Migration, error) {
	if strings.TrimSpace(nm.Name) == "" {
		return Migration{}, fmt.Errorf("create migration: %w", invalidf("empty name"))
	}
	if nm.Preset == "" {
		return Migration{}, fmt.Errorf("create migration: %w", invalidf("no preset"))
	}
	if err := checkSchedule(nm.FirstRunAt, nm.SecondRunAt); err != nil {
		return Migration{}, fmt.Errorf("create migration: %w", err)
	}
	if nm.Status == "" {
		nm.Status = MigrationValidating
	}
	var m Migration
	code, args := reasonSQL(nm.Error)
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO migrations (tenant_id, name, preset, status, insecure_tls, master_user, master_password_enc,
				first_run_at, second_run_at, error_code, error_args, created_by)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9, $10, $12::jsonb, NULLIF($11, 0::bigint))
			RETURNING id`,
			tenantID, strings.TrimSpace(nm.Name), nm.Preset, nm.Status, nm.InsecureTLS, nm.MasterUser, nm.MasterPasswordEnc,
			nm.FirstRunAt, nm.SecondRunAt, code, nm.CreatedBy, args).Scan(&id)
		if err != nil {
			return err
		}
		if err := insertLines(ctx, tx, tenantID, id, nm.Lines); err != nil {
			return err
		}
		m, err = scanMigration(tx.QueryRow(ctx, `SELECT `+migrationColumns+` FROM migrations m WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id))
		return err
	})
	if err != nil {
		return Migration{}, fmt.Errorf("create migration: %w", err)
	}
	return m, nil
}

// GetMigration returns the tenant's migration with the given id.
func GetMigration(ctx context.Context, db DBTX, tenantID, id int64) (Migration, error) {
	m, err := scanMigration(db.QueryRow(ctx, `SELECT `+migrationColumns+` FROM migrations m WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id))
	if err != nil {
		return Migration{}, fmt.Errorf("get migration: %w", notFound(err))
	}
	return m, nil
}

// LockMigration is GetMigration that also locks the row until tx ends, so
// concurrent status changes (validation finishing, a cancel) take turns.
func LockMigration(ctx context.Context, tx pgx.Tx, tenantID, id int64) (Migration, error) {
	m, err := scanMigration(tx.QueryRow(ctx, `SELECT `+migrationColumns+` FROM migrations m WHERE m.tenant_id = $1 AND m.id = $2 FOR UPDATE`, tenantID, id))
	if err != nil {
		return Migration{}, fmt.Errorf("lock migration: %w", notFound(err))
	}
	return m, nil
}

// ListMigrations returns the tenant's migrations, newest first.
func ListMigrations(ctx context.Context, db DBTX, tenantID int64) ([]Migration, error) {
	rows, err := db.Query(ctx, `SELECT `+migrationColumns+` FROM migrations m WHERE m.tenant_id = $1 ORDER BY m.created_at DESC, m.id DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Migration, error) { return scanMigration(r) })
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return ms, nil
}

// SetMigrationStatus moves the tenant's migration to status `to`, but only
// from one of the statuses in from (any status when from is empty). It
// returns ErrNotFound for a migration the tenant doesn't have and
// ErrWrongState when the current status is not in from.
func SetMigrationStatus(ctx context.Context, db DBTX, tenantID, id int64, to MigrationStatus, from ...MigrationStatus) error {
	var fromArg []string
	for _, f := range from {
		fromArg = append(fromArg, string(f))
	}
	tag, err := db.Exec(ctx, `
		UPDATE migrations SET status = $3, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND ($4::text[] IS NULL OR status = ANY($4))`,
		tenantID, id, to, fromArg)
	if err != nil {
		return fmt.Errorf("set migration status: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set migration status: %w", missingOrWrongState(ctx, db, tenantID, id))
	}
	return nil
}

// SetMigrationError records a problem with the upload as a whole and turns
// the migration red, erasing its lines' passwords (see EraseLinePasswords).
func SetMigrationError(ctx context.Context, db DBTX, tenantID, id int64, reason i18n.Msg) error {
	code, args := reasonSQL(reason)
	tag, err := db.Exec(ctx, `UPDATE migrations SET status = 'red', error_text = NULL, error_code = $3, error_args = $4::jsonb, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, id, code, args)
	if err != nil {
		return fmt.Errorf("set migration error: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set migration error: %w", ErrNotFound)
	}
	if err := EraseLinePasswords(ctx, db, tenantID, id); err != nil {
		return fmt.Errorf("set migration error: %w", err)
	}
	return nil
}

// EraseLinePasswords deletes the sealed password of every line of the
// migration. A red migration needs none: its lines are only ever replaced
// by a corrected CSV, which brings its own. (The master user's password
// stays while it is red: the corrected CSV does not bring that one.)
func EraseLinePasswords(ctx context.Context, db DBTX, tenantID, id int64) error {
	if _, err := db.Exec(ctx, `UPDATE migration_lines SET remote_password_enc = NULL
		WHERE tenant_id = $1 AND migration_id = $2 AND remote_password_enc IS NOT NULL`, tenantID, id); err != nil {
		return fmt.Errorf("erase line passwords: %w", err)
	}
	return nil
}

// CancelMigration cancels a migration that has not started (validating, red
// or scheduled) together with its scheduled runs, erases its passwords (the
// master user's and every line's: no run will need them), and returns the
// River job ids of those runs so the caller can remove the jobs (in the
// same tx).
func CancelMigration(ctx context.Context, db DBTX, tenantID, id int64) (riverJobIDs []int64, err error) {
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		m, err := LockMigration(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		switch m.Status {
		case MigrationValidating, MigrationRed, MigrationScheduled:
		default:
			return fmt.Errorf("migration is %s: %w", m.Status, ErrWrongState)
		}
		if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'cancelled', master_password_enc = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		if err := EraseLinePasswords(ctx, tx, tenantID, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE runs SET status = 'cancelled', ended_at = now()
			WHERE tenant_id = $1 AND migration_id = $2 AND status = 'scheduled'
			RETURNING river_job_id`, tenantID, id)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[*int64])
		if err != nil {
			return err
		}
		for _, j := range ids {
			if j != nil {
				riverJobIDs = append(riverJobIDs, *j)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancel migration: %w", err)
	}
	return riverJobIDs, nil
}

// ErasePasswords deletes every sealed password of the migration (the
// master user's and each line's); called when its last run is done.
func ErasePasswords(ctx context.Context, db DBTX, tenantID, id int64) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE migrations SET master_password_enc = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE migration_lines SET remote_password_enc = NULL WHERE tenant_id = $1 AND migration_id = $2`, tenantID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("erase passwords: %w", err)
	}
	return nil
}

func missingOrWrongState(ctx context.Context, db DBTX, tenantID, id int64) error {
	var status string
	err := db.QueryRow(ctx, `SELECT status FROM migrations WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&status)
	if err != nil {
		return notFound(err)
	}
	return fmt.Errorf("migration is %s: %w", status, ErrWrongState)
}

// TenantMigration is a migration with the name of its tenant, for the
// operators' list of every tenant's migrations.
type TenantMigration struct {
	Migration
	TenantName string
}

// ListAllMigrations returns every tenant's migrations, newest first, with
// their tenant's name: for operators only (users.operator), never for a
// customer's page.
func ListAllMigrations(ctx context.Context, db DBTX) ([]TenantMigration, error) {
	rows, err := db.Query(ctx, `SELECT `+migrationColumns+`, t.name FROM migrations m JOIN tenants t ON t.id = m.tenant_id
		ORDER BY m.created_at DESC, m.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list all migrations: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TenantMigration, error) {
		var tm TenantMigration
		err := scanMigrationInto(r, &tm.Migration, &tm.TenantName)
		return tm, err
	})
	if err != nil {
		return nil, fmt.Errorf("list all migrations: %w", err)
	}
	return ms, nil
}

// MigrationTenantID returns the id of the tenant a migration belongs to,
// whatever the tenant: for operators only, who may open any tenant's
// migration.
func MigrationTenantID(ctx context.Context, db DBTX, id int64) (int64, error) {
	var tenantID int64
	if err := db.QueryRow(ctx, `SELECT tenant_id FROM migrations WHERE id = $1`, id).Scan(&tenantID); err != nil {
		return 0, fmt.Errorf("migration tenant: %w", notFound(err))
	}
	return tenantID, nil
}

// CountMigrationsCreatedWithin counts the tenant's migrations created in
// the last d (by the database's clock), whatever became of them.
func CountMigrationsCreatedWithin(ctx context.Context, db DBTX, tenantID int64, d time.Duration) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM migrations WHERE tenant_id = $1 AND created_at >= now() - make_interval(secs => $2)`,
		tenantID, d.Seconds()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count migrations: %w", err)
	}
	return n, nil
}

// StuckValidation is a migration left validating with no validation job
// that may still run (discarded, or cancelled by an operator).
type StuckValidation struct {
	TenantID, ID int64
	Language     string // the tenant's, for the error text
}

// StuckValidations lists, across tenants (for the purge job only), the
// migrations validating since before before with no live
// validate_migration job.
func StuckValidations(ctx context.Context, db DBTX, before time.Time) ([]StuckValidation, error) {
	rows, err := db.Query(ctx, `
		SELECT m.tenant_id, m.id, t.language FROM migrations m JOIN tenants t ON t.id = m.tenant_id
		WHERE m.status = 'validating' AND m.updated_at < $1
			AND NOT EXISTS (SELECT 1 FROM river_job j
				WHERE j.kind = 'validate_migration' AND j.args->>'migration_id' = m.id::text AND j.args->>'tenant_id' = m.tenant_id::text
					AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))
		ORDER BY m.id`, before)
	if err != nil {
		return nil, fmt.Errorf("stuck validations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StuckValidation, error) {
		var v StuckValidation
		err := r.Scan(&v.TenantID, &v.ID, &v.Language)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("stuck validations: %w", err)
	}
	return out, nil
}

// FailStuckValidation turns a migration that is still validating red
// with reason, erasing its lines' passwords; false when it no longer
// validates.
func FailStuckValidation(ctx context.Context, db DBTX, tenantID, id int64, reason i18n.Msg) (bool, error) {
	var done bool
	code, args := reasonSQL(reason)
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE migrations SET status = 'red', error_text = NULL, error_code = $3, error_args = $4::jsonb, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND status = 'validating'`, tenantID, id, code, args)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		done = true
		return EraseLinePasswords(ctx, tx, tenantID, id)
	})
	if err != nil {
		return false, fmt.Errorf("fail stuck validation: %w", err)
	}
	return done, nil
}
