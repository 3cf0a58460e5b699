package store

import (
	"context"
	"fmt"
	"time"
)

// Password-reset requests are not tenant-owned: they happen before anyone
// is known.

// ReserveResetRequest records a reset request for email from ip at at,
// unless maxPerEmail requests for email (from any address) or maxPerIP
// from ip (for any email) were already recorded at or after since; it
// reports whether it recorded it. Concurrent requests for one email or
// from one address take their turn (advisory locks, email first).
func ReserveResetRequest(ctx context.Context, db DBTX, email, ip string, at, since time.Time, maxPerEmail, maxPerIP int) (bool, error) {
	email = NormalizeEmail(email)
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("reserve reset request: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.reset.email:' || $1, 0))`, email); err != nil {
		return false, fmt.Errorf("reserve reset request: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.reset.ip:' || $1, 0))`, ip); err != nil {
		return false, fmt.Errorf("reserve reset request: %w", err)
	}
	var byEmail, byIP int
	err = tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM password_reset_requests WHERE email = $1 AND at >= $3),
		(SELECT count(*) FROM password_reset_requests WHERE ip = $2 AND at >= $3)`, email, ip, since).Scan(&byEmail, &byIP)
	if err != nil {
		return false, fmt.Errorf("count reset requests: %w", err)
	}
	if byEmail >= maxPerEmail || byIP >= maxPerIP {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_reset_requests (email, ip, at) VALUES ($1, $2, $3)`, email, ip, at); err != nil {
		return false, fmt.Errorf("record reset request: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("reserve reset request: %w", err)
	}
	return true, nil
}

// PruneResetRequests deletes requests older than before; it returns how many.
func PruneResetRequests(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM password_reset_requests WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune reset requests: %w", err)
	}
	return tag.RowsAffected(), nil
}
