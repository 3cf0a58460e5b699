package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trasloco/trasloco/internal/cli"
	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// Ports are the loopback ports of the development environment.
type Ports struct {
	Panel       string // TRASLOCO_LISTEN, host:port
	Postgres    int
	DestIMAP    int // our server, plain with STARTTLS
	DestIMAPS   int // our server, implicit TLS (what the panel uses)
	OldIMAP     int // the customer's old server, plain with STARTTLS (what the CSV names)
	OldIMAPS    int
	SMTP        int // Mailpit
	MailpitHTTP int
}

// portVars are the environment variables that move the ports, with their
// defaults; TRASLOCO_LISTEN moves the panel.
var portVars = []struct {
	name string
	def  int
	port func(*Ports) *int
}{
	{"TRASLOCO_DEV_POSTGRES_PORT", 15432, func(p *Ports) *int { return &p.Postgres }},
	{"TRASLOCO_DEV_DEST_IMAP_PORT", 10143, func(p *Ports) *int { return &p.DestIMAP }},
	{"TRASLOCO_DEV_DEST_IMAPS_PORT", 10993, func(p *Ports) *int { return &p.DestIMAPS }},
	{"TRASLOCO_DEV_OLD_IMAP_PORT", 11143, func(p *Ports) *int { return &p.OldIMAP }},
	{"TRASLOCO_DEV_OLD_IMAPS_PORT", 11993, func(p *Ports) *int { return &p.OldIMAPS }},
	{"TRASLOCO_DEV_SMTP_PORT", 1025, func(p *Ports) *int { return &p.SMTP }},
	{"TRASLOCO_DEV_MAILPIT_PORT", 8025, func(p *Ports) *int { return &p.MailpitHTTP }},
}

// portsFromEnv returns the default ports, moved by the environment.
func portsFromEnv(getenv func(string) string) (Ports, error) {
	p := Ports{Panel: config.DefaultListen}
	if v := strings.TrimSpace(getenv(config.EnvListen)); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return Ports{}, fmt.Errorf("%s: want host:port, got %q", config.EnvListen, v)
		}
		p.Panel = v
	}
	for _, pv := range portVars {
		n := pv.def
		if v := strings.TrimSpace(getenv(pv.name)); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				return Ports{}, fmt.Errorf("%s: want a port from 1 to 65535, got %q", pv.name, v)
			}
		}
		*pv.port(&p) = n
	}
	return p, nil
}

// checkFree fails, naming the variable that moves it, when a port is taken.
func (p Ports) checkFree() error {
	addrs := []struct{ name, addr string }{{config.EnvListen, p.Panel}}
	for _, pv := range portVars {
		addrs = append(addrs, struct{ name, addr string }{pv.name, net.JoinHostPort("127.0.0.1", strconv.Itoa(*pv.port(&p)))})
	}
	seen := map[string]string{}
	var errs []error
	for _, a := range addrs {
		if other, dup := seen[a.addr]; dup {
			errs = append(errs, fmt.Errorf("%s and %s both want %s", other, a.name, a.addr))
			continue
		}
		seen[a.addr] = a.name
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s is taken (%v): stop what uses it or set %s to another", a.addr, err, a.name))
			continue
		}
		ln.Close()
	}
	return errors.Join(errs...)
}

// Options say where and how Start sets the environment up.
type Options struct {
	// Dir holds all the state. Required.
	Dir   string
	Ports Ports
	// Getenv supplies the settings of the panel that trasloco-dev does not
	// own (TRASLOCO_WORKERS, TRASLOCO_JOB_POLL, …; see ownedVars).
	// Default: nothing.
	Getenv func(string) string
	// Progress receives one line per step. Default: discard.
	Progress io.Writer
}

// Env is a running development environment.
type Env struct {
	opts  Options
	state state

	pg       *testenv.Postgres
	src, dst *testenv.Dovecot
	mailpit  *mailpit
	pool     *pgxpool.Pool

	// Tenant is the demo tenant.
	Tenant store.Tenant
	// CSVPath is the ready-to-upload demo CSV; ErrorsCSVPath one whose
	// every line is refused, for a red migration.
	CSVPath, ErrorsCSVPath string
	// EnvFilePath is the panel's configuration as a shell/systemd
	// environment file.
	EnvFilePath string
	// LogPath is where Serve writes the panel's log.
	LogPath string

	settings map[string]string
}

// state is what must stay the same across restarts (state.json).
type state struct {
	SecretKey      string `json:"secret_key"`
	MasterPassword string `json:"dest_master_password"`
	DemoSeeded     bool   `json:"demo_seeded"`
}

// Start starts PostgreSQL, our Dovecot with its master user, the old
// server with the demo mailboxes, and Mailpit, applies the schema and
// creates the demo tenant, users and CSVs. What an earlier Start left in
// opts.Dir is reused. On error, whatever it started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	e := &Env{
		opts:          opts,
		CSVPath:       filepath.Join(dir, "demo", "demo.csv"),
		ErrorsCSVPath: filepath.Join(dir, "demo", "demo-errors.csv"),
		EnvFilePath:   filepath.Join(dir, "trasloco.env"),
		LogPath:       filepath.Join(dir, "logs", "trasloco.log"),
	}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()
	if err := e.loadState(); err != nil {
		return nil, err
	}
	if err := e.startServers(ctx); err != nil {
		return nil, err
	}
	if err := e.prepareDatabase(ctx); err != nil {
		return nil, err
	}
	if err := e.prepareDemo(ctx); err != nil {
		return nil, err
	}
	e.settings = e.panelSettings()
	if err := e.writeFiles(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) progress(format string, args ...any) {
	fmt.Fprintf(e.opts.Progress, "trasloco-dev: "+format+"\n", args...)
}

func (e *Env) path(parts ...string) string {
	return filepath.Join(append([]string{e.opts.Dir}, parts...)...)
}

func (e *Env) loadState() error {
	b, err := os.ReadFile(e.path("state.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read state: %w", err)
	default:
		if err := json.Unmarshal(b, &e.state); err != nil {
			return fmt.Errorf("read %s: %w (make dev-reset starts clean)", e.path("state.json"), err)
		}
	}
	if e.state.SecretKey == "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		e.state.SecretKey = base64.StdEncoding.EncodeToString(key)
	}
	if e.state.MasterPassword == "" {
		e.state.MasterPassword = randomToken(16)
	}
	return e.saveState()
}

func (e *Env) saveState() error {
	b, _ := json.MarshalIndent(e.state, "", "  ")
	return writeFile(e.path("state.json"), append(b, '\n'), 0o600)
}

// startServers starts the four servers at once.
func (e *Env) startServers(ctx context.Context) error {
	p := e.opts.Ports
	e.progress("starting PostgreSQL (127.0.0.1:%d), our Dovecot (%d, %d), the old server (%d, %d) and Mailpit (%d, %d)",
		p.Postgres, p.DestIMAP, p.DestIMAPS, p.OldIMAP, p.OldIMAPS, p.SMTP, p.MailpitHTTP)
	var wg sync.WaitGroup
	var pgErr, dstErr, srcErr, mpErr error
	wg.Go(func() {
		e.pg, pgErr = testenv.StartPostgresWith(ctx, testenv.PostgresOptions{Dir: e.path("postgres"), Port: p.Postgres})
	})
	wg.Go(func() {
		e.dst, dstErr = testenv.StartDovecotWith(testenv.RoleDestination, e.path("dovecot", "destination"),
			testenv.DovecotOptions{PlainPort: p.DestIMAP, TLSPort: p.DestIMAPS, MasterPassword: e.state.MasterPassword})
	})
	wg.Go(func() {
		e.src, srcErr = testenv.StartDovecotWith(testenv.RoleSource, e.path("dovecot", "old-server"),
			testenv.DovecotOptions{PlainPort: p.OldIMAP, TLSPort: p.OldIMAPS})
	})
	wg.Go(func() {
		e.mailpit, mpErr = startMailpit(ctx, e.path("mailpit"), p.SMTP, p.MailpitHTTP)
	})
	wg.Wait()
	return errors.Join(pgErr, dstErr, srcErr, mpErr)
}

// databaseName is the panel's database in the private cluster.
const databaseName = "trasloco"

func (e *Env) databaseURL() string { return e.pg.DatabaseURL(databaseName) }

func (e *Env) prepareDatabase(ctx context.Context) error {
	if err := e.pg.CreateDatabase(ctx, databaseName); err != nil {
		return err
	}
	pool, err := database.Open(ctx, e.databaseURL())
	if err != nil {
		return err
	}
	e.pool = pool
	e.progress("applying the schema")
	return database.Migrate(ctx, pool)
}

func (e *Env) prepareDemo(ctx context.Context) error {
	for _, m := range demoMailboxes {
		if !e.src.HasUser(m.OldUser) {
			e.state.DemoSeeded = false // the old server's directory is new, or was removed
		}
	}
	if err := ensureMailUsers(e.src, e.dst); err != nil {
		return err
	}
	if !e.state.DemoSeeded {
		e.progress("filling the old server's demo mailboxes (%d messages, one over 30 MB)", demoMessageCount())
		start := time.Now()
		wipe := func(user string) error { return os.RemoveAll(filepath.Join(e.src.Dir(), "mail", user)) }
		if err := seedOldServer(e.src.Connect, e.src.Prefix(), demoMailboxes, wipe); err != nil {
			return err
		}
		e.state.DemoSeeded = true
		if err := e.saveState(); err != nil {
			return err
		}
		e.progress("filled in %s", time.Since(start).Round(100*time.Millisecond))
	}
	t, err := ensureRecords(ctx, e.pool)
	if err != nil {
		return fmt.Errorf("create the demo tenant and users: %w", err)
	}
	e.Tenant = t
	return nil
}

func demoMessageCount() int {
	n := 0
	for _, m := range demoMailboxes {
		n += m.total()
	}
	return n
}

// OldServer is the old server's address as the CSV names it.
func (e *Env) OldServer() string { return e.src.PlainAddr() }

// ownedVars are the settings trasloco-dev decides (they point at its own
// servers); any other TRASLOCO_* variable of the environment reaches the
// panel unchanged.
var ownedVars = []string{
	config.EnvDatabaseURL, config.EnvListen, config.EnvSecretKey,
	config.EnvDestHost, config.EnvDestTLS, config.EnvDestCAFile,
	config.EnvDestMasterUser, config.EnvDestMasterPassword,
	config.EnvSMTPURL, config.EnvAllowRemoteNets,
}

// servers is where the panel finds what it talks to.
type servers struct {
	DatabaseURL, Listen, SecretKey                   string
	DestAddr, DestCAFile, MasterUser, MasterPassword string
	SMTPURL                                          string
}

// panelSettings is the panel's configuration: the servers', then
// development defaults, then what the environment passes through.
func (e *Env) panelSettings() map[string]string {
	s := devSettings(servers{
		DatabaseURL: e.databaseURL(), Listen: e.opts.Ports.Panel, SecretKey: e.state.SecretKey,
		DestAddr: e.dst.TLSAddr(), DestCAFile: e.dst.CAFile(),
		MasterUser: e.dst.MasterUser(), MasterPassword: e.dst.MasterPassword(),
		SMTPURL: e.mailpit.SMTPURL(),
	})
	for _, k := range e.passThrough() {
		s[k] = e.opts.Getenv(k)
	}
	return s
}

// devSettings is make dev's configuration of the panel. docker-compose.yml
// sets the same variables (with its own host names); a test checks it.
func devSettings(sv servers) map[string]string {
	return map[string]string{
		config.EnvDatabaseURL:        sv.DatabaseURL,
		config.EnvListen:             sv.Listen,
		config.EnvBaseURL:            "http://" + sv.Listen,
		config.EnvSecretKey:          sv.SecretKey,
		config.EnvDestHost:           sv.DestAddr,
		config.EnvDestTLS:            string(config.TLSImplicit),
		config.EnvDestCAFile:         sv.DestCAFile,
		config.EnvDestMasterUser:     sv.MasterUser,
		config.EnvDestMasterPassword: sv.MasterPassword,
		config.EnvSMTPURL:            sv.SMTPURL,
		config.EnvSMTPFrom:           "trasloco@" + operatorDomain,
		// The old server is on loopback, which the panel refuses otherwise.
		config.EnvAllowRemoteNets: "127.0.0.0/8",
		// …and on ports of its own.
		config.EnvAllowRemotePorts: "any",
		// Snappier than production: a mailbox waiting for its host's slot
		// looks again every 2 s, a failed one is retried after 5 s.
		config.EnvJobPoll:      "2s",
		config.EnvRetryBackoff: "5s",
	}
}

// passThrough lists the TRASLOCO_* variables of the environment that reach
// the panel as they are.
func (e *Env) passThrough() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TRASLOCO_") && !strings.HasPrefix(k, "TRASLOCO_DEV_") &&
			!slices.Contains(ownedVars, k) && e.opts.Getenv(k) != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Getenv is the panel's environment.
func (e *Env) Getenv(k string) string { return e.settings[k] }

// writeFiles writes the CSVs and the environment file.
func (e *Env) writeFiles() error {
	if err := writeFile(e.CSVPath, []byte(demoCSV(e.OldServer())), 0o644); err != nil {
		return err
	}
	if err := writeFile(e.ErrorsCSVPath, []byte(demoErrorsCSV(e.OldServer())), 0o644); err != nil {
		return err
	}
	keys := make([]string, 0, len(e.settings))
	for k := range e.settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("# The panel's settings while make dev runs (written at every start).\n")
	b.WriteString("# Use them with bin/trasloco: set -a; . " + e.EnvFilePath + "; set +a\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(e.settings[k]))
	}
	return writeFile(e.EnvFilePath, []byte(b.String()), 0o600)
}

// Serve runs `trasloco serve` (panel and workers) in this process until
// ctx ends, its log appended to LogPath, and returns its exit code.
func (e *Env) Serve(ctx context.Context) int {
	if err := os.MkdirAll(filepath.Dir(e.LogPath), 0o755); err != nil {
		fmt.Fprintf(e.opts.Progress, "trasloco-dev: %v\n", err)
		return cli.ExitPartial
	}
	logf, err := os.OpenFile(e.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(e.opts.Progress, "trasloco-dev: %v\n", err)
		return cli.ExitPartial
	}
	defer logf.Close()
	return cli.Run(ctx, []string{"serve"}, cli.Env{
		Getenv: e.Getenv,
		Stdin:  strings.NewReader(""),
		Stdout: logf,
		Stderr: logf,
	})
}

// PanelURL is the panel's address.
func (e *Env) PanelURL() string { return e.settings[config.EnvBaseURL] }

// MailpitURL is Mailpit's web server.
func (e *Env) MailpitURL() string { return e.mailpit.URL() }

// Stop stops every server Start started, PostgreSQL last.
func (e *Env) Stop() error {
	if e.pool != nil {
		e.pool.Close()
	}
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	add := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	if e.mailpit != nil {
		wg.Go(func() { add(e.mailpit.Stop()) })
	}
	for _, d := range []*testenv.Dovecot{e.src, e.dst} {
		if d != nil {
			wg.Go(func() { add(d.Stop()) })
		}
	}
	wg.Wait()
	if e.pg != nil {
		add(e.pg.Stop())
	}
	return errors.Join(errs...)
}

// Banner is what a newcomer needs to try the demo; title is its first line.
func (e *Env) Banner(w io.Writer, title string) {
	rel := func(p string) string {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
				return r
			}
		}
		return p
	}
	mp := e.MailpitURL()
	fmt.Fprintf(w, `
%s

  Panel     %s
  Login     %s   password %s
  CSV       %s
            in "Nuova Migrazione": server type %s, first run a minute from now
            (%s: a line refused for each reason)
  Mail      %s/view/latest.html   the latest email Mailpit caught
            %s/api/v1/messages    all of them, REST API (Mailpit's own web
            UI needs scripts that a Go module build lacks)
  Operator  %s   password %s
  Logs      %s
  Settings  %s

The old server %s holds %d demo messages in %d mailboxes; our server is %s.
Ctrl-C stops everything; make dev-reset (also from another terminal) starts clean.
`,
		title,
		e.PanelURL(), demoUserEmail, demoUserPassword,
		rel(e.CSVPath), demoPreset, rel(e.ErrorsCSVPath),
		mp, mp,
		operatorEmail, operatorPassword,
		rel(e.LogPath), rel(e.EnvFilePath),
		e.OldServer(), demoMessageCount(), len(demoMailboxes), e.dst.TLSAddr())
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// shellQuote quotes v for a POSIX shell (and systemd's EnvironmentFile)
// when it needs it.
func shellQuote(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
