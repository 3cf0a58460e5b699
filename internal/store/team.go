package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TenantSettings are what a tenant administrator changes on Impostazioni.
type TenantSettings struct {
	// NotifyEmails receive the completion emails; the first is the
	// tenant's main address (tenants.notify_email). At least one.
	NotifyEmails []string
	Timezone     string // IANA name
	Language     string // it or en: the emails'
}

// GetTenantSettings returns the tenant's settings.
func GetTenantSettings(ctx context.Context, db DBTX, tenantID int64) (TenantSettings, error) {
	var st TenantSettings
	var first string
	var cc []string
	err := db.QueryRow(ctx, `SELECT notify_email, notify_cc, timezone, language FROM tenants WHERE id = $1`, tenantID).
		Scan(&first, &cc, &st.Timezone, &st.Language)
	if err != nil {
		return TenantSettings{}, fmt.Errorf("get tenant settings: %w", notFound(err))
	}
	st.NotifyEmails = append([]string{first}, cc...)
	return st, nil
}

// SetTenantSettings stores the tenant's settings; the caller has checked
// the addresses, the time zone and the language.
func SetTenantSettings(ctx context.Context, db DBTX, tenantID int64, st TenantSettings) error {
	if len(st.NotifyEmails) == 0 {
		return fmt.Errorf("set tenant settings: %w", invalidf("no notification address"))
	}
	tag, err := db.Exec(ctx, `UPDATE tenants SET notify_email = $2, notify_cc = $3, timezone = $4, language = $5 WHERE id = $1`,
		tenantID, st.NotifyEmails[0], st.NotifyEmails[1:], st.Timezone, st.Language)
	if err != nil {
		if _, ok := checkViolation(err); ok {
			return fmt.Errorf("set tenant settings: %w", invalidf("%v", err))
		}
		return fmt.Errorf("set tenant settings: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set tenant settings: %w", ErrNotFound)
	}
	return nil
}

// NotifyAddresses are the addresses the tenant's completion emails go to.
func NotifyAddresses(ctx context.Context, db DBTX, tenantID int64) ([]string, error) {
	st, err := GetTenantSettings(ctx, db, tenantID)
	if err != nil {
		return nil, err
	}
	return st.NotifyEmails, nil
}

// TeamMember is a user of a tenant, as its administrators see them.
type TeamMember struct {
	ID       int64
	Email    string
	Admin    bool
	Disabled bool
	// Invited: the invitation has not been used yet (no password chosen).
	Invited   bool
	CreatedAt time.Time
}

// ListTeam returns the users of the tenant, by email.
func ListTeam(ctx context.Context, db DBTX, tenantID int64) ([]TeamMember, error) {
	rows, err := db.Query(ctx, `
		SELECT u.id, u.email, u.admin, u.disabled, u.created_at,
			EXISTS (SELECT 1 FROM user_tokens k WHERE k.user_id = u.id AND k.purpose = 'invite')
			AND NOT EXISTS (SELECT 1 FROM user_tokens k WHERE k.user_id = u.id AND k.purpose = 'invite' AND k.used_at IS NOT NULL)
		FROM users u WHERE u.tenant_id = $1 ORDER BY u.email`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list team: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TeamMember, error) {
		var m TeamMember
		err := r.Scan(&m.ID, &m.Email, &m.Admin, &m.Disabled, &m.CreatedAt, &m.Invited)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list team: %w", err)
	}
	return ms, nil
}

// GetTeamMember returns the tenant's user with the given id.
func GetTeamMember(ctx context.Context, db DBTX, tenantID, userID int64) (TeamMember, error) {
	ms, err := ListTeam(ctx, db, tenantID)
	if err != nil {
		return TeamMember{}, err
	}
	for _, m := range ms {
		if m.ID == userID {
			return m, nil
		}
	}
	return TeamMember{}, fmt.Errorf("get team member: %w", ErrNotFound)
}

// IsTenantAdmin reports whether the user administers the tenant.
func IsTenantAdmin(ctx context.Context, db DBTX, tenantID, userID int64) (bool, error) {
	var admin bool
	err := db.QueryRow(ctx, `SELECT admin FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&admin)
	if err != nil {
		return false, fmt.Errorf("is tenant admin: %w", notFound(err))
	}
	return admin, nil
}

// SetTeamMemberAdmin makes the tenant's user an administrator or not.
func SetTeamMemberAdmin(ctx context.Context, db DBTX, tenantID, userID int64, admin bool) error {
	return updateMember(ctx, db, "set team member admin", `UPDATE users SET admin = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, admin)
}

// SetTeamMemberDisabled disables (or enables) the tenant's user: a
// disabled user cannot sign in, and is signed out at the next request.
func SetTeamMemberDisabled(ctx context.Context, db DBTX, tenantID, userID int64, disabled bool) error {
	return updateMember(ctx, db, "set team member disabled", `UPDATE users SET disabled = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, disabled)
}

// DeleteTeamMember removes the tenant's user; the migrations they created
// stay (migrations.created_by becomes NULL).
func DeleteTeamMember(ctx context.Context, db DBTX, tenantID, userID int64) error {
	return updateMember(ctx, db, "delete team member", `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
}

func updateMember(ctx context.Context, db DBTX, what, sql string, args ...any) error {
	tag, err := db.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// SetPasswordByID sets the tenant's user's password hash.
func SetPasswordByID(ctx context.Context, db DBTX, tenantID, userID int64, passwordHash string) error {
	return updateMember(ctx, db, "set password", `UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, passwordHash)
}

// The purposes of a one-time link.
const (
	TokenInvite = "invite" // a colleague chooses a password the first time
	TokenReset  = "reset"  // "password dimenticata"
)

// CreateUserToken stores the hash of a one-time token for the tenant's
// user, valid until expires. A new reset token replaces the unused ones.
func CreateUserToken(ctx context.Context, db DBTX, tenantID, userID int64, purpose string, hash []byte, expires time.Time) error {
	if purpose == TokenReset {
		if _, err := db.Exec(ctx, `DELETE FROM user_tokens WHERE tenant_id = $1 AND user_id = $2 AND purpose = 'reset' AND used_at IS NULL`,
			tenantID, userID); err != nil {
			return fmt.Errorf("create user token: %w", err)
		}
	}
	tag, err := db.Exec(ctx, `INSERT INTO user_tokens (user_id, tenant_id, purpose, token_hash, expires_at)
		SELECT u.id, u.tenant_id, $3, $4, $5 FROM users u WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, userID, purpose, hash, expires)
	if err != nil {
		return fmt.Errorf("create user token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create user token: %w", ErrNotFound)
	}
	return nil
}

// TokenUser returns the user a one-time token (by its hash) is for, while
// it is unused and not expired at now, without using it; ErrNotFound
// otherwise.
func TokenUser(ctx context.Context, db DBTX, hash []byte, now time.Time) (User, string, error) {
	var userID int64
	var purpose string
	err := db.QueryRow(ctx, `SELECT k.user_id, k.purpose FROM user_tokens k JOIN users u ON u.id = k.user_id AND u.tenant_id = k.tenant_id
		WHERE k.token_hash = $1 AND k.used_at IS NULL AND k.expires_at > $2 AND NOT u.disabled`, hash, now).Scan(&userID, &purpose)
	if err != nil {
		return User{}, "", fmt.Errorf("token user: %w", notFound(err))
	}
	u, err := GetUser(ctx, db, userID)
	if err != nil {
		return User{}, "", fmt.Errorf("token user: %w", err)
	}
	return u, purpose, nil
}

// UseToken marks a one-time token used and sets its user's password, in
// one statement pair that only one caller wins: ErrNotFound when the
// token is unknown, used, expired or its user disabled.
func UseToken(ctx context.Context, db DBTX, hash []byte, now time.Time, passwordHash string) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var userID, tenantID int64
		err := tx.QueryRow(ctx, `UPDATE user_tokens k SET used_at = $2 FROM users u
			WHERE k.token_hash = $1 AND k.used_at IS NULL AND k.expires_at > $2
				AND u.id = k.user_id AND u.tenant_id = k.tenant_id AND NOT u.disabled
			RETURNING k.user_id, k.tenant_id`, hash, now).Scan(&userID, &tenantID)
		if err != nil {
			return notFound(err)
		}
		if err := SetPasswordByID(ctx, tx, tenantID, userID, passwordHash); err != nil {
			return err
		}
		u, err = GetUser(ctx, tx, userID)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("use token: %w", err)
	}
	return u, nil
}

// LowerEmails trims and lower-cases addresses, dropping empty ones and
// repeats.
func LowerEmails(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range in {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}
