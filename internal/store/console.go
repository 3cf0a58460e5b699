package store

import (
	"context"
	"fmt"
	"strings"
)

// AddTenantDomain gives the tenant another domain (lower-cased); a domain
// of any tenant already is ErrAlreadyExists.
func AddTenantDomain(ctx context.Context, db DBTX, tenantID int64, domain string) error {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if domain == "" || !strings.Contains(domain, ".") || strings.ContainsAny(domain, " @/;") {
		return fmt.Errorf("add tenant domain: %w", invalidf("domain %q", domain))
	}
	tag, err := db.Exec(ctx, `INSERT INTO tenant_domains (tenant_id, domain) SELECT id, $2 FROM tenants WHERE id = $1`, tenantID, domain)
	if err != nil {
		if _, ok := uniqueViolation(err); ok {
			return fmt.Errorf("add tenant domain %q: %w", domain, ErrAlreadyExists)
		}
		return fmt.Errorf("add tenant domain: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("add tenant domain: %w", ErrNotFound)
	}
	return nil
}

// RemoveTenantDomain takes a domain from the tenant; its last domain stays
// (ErrWrongState): a tenant without one could not migrate anything.
func RemoveTenantDomain(ctx context.Context, db DBTX, tenantID int64, domain string) error {
	tag, err := db.Exec(ctx, `DELETE FROM tenant_domains WHERE tenant_id = $1 AND domain = $2
		AND (SELECT count(*) FROM tenant_domains WHERE tenant_id = $1) > 1`, tenantID, strings.ToLower(strings.TrimSpace(domain)))
	if err != nil {
		return fmt.Errorf("remove tenant domain: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM tenant_domains WHERE tenant_id = $1 AND domain = $2`, tenantID,
			strings.ToLower(strings.TrimSpace(domain))).Scan(&n); err != nil {
			return fmt.Errorf("remove tenant domain: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("remove tenant domain: %w", ErrNotFound)
		}
		return fmt.Errorf("remove tenant domain: the last one: %w", ErrWrongState)
	}
	return nil
}

// SetTenantDisabledByID disables or re-enables the tenant.
func SetTenantDisabledByID(ctx context.Context, db DBTX, tenantID int64, disabled bool) error {
	return updateMember(ctx, db, "set tenant disabled", `UPDATE tenants SET disabled = $2 WHERE id = $1`, tenantID, disabled)
}
