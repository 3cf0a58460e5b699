package store

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// MicrosoftDirectory is the Microsoft 365 directory a tenant connected.
type MicrosoftDirectory struct {
	DirectoryID string // Entra ID tenant id (a GUID)
	ConsentedAt time.Time
}

var directoryID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$`)

// SetMicrosoftDirectory records that the tenant's administrator granted
// admin consent in directory id, replacing an earlier one.
func SetMicrosoftDirectory(ctx context.Context, db DBTX, tenantID int64, id string) error {
	if !directoryID.MatchString(id) {
		return fmt.Errorf("set microsoft directory: %w: directory id %q", ErrInvalid, id)
	}
	_, err := db.Exec(ctx, `
		INSERT INTO tenant_microsoft (tenant_id, directory_id) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET directory_id = EXCLUDED.directory_id, consented_at = now()`,
		tenantID, id)
	if err != nil {
		return fmt.Errorf("set microsoft directory: %w", err)
	}
	return nil
}

// GetMicrosoftDirectory returns the tenant's directory; ErrNotFound when it
// connected none.
func GetMicrosoftDirectory(ctx context.Context, db DBTX, tenantID int64) (MicrosoftDirectory, error) {
	var d MicrosoftDirectory
	err := db.QueryRow(ctx, `SELECT directory_id, consented_at FROM tenant_microsoft WHERE tenant_id = $1`, tenantID).
		Scan(&d.DirectoryID, &d.ConsentedAt)
	if err != nil {
		return MicrosoftDirectory{}, fmt.Errorf("get microsoft directory: %w", notFound(err))
	}
	return d, nil
}

// DeleteMicrosoftDirectory forgets the tenant's directory (the customer
// disconnects); no error when there was none.
func DeleteMicrosoftDirectory(ctx context.Context, db DBTX, tenantID int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM tenant_microsoft WHERE tenant_id = $1`, tenantID); err != nil {
		return fmt.Errorf("delete microsoft directory: %w", err)
	}
	return nil
}
