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
	"crypto/sha256"
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

	"github.com/emersion/go-imap/v2"
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
		t.Fatalf("%s in its own process: %v\n%s", t.Name(), err, childReport(out))
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s in its own process did not pass:\n%s", t.Name(), childReport(out))
	}
	return true
}

// childReport is what a failed child process said: the start of a crash
// (panic or fatal error, with the engine's frames) when there is one, and
// the end of its output.
func childReport(out []byte) string {
	out = shortLines(out)
	var crash string
	for _, mark := range []string{"panic: ", "fatal error: "} {
		if i := strings.Index(string(out), mark); i >= 0 {
			crash = string(out[i:min(len(out), i+4000)])
			break
		}
	}
	if crash != "" {
		return "crash:\n" + crash + "\n…\nend of output:\n" + tail(out, 4000)
	}
	return tail(out, 12000)
}

// shortLines cuts every line of b to 400 bytes (a 64 MiB folder name is
// not worth reading).
func shortLines(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + fmt.Sprintf("… (%d bytes)", len(l))
		}
	}
	return []byte(strings.Join(lines, "\n"))
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
// and the peak growth of the heap over what it was before. Run must end by
// itself: the test's own deadline (minutes, where every fault here costs
// seconds of watchdogs) ending it means the engine hung, which fails the
// test ("no goroutine hangs for ever"); it is a guard, not a measure.
func (h *hostileFixture) run(t *testing.T, job transfer.Job) (transfer.Result, error, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var res transfer.Result
	var err error
	peak := heapPeak(func() { res, err = transfer.Run(ctx, job) })
	t.Logf("result %+v, error %s, heap peak growth %d MiB", res, shortLines([]byte(fmt.Sprint(err))), peak>>20)
	require.NoError(t, ctx.Err(), "transfer.Run hung until the test gave up on it")
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
	return string(shortLines([]byte(b.String())))
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

// The mailbox of the fault tests: INBOX of 6 (the faults hit INBOX), Lavoro
// of 3 and Sent of 2 (which must be copied whatever INBOX does), and Trash.
const (
	inboxN = 6
	foundN = 6 + 3 + 2 // messages in the folders that are copied
)

// requireOthersCopied checks that the folders after the broken one were
// copied whole.
func requireOthersCopied(t *testing.T, h *hostileFixture) {
	t.Helper()
	require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t), map[string]string{"Lavoro": "Lavoro", "Sent": "Sent"}),
		"the folders after the broken one are copied")
}

// requireNoneTwice checks that no message is at the destination twice and
// that every destination message is byte for byte one of the source's (a
// truncated or padded message never gets in).
func requireNoneTwice(t *testing.T, h *hostileFixture, folder string, src []testenv.HostileMessage) {
	t.Helper()
	want := map[[32]byte]bool{}
	for _, m := range src {
		if m.Pad == 0 {
			want[sha(m.Body)] = true
		}
	}
	seen := map[[32]byte]bool{}
	for id, m := range h.dstFolder(t, folder) {
		require.True(t, want[m.Sum], "destination %s: message %s is none of the source's (truncated, padded or foreign)", folder, id)
		require.False(t, seen[m.Sum], "destination %s: message %s is there twice", folder, id)
		seen[m.Sum] = true
	}
}

// requireFailedAlone is the outcome of a mailbox where one message of INBOX
// could not be had: that message failed with its reason (in the log and in
// the list the customer sees, like the messages over 30 MB), every other
// message was copied, the mailbox ends completed with errors (no error from
// Run, not complete), and nothing was written to the old server.
func requireFailedAlone(t *testing.T, h *hostileFixture, res transfer.Result, err error, uid uint32) {
	t.Helper()
	require.NoError(t, err, "one message the old server does not deliver costs that message, not the mailbox")
	requireLedger(t, res, foundN)
	require.Equal(t, 1, res.Failed, "UID %d failed", uid)
	require.Equal(t, foundN-1, res.Copied)
	require.False(t, res.Complete(), "completed with errors, never completed")
	require.True(t, h.rep.mentions("INBOX", uid), "the log names INBOX UID %d", uid)
	require.Contains(t, h.rep.skipped(), fmt.Sprintf("INBOX/%d", uid), "the customer's list of messages not copied has INBOX UID %d", uid)
	require.Len(t, h.dstFolder(t, "INBOX"), inboxN-1)
	requireOthersCopied(t, h)
	requireReadOnly(t, h.srv)
}

// TestHostileNilBody — table row 1, rule "no crash, ever" and "one outcome
// per message": `* 2 FETCH (UID 2 BODY[] NIL)` is valid IMAP (an nstring);
// the message is retried alone, then failed with its reason.
func TestHostileNilBody(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{NilBodyUID: 2}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	requireFailedAlone(t, h, res, err, 2)
}

// TestHostileHugeExists — table row 2, rule "preallocation bounded by what
// is really there, not by EXISTS": `* 4294967295 EXISTS` on EXAMINE, while
// the FETCH lists 6. Everything is copied, in bounded memory.
func TestHostileHugeExists(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Exists: 4294967295}}, standardFolders()...)
	res, err, peak := h.run(t, h.job())
	require.Less(t, peak, uint64(64<<20), "heap growth")
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.True(t, res.Complete())
	require.Equal(t, foundN, res.Copied)
	requireOthersCopied(t, h)
	requireReadOnly(t, h.srv)
}

// TestHostileMessageLeftOut — table row 3, rule "one outcome per message, a
// gap is a failure with a reason, never a silent hole": the body FETCH
// leaves UID 3 out and ends OK. Not "completed": UID 3 is retried alone,
// then failed ("il vecchio server non ha consegnato il messaggio").
func TestHostileMessageLeftOut(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{OmitUID: 3}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	requireFailedAlone(t, h, res, err, 3)
}

// TestHostileTaggedNOOnBodyFetch — table row 4, rule "a refusal costs one
// message, not the mailbox": a body FETCH that includes UID 4 delivers the
// others and ends with a tagged NO (Gmail's way); the chunk is split down
// to single messages and only UID 4 fails; later folders are copied.
func TestHostileTaggedNOOnBodyFetch(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{RefuseUID: 4}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	requireFailedAlone(t, h, res, err, 4)
}

// TestHostileLiteralLargerThanDeclared — table row 5, rule "a literal never
// longer than the message's declared size plus a little and never longer
// than the size limit: stop reading, count the message as too large or
// failed, never APPEND it": UID 5 declares RFC822.SIZE 900 and sends 40 MiB.
func TestHostileLiteralLargerThanDeclared(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	folders := standardFolders()
	folders[0].Messages[4].DeclaredSize = 900
	folders[0].Messages[4].Pad = 40 << 20
	h := hostileSetup(t, testenv.HostileOptions{}, folders...)
	res, err, peak := h.run(t, h.job())
	require.Less(t, peak, uint64(24<<20), "heap growth: the 40 MiB literal is not read into memory")
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.Equal(t, 1, res.Failed+res.TooLarge, "UID 5 is too large or failed")
	require.Equal(t, foundN-1, res.Copied)
	require.False(t, res.Complete() && res.TooLarge == 0)
	require.True(t, h.rep.mentions("INBOX", 5), "the log names INBOX UID 5")
	require.Contains(t, h.rep.skipped(), "INBOX/5")
	requireNoneTwice(t, h, "INBOX", folders[0].Messages)
	require.Len(t, h.dstFolder(t, "INBOX"), inboxN-1, "the 40 MiB message is never appended")
	requireOthersCopied(t, h)
	requireReadOnly(t, h.srv)
}

// TestHostileHugeListLine — table row 6, rule "a cap on a response line
// outside literals (a few MiB)": one 64 MiB line in the LIST reply. The
// copy ends (with the mailbox's reason, or without the monster folder) in
// bounded memory.
func TestHostileHugeListLine(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ListLineBytes: 64 << 20}}, standardFolders()...)
	res, err, peak := h.run(t, h.job())
	require.Less(t, peak, uint64(32<<20), "heap growth: the 64 MiB line is not held")
	if err == nil {
		requireLedger(t, res, foundN)
		requireOthersCopied(t, h)
	}
	requireReadOnly(t, h.srv)
}

// TestHostileTrashAndJunkUnderInbox — table row 7, rule "Trash and Junk
// never cross, wherever the old server keeps them": directly under INBOX
// with an empty namespace prefix and no SPECIAL-USE, also without
// NAMESPACE and with "." as delimiter. A user folder that merely contains
// the word deeper down (Progetti/Trash) is still copied.
func TestHostileTrashAndJunkUnderInbox(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts testenv.HostileOptions
	}{
		{"empty prefix", testenv.HostileOptions{NoSpecialUse: true}},
		{"no NAMESPACE", testenv.HostileOptions{NoSpecialUse: true, NoNamespace: true}},
		{"dot delimiter without NAMESPACE", testenv.HostileOptions{NoSpecialUse: true, NoNamespace: true, Delim: '.'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := "/"
			if tc.opts.Delim != 0 {
				d = string(tc.opts.Delim)
			}
			excluded := []string{"Trash", "Spam", "Cestino", "Posta indesiderata", "Posta eliminata", "Junk"}
			folders := []testenv.HostileFolder{{Name: "INBOX", Messages: corpus(81, 3, 1500)}}
			for i, name := range excluded {
				folders = append(folders, testenv.HostileFolder{Name: "INBOX" + d + name, Messages: corpus(int64(82+i), 2, 1500)})
			}
			folders = append(folders,
				testenv.HostileFolder{Name: "INBOX" + d + "Progetti", Messages: corpus(70, 2, 1500)},
				testenv.HostileFolder{Name: "Progetti", Messages: corpus(71, 1, 1500)},
				testenv.HostileFolder{Name: "Progetti" + d + "Trash", Messages: corpus(72, 2, 1500)},
			)
			h := hostileSetup(t, tc.opts, folders...)
			res, err, _ := h.run(t, h.job())
			require.NoError(t, err)
			require.Equal(t, len(excluded), res.ExcludedFolders, "every Trash and Junk under INBOX is left out")
			requireLedger(t, res, 3+2+1+2)
			require.True(t, res.Complete())
			require.Equal(t, 3+2+1+2, res.Copied, "INBOX, INBOX/Progetti, Progetti and Progetti/Trash are copied")
			list, lerr := h.dstClient(t).List("", "*", nil).Collect()
			require.NoError(t, lerr)
			for _, l := range list {
				for _, name := range excluded {
					require.NotEqual(t, strings.ToLower("INBOX/"+name), strings.ToLower(l.Mailbox), "folder %s copied", l.Mailbox)
				}
			}
			require.Len(t, h.dstFolder(t, "Progetti/Trash"), 2)
			requireReadOnly(t, h.srv)
		})
	}
}

// TestHostileShortLiteral — rule "no goroutine hangs for ever" and "one
// outcome per message": UID 2's literal stops half-way, then the server
// stalls or hangs up, on every connection. The truncated message is never
// appended; it fails alone and the rest is copied.
func TestHostileShortLiteral(t *testing.T) {
	t.Parallel()
	for _, closeIt := range []bool{false, true} {
		t.Run(fmt.Sprintf("close=%v", closeIt), func(t *testing.T) {
			t.Parallel()
			folders := standardFolders()
			h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ShortLiteralUID: 2, ShortLiteralClose: closeIt}}, folders...)
			res, err, _ := h.run(t, h.job())
			requireNoneTwice(t, h, "INBOX", folders[0].Messages)
			requireFailedAlone(t, h, res, err, 2)
		})
	}
}

// TestHostileByeMidFetch — rule "duplicates stay impossible, losses too":
// the first connection says BYE after the first message of the body FETCH;
// the copy reconnects and ends complete, every message once.
func TestHostileByeMidFetch(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ByeMidFetch: 1}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.True(t, res.Complete())
	require.Equal(t, foundN, res.Copied+res.AlreadyThere, "copied, or recognised at the destination after the reconnect")
	require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t),
		map[string]string{"INBOX": "INBOX", "Lavoro": "Lavoro", "Sent": "Sent"}))
	requireReadOnly(t, h.srv)
}

// TestHostileByeOnEveryConnection — rule "no crash" and "never completed with
// a hole": every connection says BYE in the middle of its body FETCH. The
// copy ends; whatever it copied is there once; if it reports no error its
// counts add up and the mailbox is not complete unless it is.
func TestHostileByeOnEveryConnection(t *testing.T) {
	t.Parallel()
	folders := standardFolders()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ByeMidFetch: 1 << 30}}, folders...)
	res, err, _ := h.run(t, h.job())
	requireNoneTwice(t, h, "INBOX", folders[0].Messages)
	if err == nil {
		requireLedger(t, res, foundN)
		require.Equal(t, res.Complete(), len(h.dstFolder(t, "INBOX")) == inboxN, "complete only when INBOX is whole")
	}
	requireReadOnly(t, h.srv)
}

// TestHostileUIDValidityChange — rule "duplicates stay impossible, losses
// too" and "one outcome per message": right after the metadata FETCH the
// server renumbers every message and changes UIDVALIDITY, so the body FETCH
// finds none of the listed UIDs. The first run may not copy INBOX, but it
// never reports a hole as complete; a second run with the same checkpoints
// brings the destination level with the source, nothing twice.
func TestHostileUIDValidityChange(t *testing.T) {
	t.Parallel()
	folders := standardFolders()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{UIDValidityChange: true}}, folders...)
	job := h.job()
	res, err, _ := h.run(t, job)
	if err == nil {
		requireLedger(t, res, foundN)
	}
	if err == nil && res.Complete() {
		require.Len(t, h.dstFolder(t, "INBOX"), inboxN, "complete, so INBOX must be whole")
	}
	res, err, _ = h.run(t, job)
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.True(t, res.Complete())
	requireNoneTwice(t, h, "INBOX", folders[0].Messages)
	require.NoError(t, testenv.SameMail(h.srv.Dial(t), h.dstClient(t),
		map[string]string{"INBOX": "INBOX", "Lavoro": "Lavoro", "Sent": "Sent"}))
	requireReadOnly(t, h.srv)
}

// TestHostileGarbage — rule "no crash, ever": bytes that are no IMAP at all
// (NULs, a literal announced of 2 GB, unbalanced parentheses) after the
// first message of every body FETCH. The copy ends, in bounded memory,
// with a reason; nothing is appended twice or truncated.
func TestHostileGarbage(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	for _, g := range []string{
		"\x00\xff\xfe garbage ((( \x1b[31m",
		"* 3 FETCH (UID 3 BODY[] {2147483647}",
		"* 3 FETCH (UID ((((((((((((((((((((((((((((((((((((((((((",
		")))) * OK [UIDVALIDITY x] NIL NIL {5}",
	} {
		t.Run(fmt.Sprintf("%q", g[:8]), func(t *testing.T) {
			folders := standardFolders()
			h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Garbage: []byte(g)}}, folders...)
			res, err, peak := h.run(t, h.job())
			require.Less(t, peak, uint64(64<<20), "heap growth")
			requireNoneTwice(t, h, "INBOX", folders[0].Messages)
			if err == nil {
				requireLedger(t, res, foundN)
				require.Equal(t, res.Complete(), len(h.dstFolder(t, "INBOX")) == inboxN, "complete only when INBOX is whole")
			}
			requireReadOnly(t, h.srv)
		})
	}
}

// TestHostileNoLogoutReply — rule "no goroutine hangs for ever" (LOGOUT
// bounded): the server never answers LOGOUT; the copy still ends, complete.
func TestHostileNoLogoutReply(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{NoLogoutReply: true}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.True(t, res.Complete())
	requireReadOnly(t, h.srv)

	// The panel's test login ends too.
	_, err = transfer.Check(context.Background(), transfer.PresetStandardSSL, h.job().Source, h.job().Timeouts, true)
	require.NoError(t, err)
}

// TestHostileHugeGreeting — rule "a cap on a response line outside
// literals": a greeting of 64 MiB. The copy fails with a connection error
// naming the source, in bounded memory.
func TestHostileHugeGreeting(t *testing.T) {
	t.Parallel()
	if isolate(t) {
		return
	}
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{GreetingBytes: 64 << 20}}, standardFolders()...)
	_, err, peak := h.run(t, h.job())
	require.Less(t, peak, uint64(32<<20), "heap growth: the greeting is not held")
	ce, ok := transfer.IsConnError(err)
	require.True(t, ok, "a connection error, got %v", err)
	require.Equal(t, transfer.SideSource, ce.Side)
	requireReadOnly(t, h.srv)
}

// TestHostileDrip — rule "slow is allowed, stalled is not": UID 2's body
// comes one byte a second, on every connection. The attempt is cut with a
// reason (here the per-command watchdog of 5 s the test sets; the rate
// floor and the mailbox's time budget bound it with the defaults) and the
// message fails alone; the rest is copied.
func TestHostileDrip(t *testing.T) {
	t.Parallel()
	folders := standardFolders()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Drip: time.Second, DripUID: 2}}, folders...)
	res, err, _ := h.run(t, h.job())
	requireNoneTwice(t, h, "INBOX", folders[0].Messages)
	requireFailedAlone(t, h, res, err, 2)
}

// TestHostileSameMessageID — rule "duplicates stay impossible, losses too":
// two different messages share one Message-ID (and, without one, the same
// Date, From and Subject); one of them reached the destination before a
// crash, unrecorded. Matching compares RFC822.SIZE (and INTERNALDATE for
// the header-hash fallback), so the other one is still copied, and the one
// already there is not copied again.
func TestHostileSameMessageID(t *testing.T) {
	t.Parallel()
	for _, withID := range []bool{true, false} {
		t.Run(fmt.Sprintf("message-id=%v", withID), func(t *testing.T) {
			t.Parallel()
			hdr := "Message-ID: <same@old.test>\r\n"
			if !withID {
				hdr = ""
			}
			hdr += "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: anna@old.test\r\nSubject: Fattura\r\n\r\n"
			b := testenv.HostileMessage{UID: 1, Body: []byte(hdr + "la seconda versione, più lunga della prima\r\n"),
				Date: time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC), Flags: []string{`\Seen`}}
			a := testenv.HostileMessage{UID: 2, Body: []byte(hdr + "la prima\r\n"),
				Date: time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC), Flags: []string{`\Seen`}}
			h := hostileSetup(t, testenv.HostileOptions{}, testenv.HostileFolder{Name: "INBOX", Messages: []testenv.HostileMessage{b, a}})
			testenv.Append(t, h.dstClient(t), "INBOX", testenv.Msg{Raw: a.Body, Date: a.Date, Flags: nil})

			res, err, _ := h.run(t, h.job())
			require.NoError(t, err)
			requireLedger(t, res, 2)
			require.Equal(t, 1, res.AlreadyThere, "A was there")
			require.Equal(t, 1, res.Copied, "B is copied")
			sums := map[[32]byte]int{}
			for _, m := range h.dstFolder(t, "INBOX") {
				sums[m.Sum]++
			}
			require.Equal(t, map[[32]byte]int{sha(a.Body): 1, sha(b.Body): 1}, sums, "A and B, once each")
			requireReadOnly(t, h.srv)
		})
	}
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// counter reads the outcome counter name of c by reflection, so that a test
// can ask for an outcome this branch's Counters may not have yet; a missing
// counter fails the test.
func counter(t *testing.T, c transfer.Counters, name string) int {
	t.Helper()
	f := reflect.ValueOf(c).FieldByName(name)
	require.True(t, f.IsValid(), "transfer.Counters has no %s outcome", name)
	return int(f.Int())
}

// TestHostileExpungedDuringCopy — rule "one outcome per message": UID 3 is
// listed by the metadata FETCH, then expunged at the source before its body
// is fetched. It is "gone from the source during the copy", proved by a
// UID FETCH or UID SEARCH of it, not a failure and not a silent hole; the
// rest is copied and the mailbox completes.
func TestHostileExpungedDuringCopy(t *testing.T) {
	t.Parallel()
	h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ExpungeUID: 3}}, standardFolders()...)
	res, err, _ := h.run(t, h.job())
	require.NoError(t, err)
	requireLedger(t, res, foundN)
	require.Equal(t, 1, counter(t, res.Counters, "Gone"), "UID 3 is gone")
	require.Zero(t, res.Failed)
	require.Equal(t, foundN-1, res.Copied)
	require.True(t, res.Complete(), "a message the customer deleted meanwhile is no error")
	var proved bool
	for _, c := range h.srv.Commands() {
		if c.Name == "UID SEARCH" || c.Name == "SEARCH" || c.Name == "UID FETCH" && strings.HasPrefix(c.Args, "3 ") {
			proved = true
		}
	}
	require.True(t, proved, "the engine asked the source whether UID 3 is still there")
	require.Len(t, h.dstFolder(t, "INBOX"), inboxN-1)
	requireOthersCopied(t, h)
	requireReadOnly(t, h.srv)
}

// TestHostileRun2KeepsCustomersFlags — rule "run 2 respects the customer's
// changes": between the runs the customer sets a keyword on two copied
// messages at the destination, while at the source one message gains \Seen
// and the other loses it. Run 2 applies only what changed at the source
// (+FLAGS/-FLAGS), so the customer's keyword stays on both.
func TestHostileRun2KeepsCustomersFlags(t *testing.T) {
	t.Parallel()
	msgs := corpus(61, 3, 1500)
	msgs[0].Flags, msgs[1].Flags, msgs[2].Flags = nil, []string{`\Seen`}, []string{`\Answered`}
	h := hostileSetup(t, testenv.HostileOptions{}, testenv.HostileFolder{Name: "INBOX", Messages: msgs})
	job := h.job()
	res, err, _ := h.run(t, job)
	require.NoError(t, err)
	require.Equal(t, 3, res.Copied)

	dc := h.dstClient(t)
	before := h.dstFolder(t, "INBOX")
	_, err = dc.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	var set imap.UIDSet
	for _, m := range msgs[:2] {
		set.AddNum(before[testenv.MessageID(m.Body)].UID)
	}
	require.NoError(t, dc.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{"$Cliente"}}, nil).Close())
	require.NoError(t, dc.Unselect().Wait())
	require.True(t, h.srv.SetFlags("INBOX", 1, `\Seen`))
	require.True(t, h.srv.SetFlags("INBOX", 2))

	res, err, _ = h.run(t, job)
	require.NoError(t, err)
	requireLedger(t, res, 3)
	require.Equal(t, 2, res.FlagsUpdated)
	after := h.dstFolder(t, "INBOX")
	require.Equal(t, `$Cliente \Seen`, after[testenv.MessageID(msgs[0].Body)].Flags, "\\Seen added, the customer's keyword kept")
	require.Equal(t, `$Cliente`, after[testenv.MessageID(msgs[1].Body)].Flags, "\\Seen removed, the customer's keyword kept")
	require.Equal(t, `\Answered`, after[testenv.MessageID(msgs[2].Body)].Flags, "unchanged")
	requireReadOnly(t, h.srv)
}

// setJob sets a field of job by name, so that a test can use a knob this
// branch's Job may not have yet; a missing field fails the test.
func setJob(t *testing.T, job *transfer.Job, name string, v any) {
	t.Helper()
	f := reflect.ValueOf(job).Elem().FieldByName(name)
	require.True(t, f.IsValid(), "transfer.Job has no %s", name)
	f.Set(reflect.ValueOf(v).Convert(f.Type()))
}

// TestHostileRateFloor — rule "slow is allowed, stalled is not": INBOX's
// bodies come in small pieces, each well within the per-command watchdog,
// so only the rate floor can tell. At 20 KB/s (ten times the test's floor
// of 2 KiB/s over 2 s) the copy completes; at 640 B/s the attempt is cut
// and retried on a new connection, and the mailbox ends with its reason
// instead of holding the slot.
func TestHostileRateFloor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		chunk int
		ok    bool
	}{
		{"slow", 2048, true},
		{"stalled", 64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := hostileSetup(t, testenv.HostileOptions{Faults: testenv.HostileFaults{Drip: 100 * time.Millisecond, DripBytes: tc.chunk}}, standardFolders()...)
			job := h.job()
			setJob(t, &job, "MinRate", int64(2<<10))
			setJob(t, &job, "RateWindow", 2*time.Second)
			res, err, _ := h.run(t, job)
			requireReadOnly(t, h.srv)
			if tc.ok {
				require.NoError(t, err, "slow is allowed")
				requireLedger(t, res, foundN)
				require.True(t, res.Complete())
				return
			}
			require.Greater(t, h.srv.Connections(), 1, "the stalled attempt was cut and retried")
			require.False(t, err == nil && res.Complete(), "a stalled INBOX is not completed")
			if err == nil {
				requireLedger(t, res, foundN)
			}
			requireNoneTwice(t, h, "INBOX", standardFolders()[0].Messages)
		})
	}
}
