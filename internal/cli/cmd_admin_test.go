package cli_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/cli"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// runner runs trasloco commands against one database.
type runner struct {
	t   *testing.T
	env map[string]string
	db  *pgxpool.Pool
}

func setupAdmin(t *testing.T) runner {
	t.Helper()
	db := testenv.NewTestDB(t)
	return runner{t: t, db: db, env: map[string]string{"DATABASE_URL": db.Config().ConnString()}}
}

func (r runner) run(args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, cli.Env{
		Getenv: func(k string) string { return r.env[k] },
		Stdout: &out, Stderr: &errb,
	})
	return code, out.String(), errb.String()
}

func TestAdminTenantAndUser(t *testing.T) {
	t.Parallel()
	r := setupAdmin(t)
	ctx := context.Background()

	code, out, errs := r.run("admin", "tenant", "create", "--name", "acme", "--domain", "acme.test", "--domain", "Acme.Example",
		"--notify-email", "it@acme.test", "--language", "en", "--timezone", "Europe/London")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "created tenant acme")
	tn, err := store.GetTenantByName(ctx, r.db, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"acme.example", "acme.test"}, tn.Domains)
	require.Equal(t, "en", tn.Language)
	require.Equal(t, "Europe/London", tn.Timezone)

	code, _, errs = r.run("admin", "tenant", "create", "--name", "beta", "--domain", "beta.test", "--notify-email", "it@beta.test")
	require.Equal(t, cli.ExitOK, code, errs)
	beta, err := store.GetTenantByName(ctx, r.db, "beta")
	require.NoError(t, err)
	require.Equal(t, "Europe/Rome", beta.Timezone)
	require.Equal(t, "it", beta.Language)

	code, out, _ = r.run("admin", "tenant", "list")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, out, "acme.example,acme.test")
	require.Contains(t, out, "beta.test")

	r.env["ANNA_PW"] = "correct horse"
	code, out, errs = r.run("admin", "user", "create", "--tenant", "acme", "--email", "Anna@Acme.test", "--password-env", "ANNA_PW")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "created user anna@acme.test")
	code, out, errs = r.run("admin", "user", "create", "--tenant", "beta", "--email", "ops@beta.test", "--password-env", "ANNA_PW", "--operator")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "created operator ops@beta.test")

	u, err := store.GetUserByEmail(ctx, r.db, "anna@acme.test")
	require.NoError(t, err)
	require.NotContains(t, u.PasswordHash, "correct horse")
	ok, err := auth.CheckPassword(u.PasswordHash, "correct horse")
	require.NoError(t, err)
	require.True(t, ok)

	code, out, _ = r.run("admin", "user", "list", "--tenant", "acme")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, out, "anna@acme.test")
	require.NotContains(t, out, "ops@beta.test")
	code, out, _ = r.run("admin", "user", "list")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, out, "anna@acme.test")
	require.Contains(t, out, "operator")

	code, out, errs = r.run("admin", "user", "disable", "--email", "ANNA@acme.test")
	require.Equal(t, cli.ExitOK, code, errs)
	require.Contains(t, out, "user anna@acme.test disabled")
	u, err = store.GetUserByEmail(ctx, r.db, "anna@acme.test")
	require.NoError(t, err)
	require.True(t, u.Disabled)
	code, _, _ = r.run("admin", "user", "enable", "--email", "anna@acme.test")
	require.Equal(t, cli.ExitOK, code)

	code, _, _ = r.run("admin", "tenant", "disable", "--name", "beta")
	require.Equal(t, cli.ExitOK, code)
	beta, err = store.GetTenantByName(ctx, r.db, "beta")
	require.NoError(t, err)
	require.True(t, beta.Disabled)

	// Each change is in the tenant's audit trail, as an operator's.
	events, err := store.ListAudit(ctx, r.db, beta.ID, 10)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	require.Equal(t, "tenant disabled", events[0].Detail)
	require.True(t, events[0].Operator)
	events, err = store.ListAudit(ctx, r.db, u.TenantID, 10)
	require.NoError(t, err)
	var details []string
	for _, e := range events {
		details = append(details, e.Detail)
	}
	require.Contains(t, details, "user disabled: anna@acme.test")
	require.Contains(t, details, "user enabled: anna@acme.test")
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	r := setupAdmin(t)
	code, _, errs := r.run("admin", "tenant", "create", "--name", "acme", "--domain", "acme.test", "--notify-email", "it@acme.test")
	require.Equal(t, cli.ExitOK, code, errs)
	r.env["PW"] = "long enough"
	r.env["SHORT"] = "short"

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no object", []string{"admin"}, cli.ExitUsage, "usage: trasloco admin"},
		{"unknown object", []string{"admin", "domain", "list"}, cli.ExitUsage, `unknown object "domain"`},
		{"unknown action", []string{"admin", "tenant", "delete"}, cli.ExitUsage, `unknown action "delete"`},
		{"unknown flag", []string{"admin", "tenant", "list", "--all"}, cli.ExitUsage, "-all"},
		{"stray argument", []string{"admin", "tenant", "list", "extra"}, cli.ExitUsage, `unexpected argument "extra"`},
		{"tenant no name", []string{"admin", "tenant", "create", "--domain", "x.test", "--notify-email", "a@x.test"}, cli.ExitUsage, "--name is required"},
		{"tenant no domain", []string{"admin", "tenant", "create", "--name", "x", "--notify-email", "a@x.test"}, cli.ExitUsage, "--domain is required"},
		{"tenant bad domain", []string{"admin", "tenant", "create", "--name", "x", "--domain", "x", "--notify-email", "a@x.test"}, cli.ExitUsage, `--domain "x"`},
		{"tenant no notify", []string{"admin", "tenant", "create", "--name", "x", "--domain", "x.test"}, cli.ExitUsage, "--notify-email is required"},
		{"tenant bad notify", []string{"admin", "tenant", "create", "--name", "x", "--domain", "x.test", "--notify-email", "x"}, cli.ExitUsage, "--notify-email"},
		{"tenant bad timezone", []string{"admin", "tenant", "create", "--name", "x", "--domain", "x.test", "--notify-email", "a@x.test", "--timezone", "Rome"}, cli.ExitUsage, "--timezone"},
		{"tenant bad language", []string{"admin", "tenant", "create", "--name", "x", "--domain", "x.test", "--notify-email", "a@x.test", "--language", "fr"}, cli.ExitUsage, "--language"},
		{"tenant duplicate name", []string{"admin", "tenant", "create", "--name", "acme", "--domain", "new.test", "--notify-email", "a@x.test"}, cli.ExitPartial, "already exists"},
		{"tenant duplicate domain", []string{"admin", "tenant", "create", "--name", "other", "--domain", "acme.test", "--notify-email", "a@x.test"}, cli.ExitPartial, "already exists"},
		{"tenant disable unknown", []string{"admin", "tenant", "disable", "--name", "nobody"}, cli.ExitPartial, `--name: no tenant named "nobody"`},
		{"user no tenant", []string{"admin", "user", "create", "--email", "a@acme.test", "--password-env", "PW"}, cli.ExitUsage, "--tenant is required"},
		{"user no email", []string{"admin", "user", "create", "--tenant", "acme", "--password-env", "PW"}, cli.ExitUsage, "--email is required"},
		{"user no password env", []string{"admin", "user", "create", "--tenant", "acme", "--email", "a@acme.test"}, cli.ExitUsage, "--password-env is required"},
		{"user empty password", []string{"admin", "user", "create", "--tenant", "acme", "--email", "a@acme.test", "--password-env", "UNSET"}, cli.ExitUsage, "UNSET is empty or not set"},
		{"user short password", []string{"admin", "user", "create", "--tenant", "acme", "--email", "a@acme.test", "--password-env", "SHORT"}, cli.ExitUsage, "shorter than 8"},
		{"user unknown tenant", []string{"admin", "user", "create", "--tenant", "nobody", "--email", "a@acme.test", "--password-env", "PW"}, cli.ExitPartial, `--tenant: no tenant named "nobody"`},
		{"user list unknown tenant", []string{"admin", "user", "list", "--tenant", "nobody"}, cli.ExitPartial, `--tenant: no tenant named "nobody"`},
		{"user disable unknown", []string{"admin", "user", "disable", "--email", "nobody@acme.test"}, cli.ExitPartial, `--email: no user "nobody@acme.test"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := r.run(tt.args...)
			require.Equal(t, tt.wantCode, code, errs)
			require.Contains(t, errs, tt.wantErr)
			require.NotContains(t, errs, "long enough") // never echo a password
		})
	}

	// A duplicate user.
	code, _, errs = r.run("admin", "user", "create", "--tenant", "acme", "--email", "a@acme.test", "--password-env", "PW")
	require.Equal(t, cli.ExitOK, code, errs)
	code, _, errs = r.run("admin", "user", "create", "--tenant", "acme", "--email", "A@acme.test", "--password-env", "PW")
	require.Equal(t, cli.ExitPartial, code)
	require.Contains(t, errs, "already exists")
}

func TestAdminNeedsDatabaseURL(t *testing.T) {
	t.Parallel()
	r := runner{t: t, env: map[string]string{}}
	code, _, errs := r.run("admin", "tenant", "list")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, errs, "DATABASE_URL")
}
