package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Actions of the audit trail (audit_events.action); the panel renders
// each in the reader's language.
const (
	AuditLogin             = "login"
	AuditLoginFailed       = "login_failed"
	AuditLogout            = "logout"
	AuditMigrationCreated  = "migration_created"
	AuditMigrationCanceled = "migration_cancelled"
	AuditRunRetried        = "run_retried"
	AuditLinesReplaced     = "lines_replaced"
	AuditJobRetried        = "job_retried"
	AuditJobCancelled      = "job_cancelled"
	AuditTenantChanged     = "tenant_changed"
	AuditOperatorAction    = "operator_action"

	// The migration's life, the tenant's settings and team, passwords and
	// the operators' console.
	AuditMigrationEdited  = "migration_edited"
	AuditMigrationStarted = "migration_started_now"
	AuditMigrationStopped = "migration_stopped"
	AuditMigrationResumed = "migration_resumed"
	AuditRunAdded         = "run_added"
	AuditMigrationDeleted = "migration_deleted"
	AuditLinesAdded       = "lines_added"
	AuditLineRemoved      = "line_removed"
	AuditSettingsChanged  = "settings_changed"
	AuditUserInvited      = "user_invited"
	AuditUserDisabled     = "user_disabled"
	AuditUserEnabled      = "user_enabled"
	AuditUserDeleted      = "user_deleted"
	AuditPasswordChanged  = "password_changed"
	AuditPasswordSet      = "password_set"
	AuditTenantCreated    = "tenant_created"
)

// AuditEvent is one line of the audit trail.
type AuditEvent struct {
	ID          int64
	At          time.Time
	TenantID    int64 // 0: none
	TenantName  string
	UserID      int64 // 0: none
	Actor       string
	Operator    bool
	Action      string
	MigrationID int64 // 0: none
	Detail      string
	IP          string
}

// RecordAudit adds e to the audit trail (its ID and At are set by the
// database).
func RecordAudit(ctx context.Context, db DBTX, e AuditEvent) error {
	_, err := db.Exec(ctx, `INSERT INTO audit_events (tenant_id, user_id, actor, operator, action, migration_id, detail, ip)
		VALUES (NULLIF($1, 0), NULLIF($2, 0), $3, $4, $5, NULLIF($6, 0), $7, $8)`,
		e.TenantID, e.UserID, clipText(e.Actor, 320), e.Operator, e.Action, e.MigrationID, clipText(e.Detail, 500), e.IP)
	if err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	return nil
}

// ListAudit returns the tenant's audit trail, newest first, at most limit
// events.
func ListAudit(ctx context.Context, db DBTX, tenantID int64, limit int) ([]AuditEvent, error) {
	return listAudit(ctx, db, `WHERE a.tenant_id = $1`, tenantID, limit)
}

// ListAllAudit returns every tenant's audit trail and the events of no
// tenant, newest first, at most limit: for operators only.
func ListAllAudit(ctx context.Context, db DBTX, limit int) ([]AuditEvent, error) {
	return listAudit(ctx, db, `WHERE $1::bigint IS NOT NULL`, 0, limit)
}

func listAudit(ctx context.Context, db DBTX, where string, tenantID int64, limit int) ([]AuditEvent, error) {
	rows, err := db.Query(ctx, `SELECT a.id, a.at, COALESCE(a.tenant_id, 0), COALESCE(t.name, ''), COALESCE(a.user_id, 0), a.actor,
		a.operator, a.action, COALESCE(a.migration_id, 0), a.detail, a.ip
		FROM audit_events a LEFT JOIN tenants t ON t.id = a.tenant_id `+where+`
		ORDER BY a.at DESC, a.id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		err := r.Scan(&e.ID, &e.At, &e.TenantID, &e.TenantName, &e.UserID, &e.Actor, &e.Operator, &e.Action, &e.MigrationID, &e.Detail, &e.IP)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return es, nil
}

// clipText cuts s to at most n bytes, on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
