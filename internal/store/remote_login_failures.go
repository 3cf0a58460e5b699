package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Remote login failures are counted across tenants for a (host, user)
// pair: a guess at one remote mailbox counts whoever makes it. Only counts
// leave this file; no tenant reads another's rows.

// RemoteLoginLimits bound the failed test logins to remote servers within
// Window: PerUser for one (host, user), from any tenant; PerTenant for all
// of one tenant's.
type RemoteLoginLimits struct {
	PerUser   int
	PerTenant int
	Window    time.Duration
}

// ReserveRemoteLogin counts the failures of (host, user) and of the
// tenant since now-Window and, when both are under their limit, records
// this attempt as a failure and returns its id (forget it with
// ForgetRemoteLogin unless the login is refused for a wrong password).
// ok=false means a limit is reached: do not try. Concurrent reservations
// of one (host, user) or one tenant take their turn.
func ReserveRemoteLogin(ctx context.Context, db DBTX, tenantID int64, host, user string, lim RemoteLoginLimits, now time.Time) (id int64, ok bool, err error) {
	host, user = strings.ToLower(host), strings.ToLower(user)
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.remote_login.tenant:' || $1::bigint::text, 0))`, tenantID); err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('trasloco.remote_login.user:' || $1 || '|' || $2, 0))`, host, user); err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	since := now.Add(-lim.Window)
	var perUser, perTenant int
	err = tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM remote_login_failures WHERE host = $2 AND remote_user = $3 AND at >= $4),
		(SELECT count(*) FROM remote_login_failures WHERE tenant_id = $1 AND at >= $4)`,
		tenantID, host, user, since).Scan(&perUser, &perTenant)
	if err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	if perUser >= lim.PerUser || perTenant >= lim.PerTenant {
		return 0, false, nil
	}
	if err := tx.QueryRow(ctx, `INSERT INTO remote_login_failures (tenant_id, host, remote_user, at) VALUES ($1, $2, $3, $4) RETURNING id`,
		tenantID, host, user, now).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("reserve remote login: %w", err)
	}
	return id, true, nil
}

// ForgetRemoteLogin deletes a reservation of the tenant: the login
// succeeded, or failed for another reason than the password.
func ForgetRemoteLogin(ctx context.Context, db DBTX, tenantID, id int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM remote_login_failures WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
		return fmt.Errorf("forget remote login: %w", err)
	}
	return nil
}

// PruneRemoteLoginFailures deletes failures older than before; it returns
// how many.
func PruneRemoteLoginFailures(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM remote_login_failures WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune remote login failures: %w", err)
	}
	return tag.RowsAffected(), nil
}
