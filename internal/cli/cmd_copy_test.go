package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/emersion/go-imap/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// These tests run the real trasloco binary, as an operator does, so that an
// exit code is the process's own and a crash shows as a signal or a panic,
// not as a test failure in-process.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// trasloco builds cmd/trasloco once per test binary.
func trasloco(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trasloco-cli-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "trasloco")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/trasloco/trasloco/cmd/trasloco").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// ran is one finished trasloco process.
type ran struct {
	code           int
	stdout, stderr string
}

// run runs trasloco with args and the environment env (plus PATH and HOME),
// and fails the test when the process died of a signal or panicked: every
// outcome must be an exit code.
func run(t *testing.T, env []string, args ...string) ran {
	t.Helper()
	cmd := exec.Command(trasloco(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := ran{stdout: out.String(), stderr: errb.String()}
	name := strings.Join(append(args, "")[:1], "")
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		require.False(t, ws.Signaled(), "trasloco %s died of signal %v\n%s", name, ws.Signal(), r.stderr)
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run trasloco: %v", err)
	}
	for _, mark := range []string{"panic: ", "fatal error: "} {
		if i := strings.Index(r.stderr, mark); i >= 0 {
			t.Fatalf("trasloco %s crashed:\n%s", name, r.stderr[i:min(len(r.stderr), i+3000)])
		}
	}
	t.Logf("trasloco %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, tail(r.stderr, 4000))
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// copySummary is the JSON summary of trasloco copy --json.
type copySummary struct {
	Folders         int      `json:"folders"`
	ExcludedFolders int      `json:"excluded_folders"`
	Found           int      `json:"found"`
	Copied          int      `json:"copied"`
	AlreadyThere    int      `json:"already_there"`
	TooLarge        int      `json:"too_large"`
	Failed          int      `json:"failed"`
	FailedFolders   []string `json:"failed_folders"`
	ToCopy          int      `json:"to_copy"`
	Seconds         *float64 `json:"seconds"`
	Error           string   `json:"error"`
}

func summary(t *testing.T, r ran) copySummary {
	t.Helper()
	var s copySummary
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), "stdout is the JSON summary: %q", r.stdout)
	require.NotNil(t, s.Seconds, "the summary says how long it took")
	return s
}

// copyFixture is a source mailbox on the shared Dovecot source and a
// destination mailbox on the destination, with a CA file trusting both.
type copyFixture struct {
	src, dst         *testenv.Dovecot
	srcUser, dstUser string
	caFile           string
}

func copySetup(t *testing.T) *copyFixture {
	t.Helper()
	src, dst := testenv.SharedDovecot(t)
	f := &copyFixture{src: src, dst: dst, srcUser: testenv.UniqueUser(t, "old.test"), dstUser: testenv.UniqueUser(t, "acme.test")}
	require.NoError(t, src.AddUser(f.srcUser, "old-Pa;ss"))
	require.NoError(t, dst.AddUser(f.dstUser, "new-pass"))
	var pem []byte
	for _, p := range []string{src.CAFile(), dst.CAFile()} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		pem = append(pem, b...)
	}
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(f.caFile, pem, 0o644))
	return f
}

// env holds both passwords, as the flags name them.
func (f *copyFixture) env() []string {
	return []string{"SRC_PW=old-Pa;ss", "DST_PW=" + f.dst.MasterPassword()}
}

// dstArgs are the destination flags: the master user over implicit TLS.
func (f *copyFixture) dstArgs() []string {
	return []string{"--dst", f.dst.TLSAddr(), "--dst-tls", "implicit", "--dst-user", f.dstUser,
		"--dst-auth-user", f.dst.MasterUser(), "--dst-password-env", "DST_PW", "--ca-file", f.caFile}
}

func (f *copyFixture) copyArgs(extra ...string) []string {
	args := append([]string{"copy", "--src", f.src.PlainAddr(), "--src-tls", "starttls", "--src-user", f.srcUser,
		"--src-password-env", "SRC_PW"}, f.dstArgs()...)
	return append(args, extra...)
}

// TestCopyFlagsAndUsage: a bad command line is exit 2 with the reason on
// stderr, before anything is dialled.
func TestCopyFlagsAndUsage(t *testing.T) {
	t.Parallel()
	f := copySetup(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"no command", nil, nil, "usage: trasloco"},
		{"unknown command", []string{"kopy"}, nil, `unknown command "kopy"`},
		{"unknown flag", []string{"copy", "--nope"}, nil, "flag provided but not defined"},
		{"no destination", []string{"copy", "--src", "127.0.0.1:1", "--src-user", "u", "--src-password-env", "SRC_PW"}, f.env(), "--dst is required"},
		{"no source user", f.copyArgs("--src-user", ""), f.env(), "--src-user is required"},
		{"empty password variable", f.copyArgs(), []string{"DST_PW=x"}, "environment variable SRC_PW is empty or not set"},
		{"two password sources", f.copyArgs("--src-password-file", "/nonexistent"), f.env(), "give only one of"},
		{"bad tls", f.copyArgs("--src-tls", "maybe"), f.env(), "--src-tls"},
		{"bad size", f.copyArgs("--max-size", "lots"), f.env(), "--max-size"},
		{"bad preset", f.copyArgs("--preset", "lotus-notes"), f.env(), "--preset"},
		{"extra argument", f.copyArgs("INBOX"), f.env(), `unexpected argument "INBOX"`},
		{"wrong password", f.copyArgs(), []string{"SRC_PW=wrong", "DST_PW=" + f.dst.MasterPassword()}, "source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.env, tc.args...)
			require.Equal(t, 2, r.code)
			require.Contains(t, r.stderr, tc.want)
			require.NotContains(t, r.stderr, "old-Pa;ss", "a password never reaches the output")
		})
	}
}

// TestCopyDovecotExitCodesAndJSON: a complete copy is exit 0 with the JSON
// summary; run again with its checkpoint file it finds everything there; a
// dry run counts what it would copy.
func TestCopyDovecotExitCodesAndJSON(t *testing.T) {
	t.Parallel()
	f := copySetup(t)
	c := f.src.Dial(t, f.srcUser, "old-Pa;ss")
	for i, folder := range []string{"INBOX", "INBOX.Lavoro", "INBOX.Trash"} {
		msgs := make([]testenv.Msg, 3)
		for j := range msgs {
			msgs[j] = testenv.BuildMessage(int64(60+i), j, 2500)
		}
		testenv.Append(t, c, folder, msgs...)
	}
	cp := filepath.Join(t.TempDir(), "cp.json")

	r := run(t, f.env(), f.copyArgs("--json", "--dry-run")...)
	require.Equal(t, 0, r.code)
	s := summary(t, r)
	require.Equal(t, 6, s.ToCopy, "a dry run counts what it would copy")
	require.Zero(t, s.Copied)

	r = run(t, f.env(), f.copyArgs("--json", "--checkpoint", cp)...)
	require.Equal(t, 0, r.code)
	s = summary(t, r)
	require.Equal(t, 6, s.Found)
	require.Equal(t, 6, s.Copied)
	require.Equal(t, 2, s.ExcludedFolders, "INBOX.Trash, and INBOX.Bulk that the source Dovecot keeps as \\Junk")
	require.Zero(t, s.Failed)
	require.Empty(t, s.Error)
	require.NotContains(t, r.stderr, "old-Pa;ss")

	r = run(t, f.env(), f.copyArgs("--json", "--checkpoint", cp)...)
	require.Equal(t, 0, r.code)
	s = summary(t, r)
	require.Equal(t, 6, s.AlreadyThere)
	require.Zero(t, s.Copied)

	// Without --json, one line of counters on stdout.
	r = run(t, f.env(), f.copyArgs("--checkpoint", cp)...)
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "messages found 6, copied 0, already there 6, too large 0, failed 0")
}

// TestCopyVerify: --verify checks the destination after the copy; a
// message deleted there after an earlier invocation (recorded in the
// checkpoint file) is the customer's doing, not missing, and not copied
// back.
func TestCopyVerify(t *testing.T) {
	t.Parallel()
	f := copySetup(t)
	c := f.src.Dial(t, f.srcUser, "old-Pa;ss")
	msgs := make([]testenv.Msg, 4)
	for j := range msgs {
		msgs[j] = testenv.BuildMessage(70, j, 2500)
	}
	testenv.Append(t, c, "INBOX", msgs...)
	cp := filepath.Join(t.TempDir(), "cp.json")
	r := run(t, f.env(), f.copyArgs("--verify", "--checkpoint", cp)...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "verified: 4 of 4 present, 0 missing, 0 twice, 0 deleted at the destination since an earlier run, 0 folders not verified")

	dc := f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	_, err := dc.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, dc.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	require.NoError(t, dc.UIDExpunge(imap.UIDSetNum(2)).Close())

	r = run(t, f.env(), f.copyArgs("--verify", "--json", "--checkpoint", cp)...)
	require.Equal(t, 0, r.code, r.stderr)
	var out struct {
		Copied       int `json:"copied"`
		Verification struct {
			Folders []struct {
				Source            string `json:"source"`
				Expected          int    `json:"expected"`
				DeletedByCustomer int    `json:"deleted_by_customer"`
				StillThere        int    `json:"still_there"`
			} `json:"folders"`
		} `json:"verification"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Zero(t, out.Copied, "not copied back")
	require.Len(t, out.Verification.Folders, 2, "INBOX and the empty Sent")
	require.Equal(t, "INBOX", out.Verification.Folders[0].Source)
	require.Zero(t, out.Verification.Folders[0].Expected)
	require.Equal(t, 1, out.Verification.Folders[0].DeletedByCustomer)
	require.Equal(t, 3, out.Verification.Folders[0].StillThere)
}

// TestCopyTooLargeIsExitZero: a message over --max-size is skipped and
// listed; the copy is still complete (exit 0) and says so in the summary.
func TestCopyTooLargeIsExitZero(t *testing.T) {
	t.Parallel()
	f := copySetup(t)
	c := f.src.Dial(t, f.srcUser, "old-Pa;ss")
	testenv.Append(t, c, "INBOX", testenv.BuildMessage(70, 0, 2000), testenv.BuildMessage(70, 1, 200_000))
	r := run(t, f.env(), f.copyArgs("--json", "--max-size", "100KB")...)
	require.Equal(t, 0, r.code)
	s := summary(t, r)
	require.Equal(t, 1, s.Copied)
	require.Equal(t, 1, s.TooLarge)
	require.Contains(t, r.stderr, "over the")
}

// hostileCopy runs trasloco copy from a scripted old server into a fresh
// destination mailbox.
func hostileCopy(t *testing.T, faults testenv.HostileFaults) (ran, *testenv.Hostile) {
	t.Helper()
	f := copySetup(t)
	msgs := make([]testenv.Msg, 6)
	for i := range msgs {
		msgs[i] = testenv.BuildMessage(80, i, 2000)
	}
	srv := testenv.StartHostile(t, testenv.HostileOptions{Faults: faults},
		testenv.HostileFolder{Name: "INBOX", Messages: testenv.HostileMessages(msgs...)},
		testenv.HostileFolder{Name: "Lavoro", Messages: testenv.HostileMessages(testenv.BuildMessage(81, 0, 2000), testenv.BuildMessage(81, 1, 2000))})
	args := append([]string{"copy", "--json", "--src", srv.Addr(), "--src-tls", "none", "--src-user", srv.User(), "--src-password-env", "SRC_PW"}, f.dstArgs()...)
	r := run(t, []string{"SRC_PW=" + srv.Password(), "DST_PW=" + f.dst.MasterPassword()}, args...)
	require.Empty(t, srv.Writes(), "nothing is written to the old server")
	return r, srv
}

// TestCopyFromHostileServerExitsOne — issue 9, "trasloco copy from such
// servers exits 1 with the counts and reasons, never a signal": a message
// the old server does not deliver (left out, BODY[] NIL, refused with a
// tagged NO) is exit 1, the summary counts it as failed, the log on stderr
// names it, and the rest is copied.
func TestCopyFromHostileServerExitsOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		faults testenv.HostileFaults
		uid    int
	}{
		{"left out", testenv.HostileFaults{OmitUID: 3}, 3},
		{"body NIL", testenv.HostileFaults{NilBodyUID: 2}, 2},
		{"tagged NO", testenv.HostileFaults{RefuseUID: 4}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := hostileCopy(t, tc.faults)
			require.Equal(t, 1, r.code, "exit 1: the copy ran, one message failed")
			s := summary(t, r)
			require.Equal(t, 8, s.Found)
			require.Equal(t, 1, s.Failed)
			require.Equal(t, 7, s.Copied)
			require.Regexp(t, fmt.Sprintf(`\[INBOX\] .*UID %d\b`, tc.uid), r.stderr, "the log names the message")
		})
	}
}

// TestCopyFromHostileServerNeverASignal: the worst servers (a 64 MiB
// greeting, a 4294967295 EXISTS, a LIST line of 64 MiB) end the process
// with an exit code and a summary, never a crash.
func TestCopyFromHostileServerNeverASignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		faults testenv.HostileFaults
		codes  []int
	}{
		{"huge greeting", testenv.HostileFaults{GreetingBytes: 64 << 20}, []int{2}},
		{"huge EXISTS", testenv.HostileFaults{Exists: 4294967295}, []int{0}},
		{"huge LIST line", testenv.HostileFaults{ListLineBytes: 64 << 20}, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := hostileCopy(t, tc.faults)
			require.Contains(t, tc.codes, r.code)
			summary(t, r)
		})
	}
}
