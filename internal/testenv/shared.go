package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// sharedDovecots holds the Dovecot pair started once per test binary. It is
// package state on purpose: every test of the binary uses the same pair, and
// Main stops it (through addSharedCleanup).
var sharedDovecots struct {
	once     sync.Once
	src, dst *Dovecot
	dir      string
	err      error
}

// sharedCleanups are run by Main, last registered first: they stop the
// servers the Shared helpers started (Dovecot here, PostgreSQL in postgres.go).
var sharedCleanups struct {
	mu  sync.Mutex
	fns []func() error
}

// addSharedCleanup registers fn to run when Main ends; an error fails the
// test binary.
func addSharedCleanup(fn func() error) {
	sharedCleanups.mu.Lock()
	defer sharedCleanups.mu.Unlock()
	sharedCleanups.fns = append(sharedCleanups.fns, fn)
}

// runSharedCleanups runs and forgets every registered cleanup and reports
// whether all succeeded.
func runSharedCleanups() bool {
	sharedCleanups.mu.Lock()
	fns := sharedCleanups.fns
	sharedCleanups.fns = nil
	sharedCleanups.mu.Unlock()
	ok := true
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			ok = false
		}
	}
	return ok
}

// userSeq makes UniqueUser names unique within the process.
var userSeq atomic.Int64

// Main runs the tests of a package and then stops every server the Shared
// helpers started, exiting with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// When the tests fail the Dovecot directories (logs included) are kept and
// their path printed.
func Main(m *testing.M) {
	code := m.Run()
	if !runSharedCleanups() && code == 0 {
		code = 1
	}
	if dir := sharedDovecots.dir; dir != "" {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "testenv: kept Dovecot directories and logs in %s\n", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// SharedDovecot returns the source and destination servers shared by every
// test of the binary, starting them on first use. A failure to start is
// t.Fatal, never a skip: a machine without Dovecot fails the tests (run make
// deps). Use Main in TestMain so they are stopped at the end.
func SharedDovecot(t testing.TB) (src, dst *Dovecot) {
	t.Helper()
	s := &sharedDovecots
	s.once.Do(func() {
		dir, err := os.MkdirTemp("", "trasloco-dovecot-")
		if err != nil {
			s.err = fmt.Errorf("create shared dovecot directory: %w", err)
			return
		}
		s.dir = dir
		var wg sync.WaitGroup
		var srcErr, dstErr error
		wg.Go(func() { s.src, srcErr = StartDovecot(RoleSource, filepath.Join(dir, "source")) })
		wg.Go(func() { s.dst, dstErr = StartDovecot(RoleDestination, filepath.Join(dir, "destination")) })
		wg.Wait()
		for _, d := range []*Dovecot{s.src, s.dst} {
			if d != nil {
				addSharedCleanup(d.Stop)
			}
		}
		if srcErr != nil || dstErr != nil {
			s.err = fmt.Errorf("start shared dovecot servers: %w", errors.Join(srcErr, dstErr))
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.src, s.dst
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// UniqueUser returns a user name unique in the process, made from the test
// name so Dovecot's log is readable: "u17-testcopy-flags@acme.test".
func UniqueUser(t testing.TB, domain string) string {
	t.Helper()
	n := userSeq.Add(1)
	name := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-")
	}
	return fmt.Sprintf("u%d-%s@%s", n, name, domain)
}
