package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trasloco/trasloco/internal/database"
)

// EnvTestDatabaseURL names a PostgreSQL server to use instead of starting a
// private one. Its role must be allowed to create databases.
const EnvTestDatabaseURL = "TEST_DATABASE_URL"

// Postgres is a PostgreSQL server for tests: a private cluster started by
// StartPostgres, or the server TEST_DATABASE_URL points at.
type Postgres struct {
	url   string
	admin *pgxpool.Pool

	// Set only for a private cluster.
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	// Set only by StartPostgresWith: a fixed port, and a cluster that
	// outlives Stop (durable, no unix socket).
	port    int
	keepDir bool

	tmplMu sync.Mutex
	tmpl   string // database migrated once, cloned by NewTestDB

	stopOnce sync.Once
	stopErr  error
}

// sharedPG is the server SharedPostgres starts once per test binary.
var sharedPG struct {
	once sync.Once
	pg   *Postgres
	err  error
}

// SharedPostgres returns the test binary's PostgreSQL server, starting it
// on first use. Main stops it when the tests are done; if the test binary
// dies first, the server gets SIGQUIT from the kernel (parent-death signal).
// A server that cannot start fails the test: it never skips.
func SharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	sharedPG.once.Do(func() {
		sharedPG.pg, sharedPG.err = StartPostgres(context.Background())
		if sharedPG.err == nil {
			addSharedCleanup(sharedPG.pg.Stop)
		}
	})
	if sharedPG.err != nil {
		t.Fatalf("start PostgreSQL: %v", sharedPG.err)
	}
	return sharedPG.pg
}

// URL is the connection string of the server's maintenance database.
func (p *Postgres) URL() string { return p.url }

// DatabaseURL is the connection string of the named database on the server.
func (p *Postgres) DatabaseURL(name string) string { return pgWithDatabase(p.url, name) }

// NewTestDB creates a fresh database holding the current schema (ours and
// River's), returns a pool on it and drops it when the test ends. The
// database's URL, for code that wants one, is pool.Config().ConnString().
func NewTestDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pg := SharedPostgres(t)
	ctx := context.Background()
	tmpl, err := pg.template(ctx)
	if err != nil {
		t.Fatalf("prepare template database: %v", err)
	}
	return pg.newDB(t, "TEMPLATE "+tmpl)
}

// NewEmptyTestDB is NewTestDB without the schema: for testing migrations.
func NewEmptyTestDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return SharedPostgres(t).newDB(t, "")
}

func (p *Postgres) newDB(t testing.TB, opts string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	name := "t_" + pgRandomHex(8)
	if _, err := p.admin.Exec(ctx, "CREATE DATABASE "+name+" "+opts); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	pool, err := pgxpool.New(ctx, p.DatabaseURL(name))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if _, err := p.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return pool
}

// template returns the name of a database holding the migrated schema,
// creating it on first use. Cloning it is much faster than migrating every
// test database. It is per process, so concurrent test binaries sharing a
// TEST_DATABASE_URL server don't step on each other.
func (p *Postgres) template(ctx context.Context) (string, error) {
	p.tmplMu.Lock()
	defer p.tmplMu.Unlock()
	if p.tmpl != "" {
		return p.tmpl, nil
	}
	name := "tmpl_" + pgRandomHex(8)
	if _, err := p.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	pool, err := pgxpool.New(ctx, p.DatabaseURL(name))
	if err != nil {
		return "", fmt.Errorf("open %s: %w", name, err)
	}
	err = database.Migrate(ctx, pool)
	pool.Close() // CREATE DATABASE … TEMPLATE refuses while anyone is connected
	if err != nil {
		return "", err
	}
	p.tmpl = name
	return name, nil
}

// StartPostgres returns the server TEST_DATABASE_URL names or, when unset,
// initialises and starts a private cluster in a temporary directory,
// listening on a free 127.0.0.1 port and a unix socket in that directory,
// with fsync off. Stop it with Stop.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	if u := os.Getenv(EnvTestDatabaseURL); u != "" {
		admin, err := pgxpool.New(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvTestDatabaseURL, err)
		}
		if err := admin.Ping(ctx); err != nil {
			admin.Close()
			return nil, fmt.Errorf("%s: %w", EnvTestDatabaseURL, err)
		}
		return &Postgres{url: u, admin: admin}, nil
	}

	bindir, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	removeStaleClusters()
	dir, err := os.MkdirTemp("", "trasloco-pg-")
	if err != nil {
		return nil, fmt.Errorf("make cluster directory: %w", err)
	}
	p := &Postgres{dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("write owner.pid: %w", err)
	}
	cred, err := postgresCredential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bindir, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir = dir
	initdb.Env = pgChildEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	// A free port can be taken between our probe and postgres's bind; retry.
	for attempt := 1; ; attempt++ {
		err = p.start(ctx, bindir, data, cred)
		if err == nil {
			return p, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (p *Postgres) start(ctx context.Context, bindir, data string, cred *syscall.Credential) error {
	port := p.port
	if port == 0 {
		var err error
		if port, err = pgFreePort(); err != nil {
			return err
		}
	}
	logPath := filepath.Join(p.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create postgres.log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	args := []string{
		"-D", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB",
		"-c", "dynamic_shared_memory_type=mmap",
		"-c", "log_min_messages=warning",
	}
	if p.keepDir {
		// Kept across restarts: durable, and no unix socket, whose path
		// could be too long in a deep checkout.
		args = append(args, "-k", "")
	} else {
		args = append(args, "-k", p.dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bindir, "postgres"), args...)
	cmd.Dir = p.dir
	cmd.Env = pgChildEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT is PostgreSQL's immediate shutdown: if the test binary dies
	// without running Stop, the cluster goes with it.
	// A kept cluster gets a process group of its own, like Dovecot: the
	// terminal's Ctrl-C goes to its owner, which stops it last.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: p.keepDir}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	p.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("postgres exited at start:\n%s", pgLogTail(logPath))
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(cctx, p.url)
		cancel()
		if err == nil {
			conn.Close(ctx)
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("postgres not ready after 30s: %v\n%s", err, pgLogTail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin, err := pgxpool.New(ctx, p.url)
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("open admin pool: %w", err)
	}
	p.cmd, p.exited, p.admin = cmd, exited, admin
	return nil
}

// Stop shuts the private cluster down and removes its directory; on a
// TEST_DATABASE_URL server it drops the template database it made.
// Calling it again does nothing.
func (p *Postgres) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Postgres) stop() error {
	var errs []error
	if p.admin != nil {
		if p.cmd == nil && p.tmpl != "" {
			if _, err := p.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+p.tmpl+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("drop %s: %w", p.tmpl, err))
			}
		}
		p.admin.Close()
	}
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			errs = append(errs, errors.New("postgres did not stop within 10s; killed"))
		}
	}
	if p.dir != "" && !p.keepDir {
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// postgresBinDir finds the directory holding initdb and postgres.
func postgresBinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	// Debian keeps the server binaries off PATH, one directory per major version.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgMajorOf(versions[i]) > pgMajorOf(versions[j]) })
	candidates = append(candidates, versions...)
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, d := range candidates {
		if pgIsExecutable(filepath.Join(d, "initdb")) && pgIsExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found: install the postgresql package (make test does) or set " + EnvTestDatabaseURL)
}

func pgMajorOf(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

func pgIsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// postgresCredential returns nil when not root. PostgreSQL refuses to run
// as root, so as root the cluster runs as the "postgres" system user (which
// Debian's postgresql package creates) and dir is handed over to it.
func postgresCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("hand cluster directory to postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// childEnv is a small, predictable environment for initdb and postgres.
func pgChildEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "TZ=UTC"}
}

// removeStaleClusters deletes clusters left by test binaries that died
// without stopping theirs (the parent-death signal stopped the server).
func removeStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "trasloco-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // being created right now, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			if line, _, _ := strings.Cut(string(b), "\n"); line != "" {
				if pgpid, err := strconv.Atoi(line); err == nil && pgpid > 0 {
					_ = syscall.Kill(pgpid, syscall.SIGQUIT)
				}
			}
		}
		_ = os.RemoveAll(d)
	}
}

func pgFreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func pgWithDatabase(connString, name string) string {
	if u, err := url.Parse(connString); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	// keyword=value form: a later dbname wins.
	return connString + " dbname=" + name
}

func pgRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func pgLogTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}
