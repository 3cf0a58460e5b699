// Command trasloco-bench is `make bench`: it copies the same deterministic
// corpus with `trasloco copy`, with isync's mbsync and with Dovecot's own
// server-side migration (`doveadm backup -R` through imapc), between two real
// Dovecot servers on loopback, checks that every copy is exact, and prints
// messages/s, MB/s and peak memory side by side as a markdown table.
//
// Two scenarios: one large mailbox (-messages, ten folders), and -mailboxes
// mailboxes of -per-mailbox messages copied at the same time: by mbsync and
// doveadm in one process per mailbox, by trasloco in one process, as a
// `trasloco worker` runs many copies (-trasloco-procs each: one `trasloco
// copy` per mailbox instead). Every figure is the median of -runs runs; each
// run copies into fresh destination users.
//
// Each run also logs the CPU time of the copying processes and of the two
// Dovecot servers meanwhile (their imap processes end at logout and are
// counted then), to say where the time goes.
//
// Beside those, in the same run: the product path (worker: the scenario's
// mailboxes as one migration through a real `trasloco worker` with
// PostgreSQL, timed by the run's start and end in the database; see
// product.go), a scenario of -small-mailboxes small mailboxes (worker and
// doveadm), the two servers' one-sided rates on the same corpus (src-read,
// dst-write; see limits.go), a validation of -validate-lines lines against
// one slow old server (validation.go), and the ratios beside issue 13's
// targets, printed, never asserted.
//
// The servers' storage lives under the system temporary directory ($TMPDIR):
// on a disk by default, like a real server; TMPDIR=/dev/shm takes the disk
// out of the measurement (less noise on a shared virtual machine). Every
// copy stays there until the end (about 6 GB for the default make bench).
//
// Peak memory is sampled from /proc (Linux only).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// options are the command-line flags.
type options struct {
	messages, mailboxes, perMailbox, runs int
	seed                                  int64
	quick                                 bool
	out                                   string
	dstConns                              int
	tools                                 string
	cpuProfile                            string
	keep                                  bool
	parent                                string
	traslocoProcs                         string
	inFlight                              int64
	smallMailboxes, smallPer              int
	workers, perHost                      int
	workerProfile                         string
	validateProfile                       string
	validateLines                         int
	roundTrips                            bool
	loginDelay                            time.Duration
	srcTLS                                string
}

func main() {
	var o options
	flag.IntVar(&o.messages, "messages", 5000, "messages in the one-mailbox scenario")
	flag.IntVar(&o.mailboxes, "mailboxes", 8, "mailboxes copied at once in the second scenario")
	flag.IntVar(&o.perMailbox, "per-mailbox", 1000, "messages per mailbox in the second scenario")
	flag.IntVar(&o.runs, "runs", 3, "runs per tool and scenario (the table shows medians)")
	flag.Int64Var(&o.seed, "seed", 1, "corpus seed")
	flag.BoolVar(&o.quick, "quick", false, "small smoke run: 400 messages, 3×150, 20×20 small mailboxes, 100 lines to validate, one run (explicit flags still win)")
	flag.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	flag.IntVar(&o.dstConns, "dst-conns", 2, "trasloco copy --dst-conns")
	flag.StringVar(&o.tools, "tools", "trasloco,worker,mbsync,doveadm,src-read,dst-write", "comma-separated tools to run: trasloco (trasloco copy, or the engine in one process), worker (one migration through a real trasloco worker with PostgreSQL), mbsync, doveadm, and the limit rows src-read and dst-write")
	flag.IntVar(&o.smallMailboxes, "small-mailboxes", 200, "mailboxes of the many-small-mailboxes scenario (worker and doveadm only; 0: none)")
	flag.IntVar(&o.smallPer, "small-per-mailbox", 20, "messages per mailbox in the many-small-mailboxes scenario")
	flag.IntVar(&o.workers, "workers", 8, "the worker's TRASLOCO_WORKERS and TRASLOCO_PER_TENANT_LIMIT; also how many doveadm and mbsync processes the many-small-mailboxes scenario runs at once")
	flag.IntVar(&o.perHost, "per-host", 8, "the worker's TRASLOCO_PER_HOST_LIMIT (runs and validation)")
	flag.StringVar(&o.workerProfile, "worker-cpuprofile", "", "save the worker's CPU profile of its first run of the several-mailboxes scenario here (TRASLOCO_PPROF on its metrics listener)")
	flag.StringVar(&o.validateProfile, "validate-cpuprofile", "", "save the worker's CPU profile of the validation benchmark here (TRASLOCO_PPROF on its metrics listener)")
	flag.IntVar(&o.validateLines, "validate-lines", 1000, "lines of the validation benchmark (0: none)")
	flag.BoolVar(&o.roundTrips, "round-trips", true, "after the timed runs, one more untimed worker run of the one-mailbox and several-mailboxes scenarios through proxies that count the round trips to each server")
	flag.DurationVar(&o.loginDelay, "login-delay", 50*time.Millisecond, "how long the validation benchmark's old server holds each connection before it answers")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "after the runs, copy the one-mailbox corpus once more in-process with the transfer engine and write its CPU profile here")
	flag.StringVar(&o.srcTLS, "src-tls", srcStartTLS, "how every tool talks to the old server: starttls (the worker's way: its preset, Standard-no-SSL, takes the STARTTLS the test Dovecot offers) or none (plain IMAP; the worker still takes STARTTLS, having no setting for plain text to a server that offers it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (Dovecot logs, tool logs)")
	flag.StringVar(&o.parent, "dir", "", "where the temporary directory goes (the servers' mail, PostgreSQL's data, the tools' logs; empty: $TMPDIR or /tmp); /dev/shm keeps the servers' storage off the disk and its allocation delays after mass deletions, at the price of the full run's copies in memory")
	flag.StringVar(&o.traslocoProcs, "trasloco-procs", "one", "several mailboxes at once: copied by one process with the transfer engine, as `trasloco worker` runs them (one), or by one `trasloco copy` process each (each)")
	flag.Int64Var(&o.inFlight, "inflight", 0, "in-flight bytes per copy of the one-process trasloco (0: the engine's default)")
	child := flag.Bool("engine-child", false, "internal: be the process that copies several mailboxes with the transfer engine")
	flag.Parse()
	if *child {
		if err := engineChild(); err != nil {
			fmt.Fprintln(os.Stderr, "trasloco-bench -engine-child:", err)
			os.Exit(1)
		}
		return
	}
	if o.srcTLS != srcStartTLS && o.srcTLS != srcPlain {
		fmt.Fprintln(os.Stderr, "trasloco-bench: -src-tls is starttls or none")
		os.Exit(2)
	}
	if o.traslocoProcs != "one" && o.traslocoProcs != "each" {
		fmt.Fprintln(os.Stderr, "trasloco-bench: -trasloco-procs is one or each")
		os.Exit(2)
	}
	if o.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["messages"] {
			o.messages = 400
		}
		if !set["mailboxes"] {
			o.mailboxes = 3
		}
		if !set["per-mailbox"] {
			o.perMailbox = 150
		}
		if !set["runs"] {
			o.runs = 1
		}
		if !set["small-mailboxes"] {
			o.smallMailboxes = 20
		}
		if !set["validate-lines"] {
			o.validateLines = 100
		}
	}
	if o.messages < 1 || o.mailboxes < 0 || o.perMailbox < 1 || o.runs < 1 || o.smallMailboxes < 0 || o.smallPer < 1 ||
		o.workers < 1 || o.perHost < 1 || o.validateLines < 0 {
		fmt.Fprintln(os.Stderr, "trasloco-bench: -messages, -per-mailbox, -small-per-mailbox, -runs, -workers and -per-host must be positive")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "trasloco-bench:", err)
		os.Exit(1)
	}
}

// logf prints progress on standard error.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// scenario is one benchmark situation and its results.
type scenario struct {
	Name    string
	Key     string // "one", "multi", "small": what the targets refer to
	Sources []sourceMailbox
	Results map[string][]runResult // tool → one result per run
	// Tools, when not empty, are the only tools run in this scenario.
	Tools []string
	// Parallel caps the processes run at once by the tools that run one
	// process per mailbox (0: every mailbox at once).
	Parallel int
}

// sourceMailbox is a seeded source user and its fingerprints.
type sourceMailbox struct {
	User, Pass string
	Spec       corpusSpec
	Stats      corpusStats
	Prints     mailboxPrints
}

// runResult is one run of one tool in one scenario.
type runResult struct {
	Wall      time.Duration
	Procs     int           // processes that did the copying
	Messages  int           // messages that had to be copied
	Bytes     int64         // their size
	MaxRSSKiB int64         // the largest single process
	SumRSSKiB int64         // the sum over the processes run at once
	CPUBusy   float64       // share of the machine's CPU time busy during the run
	ToolCPU   time.Duration // CPU time of the copying processes themselves
	SrcCPU    time.Duration // CPU time of the source Dovecot meanwhile
	DstCPU    time.Duration // CPU time of the destination Dovecot meanwhile
	Diff      diff
	Errs      []error
	Notes     string // where the time went (the worker's runs)
}

func (r runResult) rate() float64   { return float64(r.Messages) / r.Wall.Seconds() }
func (r runResult) mbRate() float64 { return float64(r.Bytes) / (1 << 20) / r.Wall.Seconds() }

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tools, err := pickTools(o.tools)
	if err != nil {
		return err
	}
	if o.parent != "" {
		// Through TMPDIR, so that testenv makes the path to it traversable
		// for Dovecot's unprivileged users, as it does under /tmp.
		if err := os.Setenv("TMPDIR", o.parent); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "trasloco-bench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	if o.keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	env := &benchEnv{DstConns: o.dstConns, Trasloco: filepath.Join(dir, "trasloco"), OneProcess: o.traslocoProcs == "one", InFlight: o.inFlight,
		SrcStartTLS: o.srcTLS == srcStartTLS}
	logf("building trasloco")
	build := exec.CommandContext(ctx, "go", "build", "-o", env.Trasloco, "github.com/trasloco/trasloco/cmd/trasloco")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build trasloco: %w", err)
	}
	if env.MbsyncBin, err = findBinary("mbsync"); err != nil {
		return err
	}
	if env.DoveadmBin, err = findBinary("doveadm"); err != nil {
		return err
	}

	logf("starting the source and destination Dovecot servers in %s", dir)
	var wg sync.WaitGroup
	var srcErr, dstErr error
	wg.Go(func() { env.Src, srcErr = testenv.StartDovecot(testenv.RoleSource, filepath.Join(dir, "source")) })
	wg.Go(func() {
		env.Dst, dstErr = testenv.StartDovecot(testenv.RoleDestination, filepath.Join(dir, "destination"))
	})
	wg.Wait()
	var stopOnce sync.Once
	stopServers := func() {
		stopOnce.Do(func() {
			for _, d := range []*testenv.Dovecot{env.Src, env.Dst} {
				if d != nil {
					if err := d.Stop(); err != nil {
						logf("%v", err)
					}
				}
			}
		})
	}
	defer stopServers()
	if err := errors.Join(srcErr, dstErr); err != nil {
		return err
	}
	// Ctrl-C: the tools die with ctx; stopping the servers ends any IMAP
	// command the benchmark itself is waiting for.
	go func() {
		<-ctx.Done()
		stopServers()
	}()

	var pe *productEnv
	if o.validateLines > 0 || slices.ContainsFunc(tools, func(t tool) bool { return t.Name() == "worker" }) {
		logf("starting PostgreSQL for the worker")
		if pe, err = startProduct(ctx, o.workers, o.perHost); err != nil {
			return err
		}
		defer pe.stop()
	}

	// The corpora.
	one := &scenario{Name: "one mailbox", Key: "one", Results: map[string][]runResult{}}
	multi := &scenario{Name: fmt.Sprintf("%d mailboxes at once", o.mailboxes), Key: "multi", Results: map[string][]runResult{}}
	small := &scenario{Name: fmt.Sprintf("%d small mailboxes", o.smallMailboxes), Key: "small", Results: map[string][]runResult{},
		Tools: []string{"worker", "doveadm"}, Parallel: o.workers}
	if err := addSource(env, one, "one", corpusSpec{Seed: o.seed, Messages: o.messages}); err != nil {
		return err
	}
	for i := range o.mailboxes {
		if err := addSource(env, multi, fmt.Sprintf("multi%d", i+1), corpusSpec{Seed: o.seed*1000 + int64(i) + 1, Messages: o.perMailbox}); err != nil {
			return err
		}
	}
	// Many small mailboxes: seeded four at a time, kept in order.
	small.Sources = make([]sourceMailbox, o.smallMailboxes)
	seedErrs := make([]error, o.smallMailboxes)
	var seedWG sync.WaitGroup
	seedSlots := make(chan struct{}, 4)
	for i := range o.smallMailboxes {
		seedWG.Go(func() {
			seedSlots <- struct{}{}
			defer func() { <-seedSlots }()
			one := &scenario{}
			seedErrs[i] = addSource(env, one, fmt.Sprintf("small%d", i+1), corpusSpec{Seed: o.seed*100000 + int64(i) + 1, Messages: o.smallPer})
			if seedErrs[i] == nil {
				small.Sources[i] = one.Sources[0]
			}
		})
	}
	seedWG.Wait()
	if err := errors.Join(seedErrs...); err != nil {
		return err
	}
	scenarios := []*scenario{one}
	if o.mailboxes > 0 {
		scenarios = append(scenarios, multi)
	}
	if o.smallMailboxes > 0 {
		scenarios = append(scenarios, small)
	}

	// The runs: each tool in turn within a run, so that the tools share
	// whatever the machine does meanwhile.
	seq := 0
	for _, sc := range scenarios {
		for r := 1; r <= o.runs; r++ {
			for _, t := range tools {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if len(sc.Tools) > 0 && !slices.Contains(sc.Tools, t.Name()) {
					continue
				}
				seq++
				var res runResult
				var err error
				switch t.(type) {
				case workerTool:
					profile := ""
					if sc == multi && r == 1 {
						profile = o.workerProfile
					}
					res, err = runWorkerOnce(ctx, env, pe, dir, sc, seq, profile, false)
				case srcReadTool:
					res, err = readOnly(ctx, env, sc)
				case dstWriteTool:
					res, err = writeOnly(ctx, env, sc, seq)
				default:
					res, err = runOnce(ctx, env, dir, sc, t, seq)
				}
				if err != nil {
					return fmt.Errorf("%s, run %d, %s: %w", sc.Name, r, t.Name(), err)
				}
				sc.Results[t.Name()] = append(sc.Results[t.Name()], res)
				if isLimit(t.Name()) {
					logf("%s, run %d, %s: %.0f messages/s, %.1f MB/s, %s, CPUs %.0f%% busy (source Dovecot %.1fs, destination Dovecot %.1fs)",
						sc.Name, r, t.Name(), res.rate(), res.mbRate(), res.Wall.Round(time.Millisecond), 100*res.CPUBusy, res.SrcCPU.Seconds(), res.DstCPU.Seconds())
					continue
				}
				logf("%s, run %d, %s: %.0f messages/s, %.1f MB/s, %s, CPUs %.0f%% busy (tool %.1fs, source Dovecot %.1fs, destination Dovecot %.1fs), peak RSS %s (sum %s), %s%s",
					sc.Name, r, t.Name(), res.rate(), res.mbRate(), res.Wall.Round(time.Millisecond), 100*res.CPUBusy, res.ToolCPU.Seconds(), res.SrcCPU.Seconds(), res.DstCPU.Seconds(),
					kib(res.MaxRSSKiB), kib(res.SumRSSKiB), res.Diff, errSummary(res.Errs))
				if res.Notes != "" {
					logf("%s, run %d, %s: %s", sc.Name, r, t.Name(), res.Notes)
				}
			}
		}
	}

	var roundTrips []string
	if o.roundTrips && slices.ContainsFunc(tools, func(t tool) bool { return t.Name() == "worker" }) {
		for _, sc := range scenarios {
			if sc == small {
				continue
			}
			seq++
			res, err := runWorkerOnce(ctx, env, pe, dir, sc, seq, "", true)
			if err != nil {
				return fmt.Errorf("%s, counting round trips: %w", sc.Name, err)
			}
			if !res.Diff.exact() || len(res.Errs) > 0 {
				return fmt.Errorf("%s, counting round trips: the copy was not exact or failed: %s%s", sc.Name, res.Diff, errSummary(res.Errs))
			}
			logf("%s, worker: %s", sc.Name, res.Notes)
			roundTrips = append(roundTrips, fmt.Sprintf("- %s: %s\n", sc.Name, res.Notes))
		}
	}

	var vr *validationResult
	if o.validateLines > 0 {
		v, err := validateScaling(ctx, env, pe, dir, o.validateLines, o.loginDelay, o.validateProfile)
		if err != nil {
			return fmt.Errorf("validation benchmark: %w", err)
		}
		logf("%s", v)
		vr = &v
	}

	report := markdown(o, scenarios, tools, vr, roundTrips)
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.out, err)
		}
	}
	if o.cpuProfile != "" {
		if err := profileEngine(ctx, env, one.Sources[0], o.cpuProfile); err != nil {
			return err
		}
	}
	for _, sc := range scenarios {
		for _, name := range []string{"trasloco", "worker"} {
			for _, res := range sc.Results[name] {
				if !res.Diff.exact() || len(res.Errs) > 0 {
					return fmt.Errorf("%s's copy was not exact or failed: see above", name)
				}
			}
		}
	}
	return nil
}

// pickTools parses -tools.
func pickTools(list string) ([]tool, error) {
	all := []tool{traslocoTool{}, workerTool{}, mbsyncTool{}, doveadmTool{}, srcReadTool{}, dstWriteTool{}}
	var out []tool
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(t tool) bool { return t.Name() == name })
		if i < 0 {
			return nil, fmt.Errorf("-tools: unknown tool %q (trasloco, worker, mbsync, doveadm, src-read, dst-write)", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// addSource creates a source user, seeds its corpus and fingerprints it.
func addSource(env *benchEnv, sc *scenario, name string, spec corpusSpec) error {
	m := sourceMailbox{User: name + "@src.test", Pass: randomHex(8), Spec: spec, Stats: spec.stats()}
	if err := env.Src.AddUser(m.User, m.Pass); err != nil {
		return err
	}
	start := time.Now()
	if err := spec.seed(env.Src, m.User, m.Pass, 4); err != nil {
		return err
	}
	prints, err := sourcePrints(env.Src, m.User, m.Pass)
	if err != nil {
		return err
	}
	m.Prints = prints
	logf("seeded %s: %d messages, %.1f MB (%d of 1–5 MB), %d messages / %.1f MB in folders to copy, in %s",
		m.User, m.Stats.Messages, mb(m.Stats.Bytes), m.Stats.Large, m.Stats.CopiedMessages, mb(m.Stats.CopiedBytes),
		time.Since(start).Round(time.Millisecond))
	sc.Sources = append(sc.Sources, m)
	return nil
}

// runOnce copies every source mailbox of sc with t at the same time into
// fresh destination users, verifies them and frees their storage.
func runOnce(ctx context.Context, env *benchEnv, dir string, sc *scenario, t tool, seq int) (runResult, error) {
	var res runResult
	var cmds []*exec.Cmd
	var checks []func([]byte) error
	var logs []string
	var jobs []copyJob
	for i, src := range sc.Sources {
		job := copyJob{SrcUser: src.User, SrcPass: src.Pass,
			DstUser: fmt.Sprintf("r%d-%s-%d@dst.test", seq, t.Name(), i+1),
			Dir:     filepath.Join(dir, "runs", fmt.Sprintf("%03d-%s-%d", seq, t.Name(), i+1))}
		if err := os.MkdirAll(job.Dir, 0o700); err != nil {
			return res, fmt.Errorf("run directory: %w", err)
		}
		if err := env.Dst.AddUser(job.DstUser, randomHex(8)); err != nil {
			return res, err
		}
		cmd, err := t.Command(ctx, env, job)
		if err != nil {
			return res, err
		}
		cmds = append(cmds, cmd)
		checks = append(checks, func(out []byte) error { return t.Check(out, job) })
		logs = append(logs, filepath.Join(job.Dir, t.Name()+".log"))
		jobs = append(jobs, job)
		res.Messages += src.Stats.CopiedMessages
		res.Bytes += src.Stats.CopiedBytes
	}
	if _, ok := t.(traslocoTool); ok && env.OneProcess && len(jobs) > 1 {
		cmd, err := traslocoTool{}.batchCommand(ctx, env, sc.Sources, jobs)
		if err != nil {
			return res, err
		}
		cmds = []*exec.Cmd{cmd}
		checks = []func([]byte) error{checkBatch}
		logs = []string{filepath.Join(filepath.Dir(jobs[0].Dir), fmt.Sprintf("%03d-trasloco-engine.log", seq))}
	}
	res.Procs = len(cmds)
	// The imap processes of the previous run's verification end shortly
	// after it: let Dovecot reap them before counting its CPU time.
	time.Sleep(300 * time.Millisecond)
	src0, dst0 := serverCPU(env.Src.ConfigPath()), serverCPU(env.Dst.ConfigPath())
	wall, busy, stats := runProcs(cmds, checks, logs, sc.Parallel)
	time.Sleep(300 * time.Millisecond) // let Dovecot reap its imap processes
	res.SrcCPU, res.DstCPU = serverCPU(env.Src.ConfigPath())-src0, serverCPU(env.Dst.ConfigPath())-dst0
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Wall, res.CPUBusy = wall, busy
	for _, s := range stats {
		res.MaxRSSKiB = max(res.MaxRSSKiB, s.MaxRSSKiB)
		res.SumRSSKiB += s.MaxRSSKiB
		res.ToolCPU += s.CPU
		if s.Err != nil {
			res.Errs = append(res.Errs, s.Err)
		}
	}

	var err error
	res.Diff, err = verifyAll(env, sc, jobs)
	return res, err
}

// verifyAll checks the copies of sc's mailboxes (jobs[i] is the copy of
// source i), two mailboxes at a time, and sums their differences.
func verifyAll(env *benchEnv, sc *scenario, jobs []copyJob) (diff, error) {
	// Verify, two mailboxes at a time. The copies stay on disk until the
	// benchmark ends: on ext4 without a journal (this kind of virtual
	// machine) inodes deleted in the last minute are skipped, one by one,
	// by every file creation, so deleting a run's thousands of files here
	// made the next tool's destination pay for it (measured: most of the
	// destination's CPU time went to ext4's recently_deleted).
	diffs := make([]diff, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			diffs[i], errs[i] = verify(env.Dst, job.DstUser, sc.Sources[i].Prints)
		})
	}
	wg.Wait()
	var sum diff
	if err := errors.Join(errs...); err != nil {
		return sum, fmt.Errorf("verify: %w", err)
	}
	for _, d := range diffs {
		sum = sum.add(d)
	}
	return sum, nil
}

// profileEngine copies src once more in-process, with the transfer engine
// as `trasloco copy` configures it, under the CPU profiler.
func profileEngine(ctx context.Context, env *benchEnv, src sourceMailbox, path string) error {
	user := "profile@dst.test"
	if err := env.Dst.AddUser(user, randomHex(8)); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer f.Close()
	job := transfer.Job{Preset: transfer.PresetStandardNoSSL, DestConns: env.DstConns,
		Source: transfer.Endpoint{Host: env.Src.PlainAddr(), User: src.User, Password: src.Pass, TLS: transfer.TLSNone},
		Dest: transfer.Endpoint{Host: env.Dst.PlainAddr(), User: user, AuthUser: env.Dst.MasterUser(),
			Password: env.Dst.MasterPassword(), TLS: transfer.TLSNone}}
	if env.SrcStartTLS {
		job.Source.TLS, job.Source.RootCAs = transfer.TLSStartTLS, env.Src.CAPool()
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	start := time.Now()
	res, err := transfer.Run(ctx, job)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("profiled copy: %w", err)
	}
	logf("profiled copy: %d messages in %s; CPU profile in %s (go tool pprof -top %s)",
		res.Copied, time.Since(start).Round(time.Millisecond), path, path)
	return nil
}

// markdown renders the results table.
func markdown(o options, scenarios []*scenario, tools []tool, vr *validationResult, roundTrips []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## trasloco-bench\n\n")
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "%s, %d runs per tool (medians), seed %d, trasloco --dst-conns %d, loopback. ", host, o.runs, o.seed, o.dstConns)
	b.WriteString(srcTLSNote(o.srcTLS == srcStartTLS) + " ")
	if o.traslocoProcs == "one" {
		b.WriteString("Several mailboxes at once: trasloco copies them all in one process, as `trasloco worker` does (the transfer engine, configured as `trasloco copy` configures it); the other tools run one process per mailbox. ")
	}
	fmt.Fprintf(&b, "Messages/s and MB/s count the messages of the folders to copy (Trash and Junk excluded for every tool) over the wall time of the copying process(es). ")
	fmt.Fprintf(&b, "worker: the scenario's mailboxes as one migration through a fresh `trasloco worker` process with PostgreSQL (TRASLOCO_WORKERS %d, TRASLOCO_PER_HOST_LIMIT %d, preset standard-nossl), timed from the run's start to its end as the database records them (runs.started_at, runs.ended_at). ", o.workers, o.perHost)
	fmt.Fprintf(&b, "src-read and dst-write are not copies but the two servers' one-sided rates on the same corpus, every mailbox at once: src-read reads no less efficiently than the copy, on %d connection(s) per mailbox (the copy reads on one), each of which EXAMINEs a folder and fetches all its bodies (UID FETCH 1:* BODY.PEEK[], discarded; the copy fetches them in UID chunks after a metadata FETCH); dst-write appends every message, built in memory before the clock starts, with the copy's own pipelined appender (transfer.WriteOnly: LITERAL+, MULTIAPPEND groups of up to 50 messages / 2 MiB, 2 commands in flight, flags and internal dates), on the %d appender(s) per mailbox a copy with --dst-conns %d opens, folder after folder, every message ready at once. ", o.dstConns, writePipes(o.dstConns), o.dstConns)
	fmt.Fprintf(&b, "The %d small mailboxes are copied by the worker and by doveadm only, doveadm %d processes at a time.\n\n", o.smallMailboxes, o.workers)
	for _, sc := range scenarios {
		var msgs int
		var bytes int64
		for _, s := range sc.Sources {
			msgs += s.Stats.CopiedMessages
			bytes += s.Stats.CopiedBytes
		}
		fmt.Fprintf(&b, "- %s: %d source mailbox(es), %d messages / %.1f MB to copy\n", sc.Name, len(sc.Sources), msgs, mb(bytes))
	}
	b.WriteString("\n| scenario | tool | messages/s | MB/s | peak RSS | exact? |\n|---|---|---:|---:|---:|---|\n")
	for _, sc := range scenarios {
		for _, t := range tools {
			rs := sc.Results[t.Name()]
			if len(rs) == 0 {
				continue
			}
			var maxRSS, sumRSS int64
			procs := 0
			verdict := "exact"
			if isLimit(t.Name()) {
				verdict = "(no copy)"
			}
			var errs []error
			for _, r := range rs {
				maxRSS = max(maxRSS, r.MaxRSSKiB)
				procs = max(procs, r.Procs)
				sumRSS = max(sumRSS, r.SumRSSKiB)
				if !isLimit(t.Name()) && !r.Diff.exact() && verdict == "exact" {
					verdict = r.Diff.String()
					if len(rs) > 1 {
						verdict += fmt.Sprintf(" (%d messages)", r.Diff.Compared)
					}
				}
				errs = append(errs, r.Errs...)
			}
			if len(errs) > 0 {
				verdict += fmt.Sprintf("; %d process error(s)", len(errs))
			}
			rss := kib(maxRSS)
			switch {
			case isLimit(t.Name()):
				rss = "—"
			case len(sc.Sources) > 1 && procs == 1:
				rss = kib(maxRSS) + ", one process"
			case len(sc.Sources) > 1:
				rss = kib(maxRSS) + " largest, " + kib(sumRSS) + " sum"
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.1f | %s | %s |\n", sc.Name, t.Name(),
				median(rs, runResult.rate), median(rs, runResult.mbRate), rss, verdict)
		}
	}
	b.WriteString("\n")
	for _, sc := range scenarios {
		for _, name := range []string{"trasloco", "worker"} {
			tr := sc.Results[name]
			for _, other := range []string{"doveadm", "mbsync"} {
				os := sc.Results[other]
				if len(tr) == 0 || len(os) == 0 {
					continue
				}
				ratio := median(tr, runResult.rate) / median(os, runResult.rate)
				fmt.Fprintf(&b, "- %s: %s / %s = %.2f× (messages/s)\n", sc.Name, name, other, ratio)
			}
			if lim := limitRate(sc); len(tr) > 0 && lim > 0 {
				fmt.Fprintf(&b, "- %s: %s / the slower of src-read and dst-write = %.0f%% (messages/s)\n", sc.Name, name, 100*median(tr, runResult.rate)/lim)
			}
		}
	}
	b.WriteString(targets(o, scenarios))
	notes := false
	for _, sc := range scenarios {
		for i, r := range sc.Results["worker"] {
			if r.Notes == "" {
				continue
			}
			if !notes {
				b.WriteString("\nWhere the worker's time went, from what the database recorded:\n\n")
				notes = true
			}
			fmt.Fprintf(&b, "- %s, run %d: %s\n", sc.Name, i+1, r.Notes)
		}
	}
	if len(roundTrips) > 0 {
		b.WriteString("\nRound trips of the worker, one more run per scenario through counting proxies:\n\n")
		for _, l := range roundTrips {
			b.WriteString(l)
		}
	}
	if vr != nil {
		fmt.Fprintf(&b, "\n%s.\n", vr)
	}
	b.WriteString("\nCPU time per run (medians): the copying process(es) + the source Dovecot + the destination Dovecot.\n\n")
	for _, sc := range scenarios {
		for _, t := range tools {
			rs := sc.Results[t.Name()]
			if len(rs) == 0 {
				continue
			}
			cpu := func(f func(runResult) time.Duration) float64 {
				return median(rs, func(r runResult) float64 { return f(r).Seconds() })
			}
			fmt.Fprintf(&b, "- %s, %s: %.1fs + %.1fs + %.1fs\n", sc.Name, t.Name(),
				cpu(func(r runResult) time.Duration { return r.ToolCPU }),
				cpu(func(r runResult) time.Duration { return r.SrcCPU }),
				cpu(func(r runResult) time.Duration { return r.DstCPU }))
		}
	}
	b.WriteString("\nPeak RSS is the copying process's VmHWM, sampled from /proc every 10 ms (for doveadm the doveadm process, which runs imapc and writes the destination's storage itself; for the worker the whole `trasloco worker` process). The worker's CPU time is read from /proc/PID/stat just before run 1 is scheduled and just after it ended. ")
	b.WriteString("Exactness: every message of every folder to copy, matched by Message-ID, compared by body SHA-256, flags and keywords (not \\Recent) and INTERNALDATE; messages in other destination folders count as excluded copied.\n")
	for _, sc := range scenarios {
		for _, t := range tools {
			for i, r := range sc.Results[t.Name()] {
				for _, err := range r.Errs {
					fmt.Fprintf(&b, "\n- %s, %s, run %d: %v", sc.Name, t.Name(), i+1, err)
				}
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

// limitRate is the slower of sc's two one-sided rates (0 when either is
// missing).
func limitRate(sc *scenario) float64 {
	r, w := sc.Results["src-read"], sc.Results["dst-write"]
	if len(r) == 0 || len(w) == 0 {
		return 0
	}
	return min(median(r, runResult.rate), median(w, runResult.rate))
}

// targets prints the measured ratios beside issue 13's targets: numbers
// to read, not assertions.
func targets(o options, scenarios []*scenario) string {
	by := map[string]*scenario{}
	for _, sc := range scenarios {
		by[sc.Key] = sc
	}
	var b strings.Builder
	line := func(what string, got float64, ok bool, target string) {
		if ok {
			fmt.Fprintf(&b, "| %s | %.2f | %s |\n", what, got, target)
		} else {
			fmt.Fprintf(&b, "| %s | not measured | %s |\n", what, target)
		}
	}
	ratio := func(key, a, c string) (float64, bool) {
		sc := by[key]
		if sc == nil || len(sc.Results[a]) == 0 || len(sc.Results[c]) == 0 {
			return 0, false
		}
		return median(sc.Results[a], runResult.rate) / median(sc.Results[c], runResult.rate), true
	}
	b.WriteString("\nTargets of issue 13 (ratios of messages/s, medians of this run):\n\n| measure | measured | target |\n|---|---:|---|\n")
	n := o.mailboxes
	v, ok := ratio("multi", "worker", "doveadm")
	line(fmt.Sprintf("%d mailboxes through the worker / doveadm", n), v, ok, "≥ 1.0×")
	v, ok = ratio("multi", "worker", "mbsync")
	line(fmt.Sprintf("%d mailboxes through the worker / mbsync", n), v, ok, "≥ 1.3×")
	if sc := by["multi"]; sc != nil && len(sc.Results["worker"]) > 0 {
		var peak int64
		for _, r := range sc.Results["worker"] {
			peak = max(peak, r.MaxRSSKiB)
		}
		line(fmt.Sprintf("%d mailboxes: the worker's peak RSS, MB", n), float64(peak)/1024, true, "< 150 MB")
	} else {
		line(fmt.Sprintf("%d mailboxes: the worker's peak RSS, MB", n), 0, false, "< 150 MB")
	}
	how := "one process with the engine (-trasloco-procs each for separate `trasloco copy` processes)"
	if o.traslocoProcs == "each" {
		how = "one `trasloco copy` process each"
	}
	v, ok = ratio("multi", "trasloco", "mbsync")
	line(fmt.Sprintf("%d mailboxes, trasloco as %s / mbsync", n, how), v, ok, "≥ 1.0× (separate processes)")
	v, ok = ratio("one", "trasloco", "doveadm")
	line("one mailbox, trasloco copy / doveadm", v, ok, "≥ 1.5×")
	v, ok = ratio("small", "worker", "doveadm")
	line(fmt.Sprintf("%d small mailboxes through the worker / doveadm", o.smallMailboxes), v, ok, "≥ 0.8×")
	for _, key := range []string{"multi", "one"} {
		sc := by[key]
		if sc == nil {
			continue
		}
		lim := limitRate(sc)
		w := sc.Results["worker"]
		line(sc.Name+": the worker / the slower one-sided rate", safeDiv(median(w, runResult.rate), lim), lim > 0 && len(w) > 0, "≥ 0.70")
	}
	return b.String()
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median of f over rs.
func median(rs []runResult, f func(runResult) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func kib(k int64) string { return fmt.Sprintf("%.0f MB", float64(k)/1024) }

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func errSummary(errs []error) string {
	if len(errs) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d process error(s), first: %v", len(errs), errs[0])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = io.ReadFull(rand.Reader, b)
	return hex.EncodeToString(b)
}
