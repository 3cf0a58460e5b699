package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The actions of a migration's history (MigrationEvent.Action).
const (
	EventCreated       = "created"        // submitted through Nuova Migrazione
	EventEdited        = "edited"         // Details: the fields that changed (name, first_run_at, …)
	EventLinesReplaced = "lines_replaced" // Details: the number of lines
	EventStartedNow    = "started_now"
	EventCancelled     = "cancelled"
	EventStopped       = "stopped"
	EventResumed       = "resumed"
	EventRetried       = "retried"      // Details: the run number
	EventLinesAdded    = "lines_added"  // Details: the number of lines
	EventLineRemoved   = "line_removed" // Details: the line number, the local user
)

// Actor is who did something to a migration.
type Actor struct {
	UserID   int64 // 0: the system
	Email    string
	Operator bool
}

// MigrationEvent is one entry of a migration's history.
type MigrationEvent struct {
	ID      int64
	At      time.Time
	Actor   Actor
	Action  string
	Details []string
}

// AddMigrationEvent records an action on the tenant's migration.
func AddMigrationEvent(ctx context.Context, db DBTX, tenantID, migrationID int64, a Actor, action string, details ...string) error {
	if details == nil {
		details = []string{}
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO migration_events (migration_id, tenant_id, user_id, actor_email, operator, action, details)
		SELECT m.id, m.tenant_id, NULLIF($3, 0::bigint), $4, $5, $6, $7 FROM migrations m WHERE m.tenant_id = $1 AND m.id = $2`,
		tenantID, migrationID, a.UserID, a.Email, a.Operator, action, details)
	if err != nil {
		return fmt.Errorf("add migration event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("add migration event: %w", ErrNotFound)
	}
	return nil
}

// ListMigrationEvents returns the newest limit entries of the history of
// the tenant's migration, newest first.
func ListMigrationEvents(ctx context.Context, db DBTX, tenantID, migrationID int64, limit int) ([]MigrationEvent, error) {
	rows, err := db.Query(ctx, `SELECT id, at, COALESCE(user_id, 0), actor_email, operator, action, details FROM migration_events
		WHERE tenant_id = $1 AND migration_id = $2 ORDER BY at DESC, id DESC LIMIT $3`, tenantID, migrationID, limit)
	if err != nil {
		return nil, fmt.Errorf("list migration events: %w", err)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MigrationEvent, error) {
		var e MigrationEvent
		err := r.Scan(&e.ID, &e.At, &e.Actor.UserID, &e.Actor.Email, &e.Actor.Operator, &e.Action, &e.Details)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list migration events: %w", err)
	}
	return es, nil
}
