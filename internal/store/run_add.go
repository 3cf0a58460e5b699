package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LinePassword is a remote password given again for a line, sealed.
type LinePassword struct {
	LocalUser, RemoteHost, RemoteUser string
	RemotePasswordEnc                 []byte
}

// RefreshPasswords puts the passwords of a CSV uploaded again on the
// tenant's migration's valid lines with the same mailbox, remote host and
// remote user, and returns how many lines got one.
func RefreshPasswords(ctx context.Context, db DBTX, tenantID, migrationID int64, pws []LinePassword) (int, error) {
	n := 0
	for _, p := range pws {
		tag, err := db.Exec(ctx, `UPDATE migration_lines SET remote_password_enc = $6
			WHERE tenant_id = $1 AND migration_id = $2 AND status = 'ok' AND lower(local_user) = lower($3)
				AND remote_host = $4 AND remote_user = $5`,
			tenantID, migrationID, strings.TrimSpace(p.LocalUser), p.RemoteHost, p.RemoteUser, p.RemotePasswordEnc)
		if err != nil {
			return n, fmt.Errorf("refresh passwords: %w", err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// UsableLines counts the valid lines of the tenant's migration that can
// still log in to the old server: a password kept, or the master user's.
func UsableLines(ctx context.Context, db DBTX, tenantID, migrationID int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM migration_lines l JOIN migrations m ON m.id = l.migration_id AND m.tenant_id = l.tenant_id
		WHERE l.tenant_id = $1 AND l.migration_id = $2 AND l.status = 'ok'
			AND (l.remote_password_enc IS NOT NULL OR m.master_password_enc IS NOT NULL)`, tenantID, migrationID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("usable lines: %w", err)
	}
	return n, nil
}

// AddRun schedules another run after the last one of the tenant's ended
// migration (completed, with or without errors), numbered on, and turns
// the migration scheduled; the caller inserts its River job (SetRunJob) in
// tx. A migration not ended, or with MaxRuns runs, is ErrWrongState.
func AddRun(ctx context.Context, tx pgx.Tx, tenantID, migrationID int64, at time.Time) (Run, error) {
	m, err := LockMigration(ctx, tx, tenantID, migrationID)
	if err != nil {
		return Run{}, fmt.Errorf("add run: %w", err)
	}
	if m.Status != MigrationCompleted && m.Status != MigrationCompletedWithErrors {
		return Run{}, fmt.Errorf("add run: migration is %s: %w", m.Status, ErrWrongState)
	}
	var last int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(run_no), 0) FROM runs WHERE tenant_id = $1 AND migration_id = $2`,
		tenantID, migrationID).Scan(&last); err != nil {
		return Run{}, fmt.Errorf("add run: %w", err)
	}
	if last >= MaxRuns {
		return Run{}, fmt.Errorf("add run: %d runs already: %w", last, ErrWrongState)
	}
	r, err := CreateRun(ctx, tx, tenantID, NewRun{MigrationID: migrationID, RunNo: last + 1, ScheduledAt: at})
	if err != nil {
		return Run{}, fmt.Errorf("add run: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'scheduled', updated_at = now() WHERE tenant_id = $1 AND id = $2`,
		tenantID, migrationID); err != nil {
		return Run{}, fmt.Errorf("add run: %w", err)
	}
	return r, nil
}
