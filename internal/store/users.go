package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is a person who logs into the panel.
type User struct {
	ID           int64
	TenantID     int64
	TenantName   string
	Email        string // lower case
	PasswordHash string // see internal/auth
	Operator     bool   // works for the provider: may see every tenant
	Disabled     bool
	// TenantDisabled is true when the user's tenant is disabled; such a
	// user cannot log in either.
	TenantDisabled bool
	CreatedAt      time.Time
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email        string
	PasswordHash string
	Operator     bool
}

const userColumns = `u.id, u.tenant_id, t.name, u.email, u.password_hash, u.operator, u.disabled, t.disabled, u.created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.TenantID, &u.TenantName, &u.Email, &u.PasswordHash, &u.Operator, &u.Disabled, &u.TenantDisabled, &u.CreatedAt)
	return u, err
}

// NormalizeEmail is how emails are compared and stored: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser creates a user of the tenant.
func CreateUser(ctx context.Context, db DBTX, tenantID int64, nu NewUser) (User, error) {
	email := NormalizeEmail(nu.Email)
	if local, domain, ok := strings.Cut(email, "@"); !ok || local == "" || domain == "" {
		return User{}, fmt.Errorf("create user: %w", invalidf("email %q", nu.Email))
	}
	if nu.PasswordHash == "" {
		return User{}, fmt.Errorf("create user: %w", invalidf("no password hash"))
	}
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO users (tenant_id, email, password_hash, operator)
		SELECT id, $2, $3, $4 FROM tenants WHERE id = $1
		RETURNING id`, tenantID, email, nu.PasswordHash, nu.Operator).Scan(&id)
	if err != nil {
		if c, ok := uniqueViolation(err); ok && c == "users_email_key" {
			return User{}, fmt.Errorf("create user: user %q %w", email, ErrAlreadyExists)
		}
		return User{}, fmt.Errorf("create user: tenant: %w", notFound(err))
	}
	u, err := GetUser(ctx, db, id)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// GetUser returns the user with the given id, whatever its tenant: the
// session knows only the user id.
func GetUser(ctx context.Context, db DBTX, id int64) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", notFound(err))
	}
	return u, nil
}

// GetUserByEmail returns the user with the given email (any case), for login.
func GetUserByEmail(ctx context.Context, db DBTX, email string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1`, NormalizeEmail(email)))
	if err != nil {
		return User{}, fmt.Errorf("get user by email: %w", notFound(err))
	}
	return u, nil
}

// ListUsers returns the tenant's users, by email.
func ListUsers(ctx context.Context, db DBTX, tenantID int64) ([]User, error) {
	return listUsers(ctx, db, `WHERE u.tenant_id = $1`, tenantID)
}

// ListAllUsers returns every user of every tenant, by tenant name and email;
// for operators and the admin command.
func ListAllUsers(ctx context.Context, db DBTX) ([]User, error) {
	return listUsers(ctx, db, ``)
}

func listUsers(ctx context.Context, db DBTX, where string, args ...any) ([]User, error) {
	rows, err := db.Query(ctx, `SELECT `+userColumns+` FROM users u JOIN tenants t ON t.id = u.tenant_id `+where+` ORDER BY t.name, u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetUserDisabled disables or re-enables the user with the given email.
func SetUserDisabled(ctx context.Context, db DBTX, email string, disabled bool) error {
	tag, err := db.Exec(ctx, `UPDATE users SET disabled = $2 WHERE email = $1`, NormalizeEmail(email), disabled)
	if err != nil {
		return fmt.Errorf("disable user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("disable user %q: %w", email, ErrNotFound)
	}
	return nil
}

// SetUserPassword replaces the user's password hash.
func SetUserPassword(ctx context.Context, db DBTX, email, passwordHash string) error {
	tag, err := db.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE email = $1`, NormalizeEmail(email), passwordHash)
	if err != nil {
		return fmt.Errorf("set user password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set user password %q: %w", email, ErrNotFound)
	}
	return nil
}
