// Package testenv starts the real servers that integration tests and
// benchmarks run against: two Dovecot instances that behave differently on
// purpose (an old-style source and a destination like ours), each on loopback
// ports it picks, in its own directory, stopped when the test binary ends.
// It also builds deterministic test messages (corpus.go).
package testenv

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Role says which of the two servers of a migration a Dovecot instance plays.
type Role int

const (
	// RoleSource is the customer's old server, configured like Courier or
	// Cyrus: hierarchy delimiter ".", personal namespace prefix "INBOX.",
	// maildir storage, INBOX.Sent (\Sent) and INBOX.Bulk (\Junk) created for
	// every user and no other special-use folders.
	RoleSource Role = iota + 1
	// RoleDestination is our own server: delimiter "/", no prefix, sdbox
	// storage, and Sent, Drafts, Archive, Trash and Junk with their
	// SPECIAL-USE attributes, created and subscribed for every user.
	RoleDestination
)

// String returns "source" or "destination".
func (r Role) String() string {
	switch r {
	case RoleSource:
		return "source"
	case RoleDestination:
		return "destination"
	default:
		return "Role(" + strconv.Itoa(int(r)) + ")"
	}
}

const (
	// masterUser is the name of the master user of every instance; its
	// password is random per instance.
	masterUser = "master"
	// startTimeout bounds how long StartDovecot waits for the greeting.
	startTimeout = 30 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before killing.
	stopTimeout = 15 * time.Second
	// startAttempts is how often StartDovecot retries when a port it
	// picked was taken by someone else in the meantime.
	startAttempts = 5
)

// Dovecot is one running Dovecot instance. All methods are safe for
// concurrent use.
type Dovecot struct {
	role       Role
	dir        string
	baseDir    string
	ownBaseDir bool // baseDir is a separate temporary directory to remove on Stop
	confPath   string
	plainPort  int
	tlsPort    int
	certs      *testCerts
	masterPass string
	opts       DovecotOptions
	mailUID    int
	mailGID    int

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	werr error         // exit status, valid once done is closed

	mu    sync.Mutex
	users map[string]bool // users added, each with its own passwd file users/<name>

	stopOnce sync.Once
	stopErr  error
}

// UserOption changes how AddUser creates a user.
type UserOption func(*userSettings)

type userSettings struct {
	extra []string // passwd-file extra fields, "key=value"
}

// WithQuota limits the user's mailbox to kib KiB of message storage
// (Dovecot's quota plugin, "count" backend). Beyond it an APPEND fails with
// NO [OVERQUOTA]. Default: no quota.
func WithQuota(kib int) UserOption {
	return func(s *userSettings) {
		s.extra = append(s.extra, fmt.Sprintf("userdb_quota_rule=*:storage=%dk", kib))
	}
}

// StartDovecot starts a Dovecot instance in role under dir (created if
// missing; it holds the configuration, passwd files, certificates, mail and
// the log dovecot.log) and returns once both ports answer with an IMAP
// greeting. On failure the error carries the tail of Dovecot's log.
//
// Running as root, mail belongs to Debian's "dovecot" user and login
// processes run as "dovenull"; dir's ancestors inside the system temporary
// directory are made traversable (o+x) for them. Running as an ordinary user,
// every process runs as that user.
func StartDovecot(role Role, dir string) (*Dovecot, error) {
	return StartDovecotWith(role, dir, DovecotOptions{})
}

// StartDovecotWith is StartDovecot with options (fixed ports, a given master
// password), for a development environment that keeps its servers in a
// directory of its own across restarts (see DovecotOptions).
func StartDovecotWith(role Role, dir string, opts DovecotOptions) (*Dovecot, error) {
	if role != RoleSource && role != RoleDestination {
		return nil, fmt.Errorf("start dovecot: unknown role %d", role)
	}
	bin, err := findBinary("dovecot")
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	if opts.Provider != ProviderNone && role != RoleSource {
		return nil, fmt.Errorf("start dovecot: %w", errNotProvider)
	}
	d := &Dovecot{role: role, dir: dir, users: map[string]bool{}, opts: opts}
	if err := d.prepare(); err != nil {
		d.cleanupBaseDir()
		return nil, fmt.Errorf("start %s dovecot: %w", role, err)
	}
	for attempt := 1; ; attempt++ {
		err := d.start(bin)
		if err == nil {
			return d, nil
		}
		if attempt < startAttempts && errors.Is(err, errPortTaken) && !opts.fixedPorts() {
			continue
		}
		d.cleanupBaseDir()
		return nil, fmt.Errorf("start %s dovecot in %s: %w", role, dir, err)
	}
}

// prepare creates the directory tree, certificates, passwd files and decides
// which system users Dovecot's processes run as.
func (d *Dovecot) prepare() error {
	subs := []string{"", "state", "tls", "mail", "users"}
	if d.opts.Provider.exchange() {
		subs = append(subs, "public") // the public folders' namespace
	}
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	// Dovecot's unprivileged processes must reach the passwd files and mail.
	if err := os.Chmod(d.dir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", d.dir, err)
	}
	certs, err := newTestCerts()
	if err != nil {
		return err
	}
	d.certs = certs
	if err := certs.write(d.CAFile(), filepath.Join(d.dir, "tls", "server.pem"), filepath.Join(d.dir, "tls", "server.key")); err != nil {
		return err
	}
	d.masterPass = d.opts.MasterPassword
	if d.masterPass == "" {
		d.masterPass = randomHex(12)
	} else if strings.ContainsAny(d.masterPass, ":\r\n") {
		return errors.New("master password must not contain ':' or line breaks")
	}
	if err := d.loadUsers(); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(d.dir, "master-users"), []byte(masterUser+":{PLAIN}"+d.masterPass+"\n")); err != nil {
		return err
	}

	// Unix socket paths are limited to 108 bytes; a deep test directory
	// gets its sockets in a short temporary directory instead.
	d.baseDir = filepath.Join(d.dir, "run")
	if len(d.baseDir) > 70 {
		bd, err := os.MkdirTemp("", "dcv-")
		if err != nil {
			return fmt.Errorf("create base_dir: %w", err)
		}
		d.baseDir, d.ownBaseDir = bd, true
	}
	if err := os.MkdirAll(d.baseDir, 0o755); err != nil {
		return fmt.Errorf("create base_dir: %w", err)
	}
	return nil
}

// processUsers returns the confData fields that depend on who we run as, and
// hands the mail directory to the mail user.
func (d *Dovecot) processUsers(data *confData) error {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("look up current user: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return fmt.Errorf("look up current group: %w", err)
		}
		data.MailUser, data.MailGroup = u.Username, g.Name
		data.InternalUser, data.LoginUser = u.Username, u.Username
		d.mailUID, d.mailGID = os.Geteuid(), os.Getegid()
		return nil
	}
	// Dovecot refuses uid 0 for mail access ("Mail access not allowed for
	// root") and for login processes, so use the users Debian's package
	// creates.
	mu, err := user.Lookup("dovecot")
	if err != nil {
		return fmt.Errorf("look up user dovecot (is dovecot-imapd installed? run deploy/scripts/deps.sh): %w", err)
	}
	if _, err := user.Lookup("dovenull"); err != nil {
		return fmt.Errorf("look up user dovenull (is dovecot-imapd installed?): %w", err)
	}
	g, err := user.LookupGroupId(mu.Gid)
	if err != nil {
		return fmt.Errorf("look up group of user dovecot: %w", err)
	}
	d.mailUID, _ = strconv.Atoi(mu.Uid)
	d.mailGID, _ = strconv.Atoi(mu.Gid)
	data.Root = true
	data.MailUser, data.MailGroup = "dovecot", g.Name
	data.InternalUser, data.LoginUser = "dovecot", "dovenull"
	if err := os.Chown(filepath.Join(d.dir, "mail"), d.mailUID, d.mailGID); err != nil {
		return fmt.Errorf("chown mail directory: %w", err)
	}
	if d.opts.Provider.exchange() {
		if err := os.Chown(filepath.Join(d.dir, "public"), d.mailUID, d.mailGID); err != nil {
			return fmt.Errorf("chown public folders directory: %w", err)
		}
	}
	return makeTraversable(d.dir)
}

// errPortTaken marks a start that failed because a picked port was in use.
var errPortTaken = errors.New("port already in use")

// start writes the configuration for fresh ports, runs dovecot -F and waits
// for it to greet.
func (d *Dovecot) start(bin string) error {
	ports, err := d.opts.ports()
	if err != nil {
		return err
	}
	d.plainPort, d.tlsPort = ports[0], ports[1]
	data := confData{
		Dir:       d.dir,
		BaseDir:   d.baseDir,
		Instance:  "trasloco-" + d.role.String() + "-" + strconv.Itoa(d.plainPort),
		PlainPort: d.plainPort,
		TLSPort:   d.tlsPort,
		Source:    d.role == RoleSource,
		OAuth2:    d.opts.OAuth2,
		Provider:  d.opts.Provider,
		Greeting:  d.opts.Provider.greeting(),
	}
	if d.opts.IMAPWrapper != "" {
		imap, err := imapBinary()
		if err != nil {
			return err
		}
		data.IMAPExecutable = d.opts.IMAPWrapper + " " + imap
	}
	if err := d.processUsers(&data); err != nil {
		return err
	}
	d.confPath = filepath.Join(d.dir, "dovecot.conf")
	if err := writeConf(d.confPath, data); err != nil {
		return err
	}

	logPath := filepath.Join(d.dir, "dovecot.log")
	logStart := fileSize(logPath)
	stderrPath := filepath.Join(d.dir, "dovecot.stderr")
	out, err := os.OpenFile(stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", stderrPath, err)
	}
	errStart := fileSize(stderrPath)
	cmd := exec.Command(bin, "-F", "-c", d.confPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("run %s: %w", bin, err)
	}
	out.Close() // the child holds its own descriptor
	d.cmd = cmd
	d.done = make(chan struct{})
	go func() {
		d.werr = cmd.Wait()
		close(d.done)
	}()

	if err := d.waitReady(); err != nil {
		d.kill()
		tail := tailFrom(logPath, logStart) + tailFrom(stderrPath, errStart)
		if strings.Contains(tail, "Address already in use") {
			return fmt.Errorf("%w: %v\n%s", errPortTaken, err, tail)
		}
		return fmt.Errorf("%w\n--- dovecot log (%s) ---\n%s", err, logPath, tail)
	}
	return nil
}

// waitReady waits until the plain port greets and the TLS port completes a
// verified handshake and greets too.
func (d *Dovecot) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("dovecot exited during start-up: %v", d.werr)
		default:
		}
		if lastErr = d.probe(); lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("dovecot not ready after %s: %w", startTimeout, lastErr)
}

// probe checks both listeners once.
func (d *Dovecot) probe() error {
	dialer := &net.Dialer{Timeout: time.Second}
	conn, err := dialer.Dial("tcp", d.PlainAddr())
	if err != nil {
		return err
	}
	err = readGreeting(conn)
	conn.Close()
	if err != nil {
		return fmt.Errorf("plain port: %w", err)
	}
	tconn, err := tls.DialWithDialer(dialer, "tcp", d.TLSAddr(), d.TLSConfig())
	if err != nil {
		return fmt.Errorf("TLS port: %w", err)
	}
	err = readGreeting(tconn)
	tconn.Close()
	if err != nil {
		return fmt.Errorf("TLS port: %w", err)
	}
	return nil
}

func readGreeting(conn net.Conn) error {
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop shuts the instance down (SIGTERM, then SIGKILL after a grace period)
// and waits for it to exit. The directory is left in place, logs included.
// Calling Stop more than once is harmless.
func (d *Dovecot) Stop() error {
	d.stopOnce.Do(func() {
		if d.cmd == nil || d.cmd.Process == nil {
			return
		}
		select {
		case <-d.done:
			d.stopErr = fmt.Errorf("stop %s dovecot: it had already exited: %v", d.role, d.werr)
		default:
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(stopTimeout):
				d.kill()
				d.stopErr = fmt.Errorf("stop %s dovecot: no exit %s after SIGTERM, killed", d.role, stopTimeout)
			}
		}
		d.cleanupBaseDir()
	})
	return d.stopErr
}

// kill ends the process group at once and waits for the master to exit.
func (d *Dovecot) kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	killGroup(d.cmd.Process.Pid)
	<-d.done
}

func (d *Dovecot) cleanupBaseDir() {
	if d.ownBaseDir {
		_ = os.RemoveAll(d.baseDir)
	}
}

// Role returns the role the instance was started in.
func (d *Dovecot) Role() Role { return d.role }

// Dir returns the instance directory (configuration, log, mail).
func (d *Dovecot) Dir() string { return d.dir }

// LogPath returns the path of Dovecot's log file.
func (d *Dovecot) LogPath() string { return filepath.Join(d.dir, "dovecot.log") }

// PlainAddr returns "127.0.0.1:port" of the listener that speaks plain IMAP
// and offers STARTTLS.
func (d *Dovecot) PlainAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.plainPort)) }

// TLSAddr returns "127.0.0.1:port" of the implicit-TLS listener.
func (d *Dovecot) TLSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.tlsPort)) }

// CAPool returns a pool holding the CA that signed the server certificate
// (valid for 127.0.0.1, ::1 and localhost).
func (d *Dovecot) CAPool() *x509.CertPool { return d.certs.pool }

// CAFile returns the path of that CA certificate in PEM, for tests of
// commands that take a CA file.
func (d *Dovecot) CAFile() string { return filepath.Join(d.dir, "tls", "ca.pem") }

// TLSConfig returns a client TLS configuration that verifies the instance's
// certificate: RootCAs is CAPool and ServerName "127.0.0.1".
func (d *Dovecot) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: d.certs.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// MasterUser returns the master user's name; log in as "user*master" with
// LOGIN, or with SASL PLAIN using the user as authorization identity.
func (d *Dovecot) MasterUser() string { return masterUser }

// MasterPassword returns the master user's password (random per instance).
func (d *Dovecot) MasterPassword() string { return d.masterPass }

// Delimiter returns the hierarchy delimiter: '.' for the Courier-like
// source, '/' for the destination and the provider-like sources.
func (d *Dovecot) Delimiter() rune {
	if d.role == RoleSource && d.opts.Provider == ProviderNone {
		return '.'
	}
	return '/'
}

// Prefix returns the personal namespace prefix: "INBOX." for the
// Courier-like source, "" for the destination and the provider-like
// sources.
func (d *Dovecot) Prefix() string {
	if d.role == RoleSource && d.opts.Provider == ProviderNone {
		return "INBOX."
	}
	return ""
}

// ConfigPath returns the path of the instance's dovecot.conf.
func (d *Dovecot) ConfigPath() string { return d.confPath }

// AddUser creates a passwd-file user (name like "anna@acme.test") with a
// plain-text password. Dovecot notices the changed file on the next login,
// without a restart. Adding an existing user is an error.
func (d *Dovecot) AddUser(name, password string, opts ...UserOption) error {
	if name == "" || name[0] == '.' || strings.ContainsAny(name, ":\r\n\t /*%") {
		return fmt.Errorf("add user %q: name must be non-empty, not start with '.', and have no ':', '*', '/', '%%', spaces or line breaks", name)
	}
	if strings.ContainsAny(password, ":\r\n") {
		return fmt.Errorf("add user %q: password must not contain ':' or line breaks", name)
	}
	var s userSettings
	for _, o := range opts {
		o(&s)
	}
	// user:password:uid:gid:gecos:home:shell:extra fields
	line := name + ":{PLAIN}" + password + "::::::" + strings.Join(s.extra, " ")

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.users[name] {
		return fmt.Errorf("add user %q: already exists", name)
	}
	if err := writeFileAtomic(filepath.Join(d.dir, "users", name), []byte(line+"\n")); err != nil {
		return fmt.Errorf("add user %q: %w", name, err)
	}
	d.users[name] = true
	return nil
}

// SetPassword changes the password of a user AddUser created (its other
// settings are dropped), as a customer changing it would. Dovecot re-reads
// the file at most once a second: a login right after may still see the
// old password.
func (d *Dovecot) SetPassword(name, password string) error {
	if strings.ContainsAny(password, ":\r\n") {
		return fmt.Errorf("set password of %q: password must not contain ':' or line breaks", name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.users[name] {
		return fmt.Errorf("set password of %q: no such user", name)
	}
	line := name + ":{PLAIN}" + password + "::::::"
	if err := writeFileAtomic(filepath.Join(d.dir, "users", name), []byte(line+"\n")); err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return nil
}

// Doveadm runs doveadm with this instance's configuration and returns its
// standard output; a failure's error includes standard error.
func (d *Dovecot) Doveadm(args ...string) ([]byte, error) {
	bin, err := findBinary("doveadm")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"-c", d.confPath}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("doveadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// findBinary looks name up in PATH and in the sbin directories an ordinary
// user's PATH often lacks.
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("find %s: not installed (run deploy/scripts/deps.sh or make deps)", name)
}

// imapBinary is the path of Dovecot's imap binary.
func imapBinary() (string, error) {
	for _, p := range []string{"/usr/lib/dovecot/imap", "/usr/libexec/dovecot/imap", "/usr/local/libexec/dovecot/imap"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("find dovecot's imap binary: not in /usr/lib/dovecot nor /usr/libexec/dovecot")
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before Dovecot binds them, so a start can still lose a race;
// StartDovecot retries then.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// makeTraversable adds o+x to dir and to those of its ancestors that lie
// inside the system temporary directory (t.TempDir creates them 0700), so
// Dovecot's unprivileged processes can reach the passwd files and the mail.
// Elsewhere it only checks and reports.
func makeTraversable(dir string) error {
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", dir, err)
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		// A directory with an ACL may let Dovecot's users through without
		// o+x (trasloco-dev grants them search permission that way).
		if fi.Mode().Perm()&0o001 == 0 && !hasACL(p) {
			if !strings.HasPrefix(p, tmp+string(filepath.Separator)) {
				return fmt.Errorf("directory %s is not traversable by Dovecot's unprivileged users; use a directory under %s", p, tmp)
			}
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("chmod o+x %s: %w", p, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// writeFileAtomic replaces path with data through a rename, so Dovecot never
// reads a half-written passwd file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp-" + randomHex(4)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// WriteFile's mode is subject to the umask; Dovecot's auth process
	// (another user when we are root) must read the file.
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// tailFrom returns at most the last 40 lines written to path after offset.
func tailFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) <= offset {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b[offset:]), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n") + "\n"
}
