package transfer_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// The engine against the real Dovecot pair, in this process: what a change
// to the engine costs or saves, without River, PostgreSQL or a worker.
//
//	go test -run '^$' -bench BenchmarkCopyDovecot -benchtime 3x ./internal/transfer/
//
// Each iteration copies freshly seeded-once source mailboxes into new
// destination mailboxes, all mailboxes at once (as a worker runs them), and
// reports messages/s and the CPU time per 1,000 messages of this process
// and of each Dovecot (master plus every child it reaped), and this
// process's read and write system calls per 1,000 messages. After the last
// iteration every copied folder is compared message by message
// (testenv.SameMail). TRASLOCO_BENCH_CPUPROFILE=FILE writes the CPU
// profile of each iteration's copy alone to FILE.0, FILE.1, ….
// TRASLOCO_BENCH_MESSAGES sets the messages per mailbox
// (default 500); TRASLOCO_BENCH_TLS=1 reaches the source over STARTTLS, as
// the panel's Standard-no-SSL preset does when the server offers it;
// TRASLOCO_BENCH_LANES sets Job.Lanes (default the engine's), so that one
// binary compares one lane with several back to back;
// TRASLOCO_BENCH_SRC_DELAY (a Go duration) reaches the source through a
// proxy that delays every chunk by it each way, as a distant old server.
//
// On a machine shared with other work CPU times move from run to run; the
// servers' instructions do not: TRASLOCO_BENCH_DOVECOT_CALLGRIND=DIR starts
// a Dovecot pair of the benchmark's own whose imap processes run under
// valgrind's callgrind (testenv.DovecotOptions.IMAPWrapper), each writing
// its counts into DIR when it ends, and reports the instructions of the
// copies' sessions per 1,000 messages (seeding and checking left out):
//
//	TRASLOCO_BENCH_MESSAGES=200 TRASLOCO_BENCH_DOVECOT_CALLGRIND=/tmp/cg \
//	    go test -run '^$' -bench 'CopyDovecot/mailboxes=1$' -benchtime 2x ./internal/transfer/
//
// (This process itself does not run under callgrind: valgrind 3.19 stops on
// an assertion about the Go runtime's signals.)
func BenchmarkCopyDovecot(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("mailboxes=%d", n), func(b *testing.B) { benchCopy(b, n) })
	}
}

// benchFolders is the bench's folder layout (cmd/trasloco-bench): share of
// the messages, and whether the folder is copied.
var benchFolders = []struct {
	name   string
	weight int
	copied bool
}{
	{"INBOX", 30, true},
	{"INBOX.Sent", 14, true},
	{"INBOX.Posta inviata", 8, true},
	{"INBOX.Clienti", 8, true},
	{"INBOX.Clienti.Società", 10, true},
	{"INBOX.Fatture 2024", 10, true},
	{"INBOX.Progetti.Attività già svolte", 6, true},
	{"INBOX.Archivio.2023", 6, true},
	{"INBOX.Trash", 5, false},
	{"INBOX.Junk", 3, false},
}

// benchMapping maps the copied source folders to their destination names.
func benchMapping() map[string]string {
	m := map[string]string{}
	for _, f := range benchFolders {
		if !f.copied {
			continue
		}
		d := strings.ReplaceAll(strings.TrimPrefix(f.name, "INBOX."), ".", "/")
		m[f.name] = d
	}
	return m
}

// seedBench fills user's mailbox with n messages of the bench's shape:
// sizes log-normal around 20 KB (2–200 KB), 1 % of 1–5 MB.
func seedBench(b testing.TB, src *testenv.Dovecot, user, pass string, seed int64, n int) (copied int) {
	b.Helper()
	total := 0
	for _, f := range benchFolders {
		total += f.weight
	}
	byFolder := make([][]testenv.Msg, len(benchFolders))
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	for i := range n {
		w, fi := r.IntN(total), 0
		for ; w >= benchFolders[fi].weight; fi++ {
			w -= benchFolders[fi].weight
		}
		size := int(math.Exp(math.Log(20000) + 0.8*r.NormFloat64()))
		size = min(max(size, 2000), 200000)
		if r.Float64() < 0.01 {
			size = 1<<20 + r.IntN(4<<20)
		}
		byFolder[fi] = append(byFolder[fi], testenv.BuildMessage(seed, i, size))
		if benchFolders[fi].copied {
			copied++
		}
	}
	// Every folder first, parents before children, then the messages.
	c := src.Dial(b, user, pass)
	for _, f := range benchFolders {
		require.NoError(b, testenv.AppendMessages(c, f.name))
	}
	c.Close()
	var wg sync.WaitGroup
	errs := make([]error, len(benchFolders))
	for fi, msgs := range byFolder {
		wg.Go(func() {
			c, err := src.Connect(user, pass)
			if err != nil {
				errs[fi] = err
				return
			}
			defer c.Close()
			errs[fi] = testenv.AppendMessages(c, benchFolders[fi].name, msgs...)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(b, err)
	}
	return copied
}

func benchCopy(b *testing.B, mailboxes int) {
	per := 500
	if v, err := strconv.Atoi(os.Getenv("TRASLOCO_BENCH_MESSAGES")); err == nil && v > 0 {
		per = v
	}
	srcTLS := transfer.TLSNone
	if os.Getenv("TRASLOCO_BENCH_TLS") == "1" {
		srcTLS = transfer.TLSStartTLS
	}
	lanes, _ := strconv.Atoi(os.Getenv("TRASLOCO_BENCH_LANES"))
	src, dst := testenv.SharedDovecot(b)
	cgDir := os.Getenv("TRASLOCO_BENCH_DOVECOT_CALLGRIND")
	if cgDir != "" {
		src, dst = callgrindDovecots(b, cgDir)
	}
	srcAddr := src.PlainAddr()
	if d, err := time.ParseDuration(os.Getenv("TRASLOCO_BENCH_SRC_DELAY")); err == nil && d > 0 {
		srcAddr = benchDelayProxy(b, srcAddr, d)
	}
	type box struct {
		srcUser, dstUser string
	}
	boxes := make([]box, mailboxes)
	msgs := 0
	for i := range boxes {
		boxes[i].srcUser = testenv.UniqueUser(b, "old.test")
		require.NoError(b, src.AddUser(boxes[i].srcUser, "pw"))
		msgs += seedBench(b, src, boxes[i].srcUser, "pw", int64(i+1), per)
	}
	var wall, ours, srcCPU, dstCPU time.Duration
	var srcIr, dstIr, srcHdr int64
	var alloc uint64
	var gcs uint32
	var sysr, sysw int64
	b.ResetTimer()
	prof := os.Getenv("TRASLOCO_BENCH_CPUPROFILE")
	for iter := range b.N {
		b.StopTimer()
		for i := range boxes {
			boxes[i].dstUser = testenv.UniqueUser(b, "acme.test")
			require.NoError(b, dst.AddUser(boxes[i].dstUser, "pw"))
		}
		settle()
		callgrindQuiet(b, cgDir)
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		u0, s0, d0 := selfCPU(), dovecotCPU(src), dovecotCPU(dst)
		r0, w0 := selfSyscalls()
		before := callgrindFiles(cgDir)
		logAt := logSize(src)
		start := time.Now()
		stopProf := startProfile(b, prof, iter)
		b.StartTimer()
		var wg sync.WaitGroup
		res := make([]transfer.Result, len(boxes))
		errs := make([]error, len(boxes))
		for i, bx := range boxes {
			wg.Go(func() {
				res[i], errs[i] = transfer.Run(context.Background(), transfer.Job{
					Preset: transfer.PresetStandardNoSSL,
					Lanes:  lanes,
					Source: transfer.Endpoint{Host: srcAddr, TLS: srcTLS, User: bx.srcUser, Password: "pw", RootCAs: src.CAPool()},
					Dest: transfer.Endpoint{Host: dst.PlainAddr(), TLS: transfer.TLSNone, User: bx.dstUser,
						AuthUser: dst.MasterUser(), Password: dst.MasterPassword()},
					Verify: true, // as the worker does
				})
			})
		}
		wg.Wait()
		b.StopTimer()
		stopProf()
		wall += time.Since(start)
		ours += selfCPU() - u0
		r1, w1 := selfSyscalls()
		sysr += r1 - r0
		sysw += w1 - w0
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		alloc += m1.TotalAlloc - m0.TotalAlloc
		gcs += m1.NumGC - m0.NumGC
		settle() // Dovecot reaps the imap processes of the logouts
		srcCPU += dovecotCPU(src) - s0
		srcHdr += headersServed(b, src, logAt)
		dstCPU += dovecotCPU(dst) - d0
		if cgDir != "" {
			callgrindQuiet(b, cgDir)
			s, d := callgrindTotals(b, cgDir, before)
			srcIr += s
			dstIr += d
		}
		copied := 0
		for i := range res {
			require.NoError(b, errs[i])
			require.Zero(b, res[i].Failed)
			require.True(b, res[i].Verification.OK(), "%+v", res[i].Verification)
			copied += res[i].Copied
		}
		require.Equal(b, msgs, copied)
	}
	k := float64(b.N*msgs) / 1000
	b.ReportMetric(float64(b.N*msgs)/wall.Seconds(), "msg/s")
	b.ReportMetric(ours.Seconds()*1000/k, "ms-cpu-ours/1k-msg")
	b.ReportMetric(srcCPU.Seconds()*1000/k, "ms-cpu-src/1k-msg")
	b.ReportMetric(float64(alloc)/(1<<20)/k, "MB-alloc/1k-msg")
	b.ReportMetric(float64(gcs)/k, "gc/1k-msg")
	b.ReportMetric(dstCPU.Seconds()*1000/k, "ms-cpu-dst/1k-msg")
	b.ReportMetric(float64(sysr)/k, "reads/1k-msg")
	b.ReportMetric(float64(sysw)/k, "writes/1k-msg")
	b.ReportMetric(float64(srcHdr)/k, "src-hdr-msgs/1k-msg")
	if cgDir != "" {
		b.ReportMetric(float64(srcIr)/1e9/k, "Ginstr-src/1k-msg")
		b.ReportMetric(float64(dstIr)/1e9/k, "Ginstr-dst/1k-msg")
	}
	for _, bx := range boxes {
		sc, dc := src.Dial(b, bx.srcUser, "pw"), dst.Dial(b, bx.dstUser, "pw")
		require.NoError(b, testenv.SameMail(sc, dc, benchMapping()))
	}
}

// startProfile writes the CPU profile of this iteration's copy, seeding
// and checks left out, to FILE.N when TRASLOCO_BENCH_CPUPROFILE=FILE
// (read them together: go tool pprof -top FILE.*).
func startProfile(b *testing.B, file string, iter int) (stop func()) {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file + "." + strconv.Itoa(iter))
	require.NoError(b, err)
	require.NoError(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(b, f.Close())
	}
}

// benchDelayProxy forwards to target, every chunk delay after it was read,
// each way (delayedCopy).
func benchDelayProxy(b *testing.B, target string, delay time.Duration) string {
	by := func() time.Duration { return delay }
	return testenv.Proxy(b, target, func(c, up net.Conn, _ int) {
		go delayedCopy(up, c, by)
		delayedCopy(c, up, by)
	})
}

// settle lets Dovecot reap the processes that just logged out, so their CPU
// time is in the master's.
func settle() { time.Sleep(300 * time.Millisecond) }

// selfCPU is this process's user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfSyscalls counts this process's read and write system calls (every
// thread's; /proc/self/io's syscr and syscw: read(2), write(2) and their
// vector forms, on sockets too), a count that CPU noise does not move.
func selfSyscalls() (reads, writes int64) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// dovecotCPU is the CPU time of d's master process and of every child it
// reaped, from /proc.
func dovecotCPU(d *testenv.Dovecot) time.Duration {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) < 2 || filepath.Base(args[0]) != "dovecot" || !slices.Contains(args, d.ConfigPath()) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			return 0
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		var ticks int64
		for _, v := range f[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
		return time.Duration(ticks) * time.Second / 100
	}
	return 0
}

// logSize is the size of d's log now.
func logSize(d *testenv.Dovecot) int64 {
	fi, err := os.Stat(d.LogPath())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// headersServed sums, over the imap sessions of d that ended since its log
// had the size at, the messages whose header the session sent (Dovecot's
// logout line: hdr_count, a message counted once per command that fetched
// its header).
func headersServed(b *testing.B, d *testenv.Dovecot, at int64) int64 {
	data, err := os.ReadFile(d.LogPath())
	require.NoError(b, err)
	var n int64
	for line := range strings.SplitSeq(string(data[min(at, int64(len(data))):]), "\n") {
		_, v, ok := strings.Cut(line, " hdr_count=")
		if !ok {
			continue
		}
		c, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		n += c
	}
	return n
}

// callgrindDovecots starts a Dovecot pair whose imap processes run under
// callgrind, each writing its counts into dir when it exits.
func callgrindDovecots(b *testing.B, dir string) (src, dst *testenv.Dovecot) {
	require.NoError(b, os.MkdirAll(dir, 0o777))
	require.NoError(b, os.Chmod(dir, 0o777)) // the imap processes run as the mail user
	base := filepath.Join(dir, "servers")
	wrap := ""
	if os.Geteuid() == 0 {
		// imap starts as root and drops to the mail user, and callgrind
		// opens its file at start and again at exit: start it as the
		// mail user, so that the file it made is its own.
		wrap = "/usr/bin/setpriv --reuid=dovecot --regid=dovecot --clear-groups "
	}
	start := func(role testenv.Role, name string) *testenv.Dovecot {
		d, err := testenv.StartDovecotWith(role, filepath.Join(base, name), testenv.DovecotOptions{
			IMAPWrapper: wrap + "/usr/bin/valgrind --tool=callgrind --callgrind-out-file=" + filepath.Join(dir, name+".%p"),
		})
		require.NoError(b, err)
		b.Cleanup(func() { _ = d.Stop() })
		return d
	}
	return start(testenv.RoleSource, "src"), start(testenv.RoleDestination, "dst")
}

// callgrindFiles lists the callgrind outputs in dir.
func callgrindFiles(dir string) map[string]bool {
	out := map[string]bool{}
	if dir == "" {
		return out
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// callgrindTotals sums the instructions of the imap sessions that ended
// since before, per server. A session still running has written nothing.
func callgrindTotals(b *testing.B, dir string, before map[string]bool) (src, dst int64) {
	for name := range callgrindFiles(dir) {
		if before[name] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(b, err)
		var n int64
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "totals: "); ok {
				n, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			} else if v, ok := strings.CutPrefix(line, "summary: "); ok && n == 0 {
				n, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			}
		}
		if strings.HasPrefix(name, "src.") {
			src += n
		} else {
			dst += n
		}
	}
	return src, dst
}

// callgrindQuiet waits until no imap process writing into dir runs: each
// writes its counts when it ends.
func callgrindQuiet(b *testing.B, dir string) {
	if dir == "" {
		return
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		running := false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if strings.Contains(string(cmdline), "--callgrind-out-file="+dir) {
				running = true
				break
			}
		}
		if !running {
			return
		}
	}
	b.Fatal("imap processes under callgrind still running after 2 minutes")
}
