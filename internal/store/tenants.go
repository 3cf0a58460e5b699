package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Languages a tenant's panel and emails can use.
const (
	LanguageItalian = "it"
	LanguageEnglish = "en"
)

// DefaultTimezone is the time zone of a tenant created without one.
const DefaultTimezone = "Europe/Rome"

// Tenant is a customer of the provider.
type Tenant struct {
	ID          int64
	Name        string
	NotifyEmail string // where run-completion emails go
	Timezone    string // IANA name; run times are entered and shown in it
	Language    string // LanguageItalian or LanguageEnglish
	Disabled    bool
	Domains     []string // sorted
	CreatedAt   time.Time
}

// NewTenant is what CreateTenant needs.
type NewTenant struct {
	Name        string
	NotifyEmail string
	Timezone    string   // default DefaultTimezone
	Language    string   // default LanguageItalian
	Domains     []string // at least one; stored lower case
}

const tenantColumns = `t.id, t.name, t.notify_email, t.timezone, t.language, t.disabled, t.created_at,
	COALESCE((SELECT array_agg(d.domain ORDER BY d.domain) FROM tenant_domains d WHERE d.tenant_id = t.id), '{}')`

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Name, &t.NotifyEmail, &t.Timezone, &t.Language, &t.Disabled, &t.CreatedAt, &t.Domains)
	return t, err
}

// CreateTenant creates a tenant with its domains.
func CreateTenant(ctx context.Context, db DBTX, nt NewTenant) (Tenant, error) {
	nt.Name = strings.TrimSpace(nt.Name)
	if nt.Name == "" {
		return Tenant{}, fmt.Errorf("create tenant: %w", invalidf("empty name"))
	}
	if nt.Timezone == "" {
		nt.Timezone = DefaultTimezone
	}
	if _, err := time.LoadLocation(nt.Timezone); err != nil || nt.Timezone == "Local" {
		return Tenant{}, fmt.Errorf("create tenant: %w", invalidf("unknown time zone %q", nt.Timezone))
	}
	if nt.Language == "" {
		nt.Language = LanguageItalian
	}
	if nt.Language != LanguageItalian && nt.Language != LanguageEnglish {
		return Tenant{}, fmt.Errorf("create tenant: %w", invalidf("language %q: want it or en", nt.Language))
	}
	if len(nt.Domains) == 0 {
		return Tenant{}, fmt.Errorf("create tenant: %w", invalidf("no domain"))
	}
	domains := make([]string, 0, len(nt.Domains))
	for _, d := range nt.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@ /") {
			return Tenant{}, fmt.Errorf("create tenant: %w", invalidf("domain %q", d))
		}
		domains = append(domains, d)
	}

	// One statement, so it is atomic even when db is the pool.
	row := db.QueryRow(ctx, `
		WITH t AS (
			INSERT INTO tenants (name, notify_email, timezone, language)
			VALUES ($1, $2, $3, $4)
			RETURNING id
		), d AS (
			INSERT INTO tenant_domains (tenant_id, domain)
			SELECT t.id, unnest($5::text[]) FROM t
		)
		SELECT id FROM t`,
		nt.Name, strings.TrimSpace(nt.NotifyEmail), nt.Timezone, nt.Language, domains)
	var id int64
	if err := row.Scan(&id); err != nil {
		return Tenant{}, fmt.Errorf("create tenant: %w", tenantError(err, nt))
	}
	t, err := GetTenant(ctx, db, id)
	if err != nil {
		return Tenant{}, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

func tenantError(err error, nt NewTenant) error {
	if c, ok := uniqueViolation(err); ok {
		switch c {
		case "tenants_name_key":
			return fmt.Errorf("tenant %q %w", nt.Name, ErrAlreadyExists)
		case "tenant_domains_domain_key", "tenant_domains_pkey":
			return fmt.Errorf("a domain of %v %w (it belongs to a tenant)", nt.Domains, ErrAlreadyExists)
		}
	}
	if c, ok := checkViolation(err); ok && strings.Contains(c, "notify_email") {
		return invalidf("notify email %q", nt.NotifyEmail)
	}
	return err
}

// GetTenant returns the tenant with the given id.
func GetTenant(ctx context.Context, db DBTX, id int64) (Tenant, error) {
	t, err := scanTenant(db.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.id = $1`, id))
	if err != nil {
		return Tenant{}, fmt.Errorf("get tenant: %w", notFound(err))
	}
	return t, nil
}

// GetTenantByName returns the tenant with the given name.
func GetTenantByName(ctx context.Context, db DBTX, name string) (Tenant, error) {
	t, err := scanTenant(db.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.name = $1`, strings.TrimSpace(name)))
	if err != nil {
		return Tenant{}, fmt.Errorf("get tenant %q: %w", name, notFound(err))
	}
	return t, nil
}

// ListTenants returns every tenant, by name.
func ListTenants(ctx context.Context, db DBTX) ([]Tenant, error) {
	rows, err := db.Query(ctx, `SELECT `+tenantColumns+` FROM tenants t ORDER BY t.name`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// SetTenantLanguage changes the tenant's language (LanguageItalian or LanguageEnglish).
func SetTenantLanguage(ctx context.Context, db DBTX, tenantID int64, language string) error {
	if language != LanguageItalian && language != LanguageEnglish {
		return fmt.Errorf("set tenant language: %w", invalidf("language %q: want it or en", language))
	}
	tag, err := db.Exec(ctx, `UPDATE tenants SET language = $2 WHERE id = $1`, tenantID, language)
	if err != nil {
		return fmt.Errorf("set tenant language: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set tenant language: %w", ErrNotFound)
	}
	return nil
}

// SetTenantDisabled disables or re-enables the tenant named name. The users
// of a disabled tenant cannot log in. Disabling also asks its running runs
// to stop (stop_requested_at, as Interrompi does): their copies end at the
// next checkpoint, cancelled, keeping their passwords for a resume; the
// workers start none of its validations or runs while it is disabled.
func SetTenantDisabled(ctx context.Context, db DBTX, name string, disabled bool) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE tenants SET disabled = $2 WHERE name = $1 RETURNING id`, strings.TrimSpace(name), disabled).Scan(&id)
		if err != nil {
			return notFound(err)
		}
		if disabled {
			_, err = tx.Exec(ctx, `UPDATE runs SET stop_requested_at = now()
				WHERE tenant_id = $1 AND status = 'running' AND stop_requested_at IS NULL`, id)
		}
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("disable tenant %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("disable tenant: %w", err)
	}
	return nil
}

// TenantOwnsDomain reports whether domain (any case) is one of the tenant's.
func TenantOwnsDomain(ctx context.Context, db DBTX, tenantID int64, domain string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenant_domains WHERE tenant_id = $1 AND domain = $2)`,
		tenantID, strings.ToLower(strings.TrimSuffix(domain, "."))).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check tenant domain: %w", err)
	}
	return ok, nil
}
