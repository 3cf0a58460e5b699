package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
)

// LineStatus is the validation result of a CSV line.
type LineStatus string

// The statuses of a line.
const (
	LinePending LineStatus = "pending" // not checked yet
	LineOK      LineStatus = "ok"      // passed every check
	LineFailed  LineStatus = "failed"  // see ErrorText
)

// Line is one line of a migration's CSV: one mailbox to copy.
type Line struct {
	ID                int64
	MigrationID       int64
	TenantID          int64
	LineNo            int // 1-based, as the user counts
	LocalUser         string
	RemoteHost        string // host or host:port, as written
	RemoteUser        string
	RemotePasswordEnc []byte // sealed by internal/secret; nil when empty or erased
	PinnedAddr        string // ip:port validation reached; "" when not pinned
	Status            LineStatus
	Error             i18n.Msg // why it was refused: see Reason
	ErrorText         string   // that reason as stored before codes; "" for a newer one
	ValidatedAt       *time.Time
	Preview           []byte // JSON of what the test measured (transfer.Preview); nil when not measured
}

// NewLine is a line to store. Status is LinePending (default) or
// LineFailed for a line refused before any check (its format).
type NewLine struct {
	LineNo            int
	LocalUser         string
	RemoteHost        string
	RemoteUser        string
	RemotePasswordEnc []byte
	Status            LineStatus
	Error             i18n.Msg // why it is refused, for LineFailed
}

const lineColumns = `l.id, l.migration_id, l.tenant_id, l.line_no, l.local_user, l.remote_host, l.remote_user,
	l.remote_password_enc, COALESCE(l.pinned_addr, ''), l.status, COALESCE(l.error_text, ''), COALESCE(l.error_code, ''), l.error_args, l.validated_at, l.preview`

func scanLine(row pgx.Row) (Line, error) {
	var l Line
	var args []byte
	err := row.Scan(&l.ID, &l.MigrationID, &l.TenantID, &l.LineNo, &l.LocalUser, &l.RemoteHost, &l.RemoteUser,
		&l.RemotePasswordEnc, &l.PinnedAddr, &l.Status, &l.ErrorText, &l.Error.Code, &args, &l.ValidatedAt, &l.Preview)
	if err != nil {
		return l, err
	}
	l.Error, err = reasonOf(l.Error.Code, args)
	return l, err
}

// insertLines adds lines to a migration in one statement and sets its counters.
func insertLines(ctx context.Context, tx pgx.Tx, tenantID, migrationID int64, lines []NewLine) error {
	n := len(lines)
	lineNos := make([]int32, n)
	locals, hosts, users, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	codes, args := make([]*string, n), make([]*string, n)
	pws := make([][]byte, n)
	for i, l := range lines {
		if l.Status == "" {
			l.Status = LinePending
		}
		if l.Status != LinePending && l.Status != LineFailed {
			return invalidf("line %d: new line status %q", l.LineNo, l.Status)
		}
		lineNos[i], locals[i], hosts[i], users[i], pws[i], statuses[i] =
			int32(l.LineNo), l.LocalUser, l.RemoteHost, l.RemoteUser, l.RemotePasswordEnc, string(l.Status)
		if c, a := reasonSQL(l.Error); c != nil {
			cs := c.(string)
			codes[i] = &cs
			if a != nil {
				as := a.(string)
				args[i] = &as
			}
		}
	}
	if n > 0 {
		_, err := tx.Exec(ctx, `
			INSERT INTO migration_lines (migration_id, tenant_id, line_no, local_user, remote_host, remote_user,
				remote_password_enc, status, error_code, error_args, validated_at, refused)
			SELECT $1, $2, u.line_no, u.local_user, u.remote_host, u.remote_user, u.pw, u.status, u.error_code, u.error_args::jsonb,
				CASE WHEN u.status = 'failed' THEN now() END, u.status = 'failed'
			FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[], $9::text[], $10::text[])
				AS u(line_no, local_user, remote_host, remote_user, pw, status, error_code, error_args)`,
			migrationID, tenantID, lineNos, locals, hosts, users, pws, statuses, codes, args)
		if err != nil {
			if c, ok := uniqueViolation(err); ok && c == "migration_lines_migration_id_line_no_key" {
				return invalidf("two lines share a line number")
			}
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE migrations SET last_line_no = greatest(last_line_no, $3)
		WHERE tenant_id = $1 AND id = $2`, tenantID, migrationID, slices.Max(append(lineNos, 0))); err != nil {
		return err
	}
	return recountLines(ctx, tx, tenantID, migrationID)
}

// recountLines sets a migration's line counters from its lines.
func recountLines(ctx context.Context, db DBTX, tenantID, migrationID int64) error {
	_, err := db.Exec(ctx, `
		UPDATE migrations m SET line_count = c.n, validated_count = c.checked, failed_count = c.failed, updated_at = now()
		FROM (SELECT count(*) AS n, count(*) FILTER (WHERE status <> 'pending') AS checked,
				count(*) FILTER (WHERE status = 'failed') AS failed
			FROM migration_lines WHERE tenant_id = $1 AND migration_id = $2) c
		WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, migrationID)
	return err
}

// ListLines returns the lines of the tenant's migration, by line number.
// A migration the tenant doesn't have has no lines.
func ListLines(ctx context.Context, db DBTX, tenantID, migrationID int64) ([]Line, error) {
	rows, err := db.Query(ctx, `SELECT `+lineColumns+` FROM migration_lines l
		WHERE l.tenant_id = $1 AND l.migration_id = $2 ORDER BY l.line_no`, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) { return scanLine(r) })
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	return ls, nil
}

// GetLine returns the tenant's line with the given id.
func GetLine(ctx context.Context, db DBTX, tenantID, id int64) (Line, error) {
	l, err := scanLine(db.QueryRow(ctx, `SELECT `+lineColumns+` FROM migration_lines l WHERE l.tenant_id = $1 AND l.id = $2`, tenantID, id))
	if err != nil {
		return Line{}, fmt.Errorf("get line: %w", notFound(err))
	}
	return l, nil
}

// LineResult is the outcome of checking one line.
type LineResult struct {
	Status     LineStatus // LineOK or LineFailed
	Error      i18n.Msg   // why it is refused, for LineFailed
	PinnedAddr string     // ip:port reached, for LineOK
	Preview    []byte     // JSON of what the test measured, for LineOK; nil when not measured
}

// SetLineResult records the check of a pending line and counts it on its
// migration. A line already checked is ErrWrongState: checking twice must
// not count twice.
func SetLineResult(ctx context.Context, db DBTX, tenantID, lineID int64, r LineResult) error {
	if r.Status != LineOK && r.Status != LineFailed {
		return fmt.Errorf("set line result: %w", invalidf("status %q", r.Status))
	}
	code, args := reasonSQL(r.Error)
	var migrationID int64
	err := db.QueryRow(ctx, `
		WITH l AS (
			UPDATE migration_lines SET status = $3, error_text = NULL, error_code = $4, error_args = $7::jsonb, pinned_addr = NULLIF($5, ''), preview = $6::jsonb, validated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
			RETURNING migration_id
		)
		UPDATE migrations m SET validated_count = validated_count + 1,
			failed_count = failed_count + CASE WHEN $3 = 'failed' THEN 1 ELSE 0 END,
			updated_at = now()
		FROM l WHERE m.tenant_id = $1 AND m.id = l.migration_id
		RETURNING m.id`, tenantID, lineID, r.Status, code, r.PinnedAddr, r.Preview, args).Scan(&migrationID)
	if err == nil {
		return nil
	}
	if err != pgx.ErrNoRows {
		return fmt.Errorf("set line result: %w", err)
	}
	if _, err := GetLine(ctx, db, tenantID, lineID); err != nil {
		return fmt.Errorf("set line result: %w", ErrNotFound)
	}
	return fmt.Errorf("set line result: line already checked: %w", ErrWrongState)
}

// ReplaceLines swaps a red migration's lines for those of a corrected CSV
// and sends it back to validating; the schedule and settings are kept.
func ReplaceLines(ctx context.Context, db DBTX, tenantID, migrationID int64, lines []NewLine) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		m, err := LockMigration(ctx, tx, tenantID, migrationID)
		if err != nil {
			return err
		}
		if m.Status != MigrationRed {
			return fmt.Errorf("migration is %s: %w", m.Status, ErrWrongState)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM migration_lines WHERE tenant_id = $1 AND migration_id = $2`, tenantID, migrationID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE migrations SET status = 'validating', error_text = NULL, error_code = NULL, error_args = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, migrationID); err != nil {
			return err
		}
		return insertLines(ctx, tx, tenantID, migrationID, lines)
	})
	if err != nil {
		return fmt.Errorf("replace lines: %w", err)
	}
	return nil
}

// MailboxInUse is another active migration of the tenant that copies into
// a destination mailbox.
type MailboxInUse struct {
	MigrationID int64
	Name        string
	LineNo      int
}

// ActiveMigrationWithMailbox finds another migration of the tenant that
// is active and has a line for localUser (any case): scheduled or running,
// or still validating but created before migrationID (so of two
// migrations validated at once the later one gives way). ErrNotFound when
// there is none.
func ActiveMigrationWithMailbox(ctx context.Context, db DBTX, tenantID, migrationID int64, localUser string) (MailboxInUse, error) {
	var u MailboxInUse
	err := db.QueryRow(ctx, `
		SELECT m.id, m.name, l.line_no FROM migration_lines l
		JOIN migrations m ON m.id = l.migration_id AND m.tenant_id = l.tenant_id
		WHERE l.tenant_id = $1 AND m.id <> $2 AND lower(l.local_user) = lower($3) AND l.status <> 'failed'
			AND (m.status IN ('scheduled', 'running') OR (m.status = 'validating' AND m.id < $2))
		ORDER BY m.id LIMIT 1`, tenantID, migrationID, localUser).Scan(&u.MigrationID, &u.Name, &u.LineNo)
	if err != nil {
		return MailboxInUse{}, fmt.Errorf("active migration with mailbox: %w", notFound(err))
	}
	return u, nil
}
