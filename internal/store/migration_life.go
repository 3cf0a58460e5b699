package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changeable reports whether a migration's settings, schedule and
// mailboxes may still be changed: red, or scheduled with no run started
// (the caller checks the runs with NotStarted).
func (m Migration) Changeable() bool {
	return m.Status == MigrationRed || m.Status == MigrationScheduled
}

// Deletable reports whether a migration may be deleted with everything it
// owns: once nothing of it can run any more.
func (m Migration) Deletable() bool {
	switch m.Status {
	case MigrationRed, MigrationCancelled, MigrationCompleted, MigrationCompletedWithErrors:
		return true
	}
	return false
}

// NotStarted reports whether none of runs has started.
func NotStarted(runs []Run) bool {
	for _, r := range runs {
		if r.Status != RunScheduled || r.StartedAt != nil {
			return false
		}
	}
	return true
}

// LockChangeable locks the tenant's migration (see LockMigration) for a
// change while nothing of it has run, and returns it with its runs:
// ErrWrongState unless it is Changeable and NotStarted.
func LockChangeable(ctx context.Context, tx pgx.Tx, tenantID, id int64) (Migration, []Run, error) {
	m, err := LockMigration(ctx, tx, tenantID, id)
	if err != nil {
		return Migration{}, nil, err
	}
	if !m.Changeable() {
		return Migration{}, nil, ErrWrongState
	}
	runs, err := ListRuns(ctx, tx, tenantID, id)
	if err != nil {
		return Migration{}, nil, err
	}
	if !NotStarted(runs) {
		return Migration{}, nil, ErrWrongState
	}
	return m, runs, nil
}

// MigrationSettings are what a migration not yet started may change.
type MigrationSettings struct {
	Name              string
	Preset            string
	InsecureTLS       bool
	MasterUser        string // "" for none
	MasterPasswordEnc []byte // nil with no master user
	FirstRunAt        time.Time
	SecondRunAt       *time.Time
}

// SetMigrationSettings stores the settings and schedule of the tenant's
// migration, which the caller has locked and checked (Changeable). The
// upload's own error stays: Revalidate clears it when the lines are
// checked again.
func SetMigrationSettings(ctx context.Context, db DBTX, tenantID, id int64, st MigrationSettings) error {
	if strings.TrimSpace(st.Name) == "" {
		return fmt.Errorf("set migration settings: %w", invalidf("empty name"))
	}
	if err := checkSchedule(st.FirstRunAt, st.SecondRunAt); err != nil {
		return fmt.Errorf("set migration settings: %w", err)
	}
	tag, err := db.Exec(ctx, `
		UPDATE migrations SET name = $3, preset = $4, insecure_tls = $5, master_user = NULLIF($6, ''),
			master_password_enc = $7, first_run_at = $8, second_run_at = $9, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, strings.TrimSpace(st.Name), st.Preset, st.InsecureTLS, st.MasterUser, st.MasterPasswordEnc, st.FirstRunAt, st.SecondRunAt)
	if err != nil {
		return fmt.Errorf("set migration settings: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set migration settings: %w", ErrNotFound)
	}
	return nil
}

// Revalidate sends the tenant's migration back to validating: every line
// that was checked (not one refused for its format) is pending again, the
// upload's error is cleared. The caller removes the runs not yet started
// (DeleteScheduledRuns) and inserts the validation job, in the same tx.
func Revalidate(ctx context.Context, db DBTX, tenantID, id int64) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE migration_lines SET status = 'pending', error_text = NULL, error_code = NULL, error_args = NULL, pinned_addr = NULL, validated_at = NULL
			WHERE tenant_id = $1 AND migration_id = $2 AND NOT refused`, tenantID, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE migrations SET status = 'validating', error_text = NULL, error_code = NULL, error_args = NULL, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return recountLines(ctx, tx, tenantID, id)
	})
	if err != nil {
		return fmt.Errorf("revalidate: %w", err)
	}
	return nil
}

// DeleteScheduledRuns deletes the runs of the tenant's migration that have
// not started (all of them, or only run runNo when runNo > 0) and returns
// the River job ids that would have started them, for the caller to delete
// in the same tx.
func DeleteScheduledRuns(ctx context.Context, db DBTX, tenantID, migrationID int64, runNo int) ([]int64, error) {
	rows, err := db.Query(ctx, `DELETE FROM runs
		WHERE tenant_id = $1 AND migration_id = $2 AND status = 'scheduled' AND started_at IS NULL
			AND ($3::int = 0 OR run_no = $3)
		RETURNING COALESCE(river_job_id, 0)`, tenantID, migrationID, runNo)
	if err != nil {
		return nil, fmt.Errorf("delete scheduled runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("delete scheduled runs: %w", err)
	}
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out, nil
}

// RescheduleRun moves a run that has not started to a new time, with the
// River job that now starts it. A run that has started is ErrWrongState.
func RescheduleRun(ctx context.Context, db DBTX, tenantID, runID int64, at time.Time, riverJobID int64) error {
	tag, err := db.Exec(ctx, `UPDATE runs SET scheduled_at = $3, river_job_id = NULLIF($4, 0::bigint)
		WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' AND started_at IS NULL`, tenantID, runID, at, riverJobID)
	if err != nil {
		return fmt.Errorf("reschedule run: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := GetRun(ctx, db, tenantID, runID); err != nil {
			return fmt.Errorf("reschedule run: %w", err)
		}
		return fmt.Errorf("reschedule run: %w", ErrWrongState)
	}
	return nil
}

// DeleteMigration deletes the tenant's migration with everything it owns
// (lines, runs, mailbox results, logs, skipped messages, checkpoints,
// history), once it is Deletable; otherwise ErrWrongState.
func DeleteMigration(ctx context.Context, db DBTX, tenantID, id int64) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		m, err := LockMigration(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if !m.Deletable() {
			return fmt.Errorf("migration is %s: %w", m.Status, ErrWrongState)
		}
		_, err = tx.Exec(ctx, `DELETE FROM migrations WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete migration: %w", err)
	}
	return nil
}

// DeleteLine removes one mailbox (line_no) from the tenant's migration and
// recounts its lines. A line the migration doesn't have is ErrNotFound.
func DeleteLine(ctx context.Context, db DBTX, tenantID, migrationID int64, lineNo int) (Line, error) {
	var l Line
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		l, err = scanLine(tx.QueryRow(ctx, `DELETE FROM migration_lines l WHERE l.tenant_id = $1 AND l.migration_id = $2 AND l.line_no = $3
			RETURNING `+lineColumns, tenantID, migrationID, lineNo))
		if err != nil {
			return notFound(err)
		}
		return recountLines(ctx, tx, tenantID, migrationID)
	})
	if err != nil {
		return Line{}, fmt.Errorf("delete line: %w", err)
	}
	return l, nil
}

// AddLines appends lines (numbered from 1 in their own file) to the
// tenant's migration after the highest line number it ever had (a removed
// line's number is never given again), renumbered, and recounts. It
// returns the line number the first added line got.
func AddLines(ctx context.Context, db DBTX, tenantID, migrationID int64, lines []NewLine) (int, error) {
	first := 0
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		n := 0
		for _, l := range lines {
			n = max(n, l.LineNo)
		}
		// The row's lock keeps two additions from taking the same numbers.
		var last int
		if err := tx.QueryRow(ctx, `UPDATE migrations SET last_line_no = last_line_no + $3
			WHERE tenant_id = $1 AND id = $2 RETURNING last_line_no - $3`,
			tenantID, migrationID, n).Scan(&last); err != nil {
			return notFound(err)
		}
		first = last + 1
		renum := make([]NewLine, len(lines))
		for i, l := range lines {
			l.LineNo = last + l.LineNo
			renum[i] = l
		}
		return insertLines(ctx, tx, tenantID, migrationID, renum)
	})
	if err != nil {
		return 0, fmt.Errorf("add lines: %w", err)
	}
	return first, nil
}

// LocalUsersTaken returns which of the given local users the tenant's
// migration already has, lower-cased.
func LocalUsersTaken(ctx context.Context, db DBTX, tenantID, migrationID int64, users []string) (map[string]bool, error) {
	lower := make([]string, len(users))
	for i, u := range users {
		lower[i] = strings.ToLower(u)
	}
	rows, err := db.Query(ctx, `SELECT lower(local_user) FROM migration_lines
		WHERE tenant_id = $1 AND migration_id = $2 AND lower(local_user) = ANY($3)`, tenantID, migrationID, lower)
	if err != nil {
		return nil, fmt.Errorf("local users taken: %w", err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("local users taken: %w", err)
	}
	out := make(map[string]bool, len(taken))
	for _, u := range taken {
		out[u] = true
	}
	return out, nil
}
