package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/store"
)

const adminUsage = `usage: trasloco admin <tenant|user> <action> [flags]

  admin tenant create --name N --domain D [--domain D2 …] --notify-email E [--timezone Europe/Rome] [--language it|en]
  admin tenant list
  admin tenant disable --name N
  admin tenant enable --name N
  admin user create --tenant N --email E --password-env VAR [--operator]
  admin user list [--tenant N]
  admin user disable --email E
  admin user enable --email E

Every action needs DATABASE_URL. A user's password is read from the
environment variable named by --password-env, never from the command line.
`

// minPasswordLen is the shortest panel password admin user create accepts.
const minPasswordLen = 8

type adminAction struct {
	flags func(fs *flag.FlagSet) func(ctx context.Context, db *pgxpool.Pool, env Env) error
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// runAdmin manages tenants and users.
func runAdmin(ctx context.Context, args []string, env Env) int {
	if len(args) < 2 || args[0] == "-h" || args[0] == "--help" {
		io.WriteString(env.Stderr, adminUsage)
		return ExitUsage
	}
	actions := map[string]map[string]adminAction{
		"tenant": {"create": tenantCreate(), "list": tenantList(), "disable": tenantSetDisabled(true), "enable": tenantSetDisabled(false)},
		"user":   {"create": userCreate(), "list": userList(), "disable": userSetDisabled(true), "enable": userSetDisabled(false)},
	}
	name := "trasloco admin " + args[0] + " " + args[1]
	group, ok := actions[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "trasloco admin: unknown object %q: want tenant or user\n\n%s", args[0], adminUsage)
		return ExitUsage
	}
	action, ok := group[args[1]]
	if !ok {
		fmt.Fprintf(env.Stderr, "trasloco admin %s: unknown action %q\n\n%s", args[0], args[1], adminUsage)
		return ExitUsage
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	run := action.flags(fs)
	if err := fs.Parse(args[2:]); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return ExitUsage
	}
	url, err := config.LoadDatabase(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	// Flag checks that need no database come first, so a typo doesn't wait
	// for a connection.
	if err := run(ctx, nil, env); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
			return ExitUsage
		}
	}
	pool, err := database.Open(ctx, url)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitPartial
	}
	defer pool.Close()
	if err := database.CheckCurrent(ctx, pool); err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitPartial
	}
	if err := run(ctx, pool, env); err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return ExitUsage
		}
		return ExitPartial
	}
	return ExitOK
}

// errValidated is returned by an action's run in its flag-checking pass
// (db == nil) when the flags are fine.
var errValidated = errors.New("flags checked")

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func tenantCreate() adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		name := fs.String("name", "", "tenant name (required, unique)")
		var domains stringList
		fs.Var(&domains, "domain", "a mail domain of the tenant (required; repeat for more)")
		notify := fs.String("notify-email", "", "where run-completion emails go (required)")
		tz := fs.String("timezone", store.DefaultTimezone, "IANA time zone run times are entered and shown in")
		lang := fs.String("language", store.LanguageItalian, "panel and email language: it or en")
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			switch {
			case strings.TrimSpace(*name) == "":
				return usagef("--name is required")
			case len(domains) == 0:
				return usagef("--domain is required (repeat it for more domains)")
			case *notify == "":
				return usagef("--notify-email is required")
			case !strings.Contains(*notify, "@"):
				return usagef("--notify-email %q is not an email address", *notify)
			case *lang != store.LanguageItalian && *lang != store.LanguageEnglish:
				return usagef("--language %q: want it or en", *lang)
			}
			if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
				return usagef("--timezone %q is not an IANA time zone such as Europe/Rome", *tz)
			}
			for _, d := range domains {
				if d = strings.TrimSpace(d); d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@ /") {
					return usagef("--domain %q is not a domain name", d)
				}
			}
			if db == nil {
				return errValidated
			}
			t, err := store.CreateTenant(ctx, db, store.NewTenant{
				Name: *name, NotifyEmail: *notify, Timezone: *tz, Language: *lang, Domains: domains,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "created tenant %s (id %d) with domains %s\n", t.Name, t.ID, strings.Join(t.Domains, ", "))
			return adminAudit(ctx, db, t.ID, "tenant created: "+t.Name)
		}
	}}
}

func tenantList() adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			if db == nil {
				return errValidated
			}
			ts, err := store.ListTenants(ctx, db)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tDOMAINS\tNOTIFY EMAIL\tTIMEZONE\tLANGUAGE\tSTATUS")
			for _, t := range ts {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Domains, ","),
					t.NotifyEmail, t.Timezone, t.Language, enabledWord(t.Disabled))
			}
			return w.Flush()
		}
	}}
}

func tenantSetDisabled(disabled bool) adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		name := fs.String("name", "", "tenant name (required)")
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			if strings.TrimSpace(*name) == "" {
				return usagef("--name is required")
			}
			if db == nil {
				return errValidated
			}
			if err := store.SetTenantDisabled(ctx, db, *name, disabled); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--name: no tenant named %q", *name)
				}
				return err
			}
			fmt.Fprintf(env.Stdout, "tenant %s %s\n", *name, enabledWord(disabled))
			t, err := store.GetTenantByName(ctx, db, *name)
			if err != nil {
				return err
			}
			return adminAudit(ctx, db, t.ID, "tenant "+enabledWord(disabled))
		}
	}}
}

func userCreate() adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		tenant := fs.String("tenant", "", "name of the user's tenant (required)")
		email := fs.String("email", "", "the user's email, used to log in (required)")
		pwEnv := fs.String("password-env", "", "name of the environment variable holding the password (required)")
		operator := fs.Bool("operator", false, "the user works for the provider and may see every tenant")
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			switch {
			case strings.TrimSpace(*tenant) == "":
				return usagef("--tenant is required")
			case strings.TrimSpace(*email) == "":
				return usagef("--email is required")
			case !strings.Contains(*email, "@"):
				return usagef("--email %q is not an email address", *email)
			case *pwEnv == "":
				return usagef("--password-env is required: export the password in a variable and name it here")
			}
			password := env.Getenv(*pwEnv)
			if password == "" {
				return usagef("--password-env: environment variable %s is empty or not set", *pwEnv)
			}
			if len([]rune(password)) < minPasswordLen {
				return usagef("--password-env: the password in %s is shorter than %d characters", *pwEnv, minPasswordLen)
			}
			if db == nil {
				return errValidated
			}
			t, err := store.GetTenantByName(ctx, db, *tenant)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("--tenant: no tenant named %q (create it with trasloco admin tenant create)", *tenant)
			}
			if err != nil {
				return err
			}
			hash, err := auth.HashPassword(password)
			if err != nil {
				return err
			}
			u, err := store.CreateUser(ctx, db, t.ID, store.NewUser{Email: *email, PasswordHash: hash, Operator: *operator})
			if err != nil {
				return err
			}
			role := "user"
			if u.Operator {
				role = "operator"
			}
			fmt.Fprintf(env.Stdout, "created %s %s (id %d) in tenant %s\n", role, u.Email, u.ID, t.Name)
			return adminAudit(ctx, db, t.ID, role+" created: "+u.Email)
		}
	}}
}

func userList() adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		tenant := fs.String("tenant", "", "list only this tenant's users")
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			if db == nil {
				return errValidated
			}
			var us []store.User
			var err error
			if *tenant != "" {
				t, terr := store.GetTenantByName(ctx, db, *tenant)
				if errors.Is(terr, store.ErrNotFound) {
					return fmt.Errorf("--tenant: no tenant named %q", *tenant)
				}
				if terr != nil {
					return terr
				}
				us, err = store.ListUsers(ctx, db, t.ID)
			} else {
				us, err = store.ListAllUsers(ctx, db)
			}
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tEMAIL\tTENANT\tROLE\tSTATUS\tCREATED")
			for _, u := range us {
				role := "user"
				if u.Operator {
					role = "operator"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.TenantName, role,
					enabledWord(u.Disabled), u.CreatedAt.UTC().Format(time.DateTime+"Z"))
			}
			return w.Flush()
		}
	}}
}

func userSetDisabled(disabled bool) adminAction {
	return adminAction{flags: func(fs *flag.FlagSet) func(context.Context, *pgxpool.Pool, Env) error {
		email := fs.String("email", "", "the user's email (required)")
		return func(ctx context.Context, db *pgxpool.Pool, env Env) error {
			if strings.TrimSpace(*email) == "" {
				return usagef("--email is required")
			}
			if db == nil {
				return errValidated
			}
			if err := store.SetUserDisabled(ctx, db, *email, disabled); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--email: no user %q", store.NormalizeEmail(*email))
				}
				return err
			}
			fmt.Fprintf(env.Stdout, "user %s %s\n", store.NormalizeEmail(*email), enabledWord(disabled))
			u, err := store.GetUserByEmail(ctx, db, *email)
			if err != nil {
				return err
			}
			return adminAudit(ctx, db, u.TenantID, "user "+enabledWord(disabled)+": "+u.Email)
		}
	}}
}

// adminAudit records an operator's change to a tenant made from the
// command line in the audit trail, which the tenant and operators see.
func adminAudit(ctx context.Context, db store.DBTX, tenantID int64, detail string) error {
	return store.RecordAudit(ctx, db, store.AuditEvent{TenantID: tenantID, Actor: "trasloco admin", Operator: true,
		Action: store.AuditTenantChanged, Detail: detail})
}

func enabledWord(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}
