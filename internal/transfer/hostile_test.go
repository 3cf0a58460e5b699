package transfer_test

// The old server as it really is (issue 9): every test here runs
// transfer.Run from a scripted, misbehaving source (testenv.Hostile, real
// loopback sockets) into the shared Dovecot destination, and checks what
// the issue promises whatever the old server sends. Each test's comment
// names the rule it checks. The modes that today crash the process (a
// panic, a fatal out of memory) run in a child process of the test binary
// (isolate), so that they fail alone instead of taking the binary down.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// hostileChildEnv names, in a child process started by isolate, the test it
// runs.
const hostileChildEnv = "TRASLOCO_HOSTILE_TEST"

// isolate runs the calling (top-level) test in a child process of the test
// binary and reports whether the caller should return: true in the parent
// (the child did the work; its failure is this test's failure), false in
// the child. A panic or a fatal "out of memory" of the engine then fails
// this test alone; the child's output shows the stack.
func isolate(t *testing.T) bool {
	t.Helper()
	if os.Getenv(hostileChildEnv) == t.Name() {
		return false
	}
	if testing.Short() {
		t.Skip("runs in a child process; not in -short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in its own process: %v\n%s", t.Name(), err, tail(out, 12000))
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s in its own process did not pass:\n%s", t.Name(), tail(out, 12000))
	}
	return true
}

func tail(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}

// hostileFixture is a scripted old server and a fresh destination mailbox on
// the shared Dovecot destination.
type hostileFixture struct {
	srv     *testenv.Hostile
	dst     *testenv.Dovecot
	dstUser string
	rep     *hostileLog
}

func hostileSetup(t *testing.T, opts testenv.HostileOptions, folders ...testenv.HostileFolder) *hostileFixture {
	t.Helper()
	_, dst := testenv.SharedDovecot(t)
	h := &hostileFixture{dst: dst, dstUser: testenv.UniqueUser(t, "acme.test"), rep: &hostileLog{}}
	require.NoError(t, dst.AddUser(h.dstUser, "new-pass"))
	h.srv = testenv.StartHostile(t, opts, folders...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mailbox log:\n%s", h.rep.text())
		}
	})
	return h
}

// job copies the hostile server into the destination mailbox. Timeouts are
// short so that a stalled server costs seconds, not minutes; nothing
// asserts a duration.
func (h *hostileFixture) job() transfer.Job {
	src := transfer.Endpoint{Host: h.srv.Addr(), TLS: transfer.TLSNone, User: h.srv.User(), Password: h.srv.Password()}
	if pool := h.srv.CAPool(); pool != nil {
		src.TLS, src.RootCAs = transfer.TLSImplicit, pool
	}
	return transfer.Job{
		Preset: transfer.PresetStandardSSL,
		Source: src,
		Dest: transfer.Endpoint{Host: h.dst.TLSAddr(), TLS: transfer.TLSImplicit, User: h.dstUser,
			AuthUser: h.dst.MasterUser(), Password: h.dst.MasterPassword(), RootCAs: h.dst.CAPool()},
		Checkpoints: transfer.NewMemoryCheckpoints(),
		Reporter:    h.rep,
		Timeouts:    transfer.Timeouts{Dial: 5 * time.Second, Command: 5 * time.Second},
		MaxAttempts: 3,
		Backoff:     func(int) time.Duration { return 50 * time.Millisecond },
	}
}

// run runs the job under a memory sampler; it returns the result, the error
// and the peak growth of the heap over what it was before.
func (h *hostileFixture) run(t *testing.T, job transfer.Job) (transfer.Result, error, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var res transfer.Result
	var err error
	peak := heapPeak(func() { res, err = transfer.Run(ctx, job) })
	t.Logf("result %+v, error %v, heap peak growth %d MiB", res, err, peak>>20)
	return res, err, peak
}

// heapPeak runs f and returns the largest growth of the live heap seen while
// it ran, sampled every few milliseconds.
func heapPeak(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// hostileLog records the mailbox log.
type hostileLog struct {
	mu      sync.Mutex
	entries []transfer.LogEntry
	last    transfer.Progress
}

func (l *hostileLog) Log(e transfer.LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

func (l *hostileLog) Progress(p transfer.Progress) { l.mu.Lock(); l.last = p; l.mu.Unlock() }

func (l *hostileLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.entries {
		fmt.Fprintf(&b, "%s %s: %s\n", e.Level, e.Folder, e.Message)
	}
	return b.String()
}

// skipped returns the messages the log lists as not copied (for the
// customer's Risorse page), by folder and UID.
func (l *hostileLog) skipped() map[string]transfer.SkippedMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]transfer.SkippedMessage{}
	for _, e := range l.entries {
		if e.Skipped != nil {
			out[fmt.Sprintf("%s/%d", e.Skipped.Folder, e.Skipped.UID)] = *e.Skipped
		}
	}
	return out
}

// mentions reports whether a warning or error of folder names UID uid.
func (l *hostileLog) mentions(folder string, uid uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	re := regexp.MustCompile(fmt.Sprintf(`\bUID %d\b`, uid))
	for _, e := range l.entries {
		if e.Level >= slog.LevelWarn && e.Folder == folder && re.MatchString(e.Message) {
			return true
		}
	}
	return false
}

// notOutcomes are the Counters fields that are not a message's outcome.
var notOutcomes = map[string]bool{"Folders": true, "ExcludedFolders": true, "Found": true, "FlagsUpdated": true, "Bytes": true}

// outcomes adds up every message outcome of c (copied, already there, too
// large, failed, and any outcome the engine adds later, such as gone),
// found by reflection so that a new outcome counter is included.
func outcomes(c transfer.Counters) int {
	v := reflect.ValueOf(c)
	n := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if notOutcomes[f.Name] || f.Type.Kind() != reflect.Int {
			continue
		}
		n += int(v.Field(i).Int())
	}
	return n
}

// requireLedger checks the one-outcome-per-message rule: the copied folders
// held found messages, and every one has exactly one outcome.
func requireLedger(t *testing.T, res transfer.Result, found int) {
	t.Helper()
	require.Equal(t, found, res.Found, "messages found in the copied folders")
	require.Equal(t, res.Found, outcomes(res.Counters), "every message listed ends in exactly one outcome: %+v", res.Counters)
}

// requireReadOnly checks that the old server was never written to.
func requireReadOnly(t *testing.T, srv *testenv.Hostile) {
	t.Helper()
	require.Empty(t, srv.Writes(), "commands that write to the old server")
}

func (h *hostileFixture) dstClient(t *testing.T) *imapclient.Client {
	return h.dst.Dial(t, h.dstUser+"*"+h.dst.MasterUser(), h.dst.MasterPassword())
}

// dstFolder reads a destination folder, keyed by Message-ID.
func (h *hostileFixture) dstFolder(t *testing.T, name string) map[string]testenv.Stored {
	t.Helper()
	m, err := testenv.ReadFolder(h.dstClient(t), name)
	require.NoError(t, err)
	return m
}

// corpus is n corpus messages of about size bytes as hostile messages.
func corpus(seed int64, n, size int) []testenv.HostileMessage {
	ms := make([]testenv.Msg, n)
	for i := range ms {
		ms[i] = testenv.BuildMessage(seed, i, size)
	}
	return testenv.HostileMessages(ms...)
}

// standardFolders is a small mailbox: INBOX of 6 and Lavoro of 3.
func standardFolders() []testenv.HostileFolder {
	return []testenv.HostileFolder{
		{Name: "INBOX", Messages: corpus(91, 6, 2000)},
		{Name: "Lavoro", Messages: corpus(92, 3, 5000)},
		{Name: "Sent", Attrs: []string{`\Sent`}, Messages: corpus(93, 2, 1500)},
		{Name: "Trash", Attrs: []string{`\Trash`}, Messages: corpus(94, 2, 1500)},
	}
}

// TestHostileWellBehavedCopiesEverything: the scripted server's default
// speaks IMAP the way the engine expects, over plain text and implicit TLS,
// so every other test here differs from a correct copy by its fault only.
func TestHostileWellBehavedCopiesEverything(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			t.Parallel()
			h := hostileSetup(t, testenv.HostileOptions{TLS: tlsOn}, standardFolders()...)
			res, err, _ := h.run(t, h.job())
			require.NoError(t, err)
			require.True(t, res.Complete())
			requireLedger(t, res, 6+3+2)
			require.Equal(t, 11, res.Copied)
			require.Equal(t, 3, res.Folders)
			require.Equal(t, 1, res.ExcludedFolders, "Trash")
			require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t),
				map[string]string{"INBOX": "INBOX", "Lavoro": "Lavoro", "Sent": "Sent"}))
			requireReadOnly(t, h.srv)

			// A second run copies nothing twice.
			res, err, _ = h.run(t, h.job())
			require.NoError(t, err)
			requireLedger(t, res, 11)
			require.Equal(t, 11, res.AlreadyThere)
			require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t),
				map[string]string{"INBOX": "INBOX", "Lavoro": "Lavoro", "Sent": "Sent"}))
			requireReadOnly(t, h.srv)
		})
	}
}
