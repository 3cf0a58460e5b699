package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// DovecotOptions change how StartDovecotWith starts an instance. The zero
// value is what tests get from StartDovecot: free ports picked anew and a
// random master password.
type DovecotOptions struct {
	// PlainPort and TLSPort are fixed 127.0.0.1 ports for the plain
	// (STARTTLS) and implicit-TLS listeners. Both or neither. Default:
	// free ports picked at start, retried when taken meanwhile; a fixed
	// port that is taken is an error.
	PlainPort, TLSPort int
	// MasterPassword is the master user's password. Default: random.
	MasterPassword string
	// OAuth2, when set, adds Dovecot's oauth2 passdb: AUTHENTICATE XOAUTH2
	// and OAUTHBEARER tokens are validated through an introspection
	// endpoint (see OAuthServer). Default: passwords only.
	OAuth2 *DovecotOAuth2
	// Provider makes a source look like Gmail, Exchange or Office 365
	// (see Provider). Default: the Courier-like source of RoleSource.
	Provider Provider
	// IMAPWrapper, when set, is a command every imap process runs under,
	// its arguments separated by spaces: the imap binary's path follows
	// them ("valgrind --tool=callgrind --callgrind-out-file=DIR/cg.%p"
	// counts each session's instructions, which CPU times on a busy
	// machine cannot). Its virtual memory is then unlimited. Default: none.
	IMAPWrapper string
}

// DovecotOAuth2 configures the oauth2 passdb of a Dovecot instance.
type DovecotOAuth2 struct {
	// IntrospectionURL is asked with the token appended (Dovecot's "get"
	// introspection: its "post" mode panics in 2.3.19) and answers JSON
	// with "active" and "username" (RFC 7662).
	IntrospectionURL string
	// PerDomain compares the introspection's username with the domain of
	// the user logging in instead of the whole user: an app-only token
	// is good for a whole domain (Dovecot cannot tell the introspection
	// which mailbox logs in). Default: the whole user.
	PerDomain bool
	// OnlyBearer offers OAUTHBEARER and not XOAUTH2. Default: both.
	OnlyBearer bool
	// OnlyOAuth drops the password passdb, as Office 365 does with basic
	// authentication: a LOGIN with a password is refused whatever it is.
	OnlyOAuth bool
}

func (o DovecotOptions) fixedPorts() bool { return o.PlainPort != 0 || o.TLSPort != 0 }

// ports returns the two ports to listen on.
func (o DovecotOptions) ports() ([]int, error) {
	if !o.fixedPorts() {
		return freePorts(2)
	}
	if o.PlainPort <= 0 || o.TLSPort <= 0 || o.PlainPort > 65535 || o.TLSPort > 65535 || o.PlainPort == o.TLSPort {
		return nil, fmt.Errorf("dovecot ports %d and %d: want two different ports from 1 to 65535", o.PlainPort, o.TLSPort)
	}
	return []int{o.PlainPort, o.TLSPort}, nil
}

// loadUsers remembers the users an earlier start of the same directory
// created (one passwd file each in users/), so a development environment
// that starts again finds them with HasUser. Tests start in fresh
// directories and find none.
func (d *Dovecot) loadUsers() error {
	entries, err := os.ReadDir(filepath.Join(d.dir, "users"))
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, e := range entries {
		if name := e.Name(); e.Type().IsRegular() && !strings.Contains(name, ".tmp-") {
			d.users[name] = true
		}
	}
	return nil
}

// HasUser reports whether the user exists: added by AddUser, or by an
// earlier start in the same directory.
func (d *Dovecot) HasUser(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users[name]
}

// PostgresOptions say where StartPostgresWith keeps its cluster.
type PostgresOptions struct {
	// Dir holds the cluster (data/) and postgres.log. Required. A cluster
	// already there is started again, otherwise one is initialised. As
	// root the directory is handed to the postgres system user, and its
	// ancestors must be traversable by it.
	Dir string
	// Port is the fixed 127.0.0.1 port. Required.
	Port int
}

// StartPostgresWith starts a private cluster that, unlike StartPostgres's,
// survives Stop: for a development environment that keeps its state across
// restarts. It listens on 127.0.0.1:Port only (no unix socket), with the
// durability settings left on, and ignores TEST_DATABASE_URL. URL is the
// maintenance database, user postgres, trusted without a password.
func StartPostgresWith(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.Dir == "" || opts.Port <= 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("start postgres: want a directory and a port, got %q and %d", opts.Dir, opts.Port)
	}
	bindir, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p := &Postgres{dir: dir, port: opts.Port, keepDir: true}
	cred, err := postgresCredential(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		// Never initialised, or initdb died half-way: start that over.
		if err := os.RemoveAll(data); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		initdb := exec.CommandContext(ctx, filepath.Join(bindir, "initdb"),
			"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
		initdb.Dir = dir
		initdb.Env = pgChildEnv()
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}
	if err := p.start(ctx, bindir, data, cred); err != nil {
		return nil, err
	}
	return p, nil
}

// CreateDatabase creates the named database unless it exists.
// The name is lower-case letters, digits and _.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) >= 0 {
		return fmt.Errorf("create database %q: want lower-case letters, digits and _", name)
	}
	var exists bool
	if err := p.admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := p.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// hasACL reports whether path has a POSIX access ACL, which may grant
// Dovecot's users what its mode bits don't.
func hasACL(path string) bool {
	n, err := syscall.Getxattr(path, "system.posix_acl_access", nil)
	return err == nil && n > 0
}
