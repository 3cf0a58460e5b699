package store

import (
	"context"
	"fmt"
)

// SetMailboxRunRules records the folder rules a mailbox run's copy
// followed (JSON of codes, see the rules column).
func SetMailboxRunRules(ctx context.Context, db DBTX, tenantID, id int64, rules []byte) error {
	tag, err := db.Exec(ctx, `UPDATE mailbox_runs SET rules = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, rules)
	if err != nil {
		return fmt.Errorf("set mailbox run rules: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set mailbox run rules: %w", ErrNotFound)
	}
	return nil
}

// MailboxRunRules returns the recorded folder rules of the tenant's
// migration's mailbox runs, by mailbox run id; runs without any are left
// out.
func MailboxRunRules(ctx context.Context, db DBTX, tenantID, migrationID int64) (map[int64][]byte, error) {
	rows, err := db.Query(ctx, `
		SELECT b.id, b.rules FROM mailbox_runs b JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
		WHERE b.tenant_id = $1 AND r.migration_id = $2 AND b.rules IS NOT NULL`, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("list mailbox run rules: %w", err)
	}
	defer rows.Close()
	out := map[int64][]byte{}
	for rows.Next() {
		var id int64
		var rules []byte
		if err := rows.Scan(&id, &rules); err != nil {
			return nil, fmt.Errorf("list mailbox run rules: %w", err)
		}
		out[id] = rules
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list mailbox run rules: %w", err)
	}
	return out, nil
}
