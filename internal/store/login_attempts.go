package store

import (
	"context"
	"fmt"
	"time"
)

// Login attempts are not tenant-owned: they happen before anyone is known.

// RecordFailedLogin remembers a failed login for email from ip at at.
func RecordFailedLogin(ctx context.Context, db DBTX, email, ip string, at time.Time) error {
	if _, err := db.Exec(ctx, `INSERT INTO login_attempts (email, ip, at) VALUES ($1, $2, $3)`, NormalizeEmail(email), ip, at); err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return nil
}

// FailedLogins returns how many failed logins for email from ip happened at
// or after since, and when the oldest of them was (zero when none).
func FailedLogins(ctx context.Context, db DBTX, email, ip string, since time.Time) (n int, oldest time.Time, err error) {
	var first *time.Time
	err = db.QueryRow(ctx, `SELECT count(*), min(at) FROM login_attempts WHERE email = $1 AND ip = $2 AND at >= $3`,
		NormalizeEmail(email), ip, since).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count failed logins: %w", err)
	}
	if first != nil {
		oldest = *first
	}
	return n, oldest, nil
}

// ClearFailedLogins forgets the failed logins for email from ip, after a
// successful one.
func ClearFailedLogins(ctx context.Context, db DBTX, email, ip string) error {
	if _, err := db.Exec(ctx, `DELETE FROM login_attempts WHERE email = $1 AND ip = $2`, NormalizeEmail(email), ip); err != nil {
		return fmt.Errorf("clear failed logins: %w", err)
	}
	return nil
}

// PruneLoginAttempts deletes attempts older than before; it returns how many.
func PruneLoginAttempts(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM login_attempts WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune login attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}

// FailedLoginsFromIP is FailedLogins for every email from ip.
func FailedLoginsFromIP(ctx context.Context, db DBTX, ip string, since time.Time) (n int, oldest time.Time, err error) {
	var first *time.Time
	err = db.QueryRow(ctx, `SELECT count(*), min(at) FROM login_attempts WHERE ip = $1 AND at >= $2`, ip, since).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count failed logins: %w", err)
	}
	if first != nil {
		oldest = *first
	}
	return n, oldest, nil
}

// FailedLoginsForEmail is FailedLogins for email from every address.
func FailedLoginsForEmail(ctx context.Context, db DBTX, email string, since time.Time) (n int, oldest time.Time, err error) {
	var first *time.Time
	err = db.QueryRow(ctx, `SELECT count(*), min(at) FROM login_attempts WHERE email = $1 AND at >= $2`,
		NormalizeEmail(email), since).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count failed logins: %w", err)
	}
	if first != nil {
		oldest = *first
	}
	return n, oldest, nil
}

// LockLoginAttempts takes, until the end of the transaction tx, the lock
// of email's attempts and then that of ip's, so concurrent logins count
// and record one at a time. Always in that order: no deadlock.
func LockLoginAttempts(ctx context.Context, tx DBTX, email, ip string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.login.email:' || $1, 0))`, NormalizeEmail(email)); err != nil {
		return fmt.Errorf("lock login attempts: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.login.ip:' || $1, 0))`, ip); err != nil {
		return fmt.Errorf("lock login attempts: %w", err)
	}
	return nil
}
