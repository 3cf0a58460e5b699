package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackOffRemote makes the tenant's copies from account on host wait until
// until (a later back-off already set stays). host is a name without
// port; host and account are compared in lower case.
func BackOffRemote(ctx context.Context, db DBTX, tenantID int64, host, account string, until time.Time) error {
	_, err := db.Exec(ctx, `
		INSERT INTO remote_backoffs (tenant_id, host, account, until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, host, account) DO UPDATE SET until = GREATEST(remote_backoffs.until, EXCLUDED.until)`,
		tenantID, strings.ToLower(host), strings.ToLower(account), until)
	if err != nil {
		return fmt.Errorf("back off remote account: %w", err)
	}
	return nil
}

// RemoteBackOff is until when the tenant's copies from account on host
// wait; ok=false when they need not (none set, or it is over at now).
func RemoteBackOff(ctx context.Context, db DBTX, tenantID int64, host, account string, now time.Time) (until time.Time, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT until FROM remote_backoffs WHERE tenant_id = $1 AND host = $2 AND account = $3 AND until > $4`,
		tenantID, strings.ToLower(host), strings.ToLower(account), now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("look up remote back-off: %w", err)
	}
	return until, true, nil
}

// PruneRemoteBackOffs deletes the back-offs over before before, of every
// tenant (the hourly purge); it returns how many.
func PruneRemoteBackOffs(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM remote_backoffs WHERE until < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune remote back-offs: %w", err)
	}
	return tag.RowsAffected(), nil
}
