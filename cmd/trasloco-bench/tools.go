package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/testenv"
)

// copyJob is one mailbox to copy: a seeded source user into a fresh
// destination user.
type copyJob struct {
	SrcUser, SrcPass string
	DstUser          string
	// Dir is a private working directory (logs, configuration, state).
	Dir string
}

// tool is one way of copying a mailbox.
type tool interface {
	// Name is the label in the table.
	Name() string
	// Command returns the process that copies job.
	Command(ctx context.Context, env *benchEnv, job copyJob) (*exec.Cmd, error)
	// Check inspects the finished process's standard output and says
	// whether the tool itself reported a problem.
	Check(stdout []byte, job copyJob) error
}

// benchEnv is what every tool needs: the two servers and the trasloco binary.
type benchEnv struct {
	Src, Dst *testenv.Dovecot
	Trasloco string // path of the built trasloco binary
	DstConns int    // trasloco --dst-conns
	// OneProcess copies several mailboxes at once in one process.
	OneProcess bool
	InFlight   int64 // transfer.Job.InFlightBytes in that process
	MbsyncBin  string
	DoveadmBin string
	// SrcStartTLS: every tool talks to the old server over STARTTLS on its
	// plain port (-src-tls starttls), as the worker does; otherwise in
	// plain text, except the worker (see srcTLSNote).
	SrcStartTLS bool
}

// The values of -src-tls.
const (
	srcStartTLS = "starttls"
	srcPlain    = "none"
)

// srcTLSNote says, for the report's header, how each tool talks to the
// old server. The worker's migration has the preset Standard-no-SSL,
// which takes STARTTLS whenever the server offers it (the test Dovecot
// does) and has no setting for plain text: so with -src-tls none only the
// other tools are plain.
func srcTLSNote(startTLS bool) string {
	if startTLS {
		return "The old server is reached over STARTTLS by every tool (-src-tls starttls): trasloco copy and the one-process engine with --src-tls starttls and the test CA, mbsync with SSLType STARTTLS and the CA, doveadm's imapc with imapc_ssl=starttls (imapc_ssl_verify=no), src-read with STARTTLS and the CA, the worker by its preset Standard-no-SSL, which takes the STARTTLS the server offers; our server in plain text by every tool."
	}
	return "The old server is reached in plain text by trasloco, mbsync, doveadm and src-read (-src-tls none), but over STARTTLS by the worker (its preset, Standard-no-SSL, takes the STARTTLS the test server offers, and has no plain setting): the worker's rows pay TLS that the others do not; our server in plain text by every tool."
}

// procStat is what one finished process cost.
type procStat struct {
	MaxRSSKiB int64
	CPU       time.Duration // user + system time of the process
	Err       error
}

// runProcs starts cmds, at most parallel at a time (0: all at once), and
// waits for all of them; it returns the wall time from the first start to
// the last exit, how busy the machine's CPUs were meanwhile (0–1, every
// process counted, the servers included) and each process's peak RSS.
func runProcs(cmds []*exec.Cmd, checks []func([]byte) error, logs []string, parallel int) (wall time.Duration, cpuBusy float64, stats []procStat) {
	stats = make([]procStat, len(cmds))
	outs := make([]*strings.Builder, len(cmds))
	if parallel <= 0 {
		parallel = len(cmds)
	}
	slots := make(chan struct{}, parallel)
	start := time.Now()
	busy0, total0 := cpuTimes()
	done := make(chan int, len(cmds))
	for i, c := range cmds {
		outs[i] = &strings.Builder{}
		c.Stdout = outs[i]
		slots <- struct{}{}
		f, err := os.Create(logs[i])
		if err != nil {
			stats[i].Err = fmt.Errorf("create log: %w", err)
			<-slots
			done <- i
			continue
		}
		c.Stderr = f
		if err := c.Start(); err != nil {
			f.Close()
			stats[i].Err = fmt.Errorf("start %s: %w", c.Path, err)
			<-slots
			done <- i
			continue
		}
		go func() {
			defer func() { <-slots }()
			defer f.Close()
			stopSampling := sampleHWM(c.Process.Pid, &stats[i].MaxRSSKiB)
			err := c.Wait()
			stopSampling()
			if c.ProcessState != nil {
				stats[i].CPU = c.ProcessState.UserTime() + c.ProcessState.SystemTime()
			}
			if err != nil {
				stats[i].Err = fmt.Errorf("%s: %w (log %s: %s)", filepath.Base(c.Path), err, logs[i], tail(logs[i]))
			}
			done <- i
		}()
	}
	for range cmds {
		<-done
	}
	wall = time.Since(start)
	busy1, total1 := cpuTimes()
	if total1 > total0 {
		cpuBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	for i := range cmds {
		if stats[i].Err == nil && checks[i] != nil {
			if err := checks[i]([]byte(outs[i].String())); err != nil {
				stats[i].Err = fmt.Errorf("%w (log %s)", err, logs[i])
			}
		}
	}
	return wall, cpuBusy, stats
}

// sampleHWM records, until the returned function is called, the peak
// resident set size (VmHWM, KiB) of process pid into *peak, reading
// /proc/pid/status every 10 ms.
//
// The child's ru_maxrss from wait4 would be simpler but is wrong here: Go
// starts children with vfork semantics (CLONE_VM), and at exec the kernel
// folds the high-water mark of the memory the child shared with us, this
// benchmark process, into the child's maxrss. VmHWM belongs to the new
// address space only.
func sampleHWM(pid int, peak *int64) (stop func()) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	read := func() {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err == nil && n > *peak {
					*peak = n
				}
			}
		}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// cpuTimes returns the machine's busy and total CPU time in clock ticks,
// from the first line of /proc/stat (0, 0 where there is none).
func cpuTimes() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	for i, f := range fields[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		if i >= 8 { // guest time is already counted in user time
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// port returns the port of a "host:port" address.
func port(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}

// traslocoTool runs `trasloco copy`, logging in at the destination as the
// master user, as the panel does.
type traslocoTool struct{}

func (traslocoTool) Name() string { return "trasloco" }

func (traslocoTool) Command(ctx context.Context, env *benchEnv, job copyJob) (*exec.Cmd, error) {
	srcTLS := []string{"--src-tls", "none"}
	if env.SrcStartTLS {
		srcTLS = []string{"--src-tls", "starttls", "--ca-file", env.Src.CAFile()}
	}
	args := []string{"copy", "--preset", "standard-nossl",
		"--src", env.Src.PlainAddr(), "--src-user", job.SrcUser, "--src-password-env", "BENCH_SRC_PASSWORD"}
	args = append(args, srcTLS...)
	args = append(args, "--dst", env.Dst.PlainAddr(), "--dst-user", job.DstUser, "--dst-auth-user", env.Dst.MasterUser(),
		"--dst-password-env", "BENCH_DST_PASSWORD", "--dst-tls", "none",
		"--dst-conns", strconv.Itoa(env.DstConns), "--json")
	cmd := exec.CommandContext(ctx, env.Trasloco, args...)
	cmd.Env = append(os.Environ(), "BENCH_SRC_PASSWORD="+job.SrcPass, "BENCH_DST_PASSWORD="+env.Dst.MasterPassword())
	return cmd, nil
}

// Check reads the JSON summary: every message of the copied folders must
// have been copied, none refused.
func (traslocoTool) Check(stdout []byte, job copyJob) error {
	var sum struct {
		Copied       int    `json:"copied"`
		AlreadyThere int    `json:"already_there"`
		TooLarge     int    `json:"too_large"`
		Failed       int    `json:"failed"`
		Error        string `json:"error"`
	}
	if err := json.Unmarshal(stdout, &sum); err != nil {
		return fmt.Errorf("trasloco: read JSON summary: %w", err)
	}
	if sum.Error != "" || sum.Failed > 0 {
		return fmt.Errorf("trasloco: %d failed: %s", sum.Failed, sum.Error)
	}
	return nil
}

// mbsyncTool runs isync's mbsync with a generated configuration: the source
// store rooted at "INBOX." (so INBOX.Clienti.Società is Clienti/Società),
// the destination logged in as user*master, a pull of new messages and
// flags, folders created at the destination, arrival dates kept, Trash, Junk
// and Bulk excluded (and the destination's own empty Drafts and Archive,
// which mbsync would otherwise try to find at the source).
type mbsyncTool struct{}

func (mbsyncTool) Name() string { return "mbsync" }

const mbsyncConf = `IMAPAccount src
Host {{SRCHOST}}
Port {{SRCPORT}}
User "{{SRCUSER}}"
Pass "{{SRCPASS}}"
{{SRCTLS}}
AuthMechs LOGIN

IMAPStore src
Account src
Path INBOX.

IMAPAccount dst
Host 127.0.0.1
Port {{DSTPORT}}
User "{{DSTUSER}}"
Pass "{{DSTPASS}}"
SSLType None
AuthMechs LOGIN

IMAPStore dst
Account dst

Channel bench
Far :src:
Near :dst:
Patterns * !Trash !Junk !Bulk !Drafts !Archive
Create Near
Remove None
Expunge None
Sync Pull
CopyArrivalDate yes
SyncState {{STATE}}/
`

func (mbsyncTool) Command(ctx context.Context, env *benchEnv, job copyJob) (*exec.Cmd, error) {
	state := filepath.Join(job.Dir, "mbsync-state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, fmt.Errorf("mbsync state directory: %w", err)
	}
	srcHost, srcTLS := "127.0.0.1", "SSLType None"
	if env.SrcStartTLS {
		// isync 1.4 spells it SSLType (1.5: TLSType). The CA verifies the
		// server's certificate, against the name localhost: isync 1.4
		// matches DNS names only, not the certificate's 127.0.0.1
		// (localhost is 127.0.0.1 alone in /etc/hosts here, the address
		// Dovecot listens on).
		srcHost, srcTLS = "localhost", "SSLType STARTTLS\nCertificateFile "+env.Src.CAFile()
	}
	conf := strings.NewReplacer(
		"{{SRCHOST}}", srcHost, "{{SRCTLS}}", srcTLS,
		"{{SRCPORT}}", port(env.Src.PlainAddr()), "{{SRCUSER}}", job.SrcUser, "{{SRCPASS}}", job.SrcPass,
		"{{DSTPORT}}", port(env.Dst.PlainAddr()), "{{DSTUSER}}", job.DstUser+"*"+env.Dst.MasterUser(),
		"{{DSTPASS}}", env.Dst.MasterPassword(), "{{STATE}}", state,
	).Replace(mbsyncConf)
	path := filepath.Join(job.Dir, "mbsyncrc")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write mbsync configuration: %w", err)
	}
	return exec.CommandContext(ctx, env.MbsyncBin, "-c", path, "-q", "bench"), nil
}

func (mbsyncTool) Check([]byte, copyJob) error { return nil }

// doveadmTool runs Dovecot's own migration: `doveadm backup -R` with the
// destination's configuration and an imapc: location for the source, the
// settings of Dovecot's migration guide (rfc822.size, fetch-headers,
// mail_prefetch_count=20), the source's "INBOX." prefix removed with
// imapc_list_prefix, Trash, Junk and Bulk excluded with -x (and the
// destination's Drafts and Archive left alone, since backup would delete
// folders the source lacks).
type doveadmTool struct{}

func (doveadmTool) Name() string { return "doveadm" }

func (doveadmTool) Command(ctx context.Context, env *benchEnv, job copyJob) (*exec.Cmd, error) {
	args := []string{"-c", env.Dst.ConfigPath(),
		"-o", "imapc_host=127.0.0.1", "-o", "imapc_port=" + port(env.Src.PlainAddr()),
		"-o", "imapc_user=" + job.SrcUser, "-o", "imapc_password=" + job.SrcPass,
		"-o", "imapc_features=rfc822.size fetch-headers",
		"-o", "imapc_list_prefix=INBOX",
		"-o", "mail_prefetch_count=20",
	}
	if env.SrcStartTLS {
		args = append(args, "-o", "imapc_ssl=starttls", "-o", "imapc_ssl_verify=no")
	}
	args = append(args, "backup", "-R", "-u", job.DstUser)
	for _, x := range append(excludedNames, "Drafts", "Archive") {
		args = append(args, "-x", x)
	}
	args = append(args, "imapc:")
	return exec.CommandContext(ctx, env.DoveadmBin, args...), nil
}

func (doveadmTool) Check([]byte, copyJob) error { return nil }

// findBinary looks name up in PATH and the sbin directories.
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New(name + " is not installed (run make deps)")
}

// serverCPU returns the CPU time used so far by the Dovecot instance whose
// configuration is confPath: its master process and every child it reaped
// (imap processes end at logout), from /proc (0 where there is none).
func serverCPU(confPath string) time.Duration {
	f := statFields(dovecotPID(confPath))
	if f == nil {
		return 0
	}
	return ticksOf(f[11:15]) // utime, stime, cutime, cstime
}

// statFields is process pid's /proc/PID/stat after the command name (state
// first: field 3 is f[0], utime field 14 is f[11]); nil when unknown.
func statFields(pid int) []string {
	if pid <= 0 {
		return nil
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 15 {
		return nil
	}
	return f
}

// ticksOf sums clock ticks as a duration (USER_HZ, 100 a second).
func ticksOf(fields []string) time.Duration {
	var ticks int64
	for _, v := range fields {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100
}

// treeCPU is the CPU time of process pid and its children so far: its
// own, that of its children it reaped, and that of those still running
// (a Dovecot's auth, config, log and login processes in performance mode;
// PostgreSQL's backends), which serverCPU leaves out.
func treeCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	var sum time.Duration
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if f == nil {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		switch {
		case p == pid:
			sum += ticksOf(f[11:15]) // and cutime, cstime
		case ppid == pid:
			sum += ticksOf(f[11:13]) // utime, stime
		}
	}
	return sum
}

// dovecotPID is the pid of the master process of the Dovecot with
// configuration confPath; 0 when it is not found.
func dovecotPID(confPath string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) >= 2 && filepath.Base(args[0]) == "dovecot" && slices.Contains(args, confPath) {
			return pid
		}
	}
	return 0
}

// parentPID is the parent of process pid; 0 when unknown.
func parentPID(pid int) int {
	f := statFields(pid)
	if f == nil {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
