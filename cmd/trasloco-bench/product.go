package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// The product path: the mailboxes of a scenario copied as ONE migration by
// a real `trasloco worker` process with PostgreSQL, as production runs
// them. The benchmark plays the panel: it creates the tenant, the migration
// and its lines (passwords sealed as the panel seals them), records every
// line as checked (the test login is measured on its own, see
// validate.go) and schedules run 1 for now with jobs.Schedule, the
// function the validation calls. The worker, a fresh process per run, does
// the rest: River picks the run up, inserts one job per mailbox, copies,
// reports and ends the run. The time is the run's, as the database records
// it: runs.ended_at − runs.started_at. The worker's peak RSS is its VmHWM;
// its CPU time is read from /proc/PID/stat just before the run is
// scheduled and just after it ended (start-up and shutdown left out).

// productEnv is the PostgreSQL side of the product path.
type productEnv struct {
	pg        *testenv.Postgres
	pool      *pgxpool.Pool
	dbURL     string
	key       []byte
	box       *secret.Box
	ins       *river.Client[pgx.Tx] // insert-only
	tenant    store.Tenant
	workers   int // TRASLOCO_WORKERS and TRASLOCO_PER_TENANT_LIMIT
	perHost   int // TRASLOCO_PER_HOST_LIMIT
	migration int // migrations created so far, for their names
}

// startProduct starts PostgreSQL, creates the schema and the tenant whose
// domain is the destination's (dst.test).
func startProduct(ctx context.Context, workers, perHost int) (*productEnv, error) {
	pg, err := testenv.StartPostgres(ctx)
	if err != nil {
		return nil, err
	}
	pe := &productEnv{pg: pg, workers: workers, perHost: perHost}
	fail := func(err error) (*productEnv, error) { pe.stop(); return nil, err }
	admin, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		return fail(err)
	}
	dbName := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	_, err = admin.Exec(ctx, "CREATE DATABASE "+dbName)
	_ = admin.Close(ctx)
	if err != nil {
		return fail(err)
	}
	pe.dbURL = pg.DatabaseURL(dbName)
	if pe.pool, err = database.Open(ctx, pe.dbURL); err != nil {
		return fail(err)
	}
	if err := database.Migrate(ctx, pe.pool); err != nil {
		return fail(err)
	}
	// The schema's writes are counted when the sessions that made them
	// flush their statistics: end them now, not during the first run.
	pe.pool.Reset()
	pe.waitWorkerSessions(ctx)
	pe.key = make([]byte, secret.KeySize)
	_, _ = rand.Read(pe.key)
	if pe.box, err = secret.NewBox(pe.key); err != nil {
		return fail(err)
	}
	if pe.ins, err = river.NewClient(riverpgxv5.New(pe.pool), &river.Config{}); err != nil {
		return fail(err)
	}
	pe.tenant, err = store.CreateTenant(ctx, pe.pool, store.NewTenant{Name: "Bench", NotifyEmail: "it@dst.test", Domains: []string{"dst.test"}})
	if err != nil {
		return fail(err)
	}
	return pe, nil
}

func (pe *productEnv) stop() {
	if pe.pool != nil {
		pe.pool.Close()
	}
	if err := pe.pg.Stop(); err != nil {
		logf("%v", err)
	}
}

// workerTool is the product path in the tools list; runWorkerOnce runs it.
type workerTool struct{}

func (workerTool) Name() string { return "worker" }

func (workerTool) Command(context.Context, *benchEnv, copyJob) (*exec.Cmd, error) {
	return nil, errors.New("the worker is run by runWorkerOnce")
}

func (workerTool) Check([]byte, copyJob) error { return nil }

// workerProc is a running `trasloco worker`.
type workerProc struct {
	cmd     *exec.Cmd
	metrics string // its private listener, host:port
	log     string
	peak    int64 // VmHWM, KiB, sampled
	stopHWM func()
	exited  chan struct{} // closed when the process has exited
	err     error         // its exit status, once exited is closed
	once    sync.Once
}

// startWorker starts a worker process against pe's database and env's
// destination and waits until its metrics listener answers (River is
// started by then). pprof adds TRASLOCO_PPROF=1.
func startWorker(ctx context.Context, env *benchEnv, pe *productEnv, logPath string, perHost int, pprof bool) (*workerProc, error) {
	return startWorkerTo(ctx, env, pe, env.Dst.PlainAddr(), logPath, perHost, pprof)
}

// startWorkerTo is startWorker with the destination at dstAddr.
func startWorkerTo(ctx context.Context, env *benchEnv, pe *productEnv, dstAddr, logPath string, perHost int, pprof bool) (*workerProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	metrics := ln.Addr().String()
	ln.Close()
	smtp, err := net.Listen("tcp", "127.0.0.1:0") // a closed port: the completion email is not part of a run
	if err != nil {
		return nil, err
	}
	smtpAddr := smtp.Addr().String()
	smtp.Close()
	vars := map[string]string{
		config.EnvDatabaseURL:        pe.dbURL,
		config.EnvSecretKey:          hex.EncodeToString(pe.key),
		config.EnvDestHost:           dstAddr,
		config.EnvDestTLS:            string(config.TLSNone),
		config.EnvDestMasterUser:     env.Dst.MasterUser(),
		config.EnvDestMasterPassword: env.Dst.MasterPassword(),
		config.EnvSMTPURL:            "smtp://" + smtpAddr,
		config.EnvSMTPFrom:           "trasloco@dst.test",
		config.EnvAllowRemoteNets:    "127.0.0.0/8",
		config.EnvAllowRemotePorts:   "any",
		config.EnvWorkers:            strconv.Itoa(pe.workers),
		config.EnvPerTenantLimit:     strconv.Itoa(pe.workers),
		config.EnvPerHostLimit:       strconv.Itoa(perHost),
		config.EnvMetricsListen:      metrics,
	}
	if pprof {
		vars[config.EnvPprof] = "true"
	}
	cmd := exec.CommandContext(ctx, env.Trasloco, "worker")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "TRASLOCO_") && k != config.EnvDatabaseURL {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start trasloco worker: %w", err)
	}
	w := &workerProc{cmd: cmd, metrics: metrics, log: logPath, exited: make(chan struct{})}
	w.stopHWM = sampleHWM(cmd.Process.Pid, &w.peak)
	go func() { w.err = cmd.Wait(); f.Close(); close(w.exited) }()
	for deadline := time.Now().Add(60 * time.Second); ; {
		res, err := http.Get("http://" + metrics + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return w, nil
			}
		}
		select {
		case <-w.exited:
			w.stop()
			return nil, fmt.Errorf("trasloco worker exited at start: %v (log %s: %s)", w.err, logPath, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.stop()
			return nil, fmt.Errorf("trasloco worker did not start (log %s: %s)", logPath, tail(logPath))
		}
	}
}

// cpu is the worker's CPU time so far (user + system), from /proc.
func (w *workerProc) cpu() time.Duration { return procCPU(w.cmd.Process.Pid) }

// stop ends the worker with SIGTERM (it stops River) and waits for it;
// calling it again does nothing.
func (w *workerProc) stop() {
	w.once.Do(func() {
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.exited:
		case <-time.After(30 * time.Second):
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		w.stopHWM()
	})
}

// procCPU returns the user + system CPU time of process pid so far (0
// where /proc has none).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// newMigration stores one migration of the tenant with a line per job
// (remote host srcAddr), as the panel stores an uploaded CSV, and returns
// it with its lines. firstRun is its first run's time.
func (pe *productEnv) newMigration(ctx context.Context, srcAddr string, jobs_ []copyJob, firstRun time.Time) (store.Migration, []store.Line, error) {
	pe.migration++
	nm := store.NewMigration{Name: fmt.Sprintf("bench %d", pe.migration), Preset: string(transfer.PresetStandardNoSSL),
		InsecureTLS: true, FirstRunAt: firstRun}
	for i, j := range jobs_ {
		enc, err := pe.box.Seal([]byte(j.SrcPass), jobs.LineSecretAD(pe.tenant.ID, j.DstUser, srcAddr, j.SrcUser))
		if err != nil {
			return store.Migration{}, nil, err
		}
		nm.Lines = append(nm.Lines, store.NewLine{LineNo: i + 1, LocalUser: j.DstUser, RemoteHost: srcAddr, RemoteUser: j.SrcUser, RemotePasswordEnc: enc})
	}
	m, err := store.CreateMigration(ctx, pe.pool, pe.tenant.ID, nm)
	if err != nil {
		return m, nil, err
	}
	lines, err := store.ListLines(ctx, pe.pool, pe.tenant.ID, m.ID)
	return m, lines, err
}

// scheduleNow marks every line of m checked (pinned to srcAddr, as the
// validation pins what it reached, with the preview its test login would
// have measured: previews by line number) and schedules run 1 for now,
// with the validation's own jobs.Schedule. It returns run 1.
func (pe *productEnv) scheduleNow(ctx context.Context, m store.Migration, lines []store.Line, srcAddr string, previews map[int][]byte) (store.Run, error) {
	for _, l := range lines {
		if err := store.SetLineResult(ctx, pe.pool, pe.tenant.ID, l.ID, store.LineResult{Status: store.LineOK, PinnedAddr: srcAddr, Preview: previews[l.LineNo]}); err != nil {
			return store.Run{}, err
		}
	}
	var runs []store.Run
	err := pgx.BeginFunc(ctx, pe.pool, func(tx pgx.Tx) error {
		m, err := store.LockMigration(ctx, tx, pe.tenant.ID, m.ID)
		if err != nil {
			return err
		}
		m.FirstRunAt = time.Now() // the run's time: now, as it is scheduled
		runs, err = jobs.Schedule(ctx, tx, pe.ins, m)
		return err
	})
	if err != nil {
		return store.Run{}, fmt.Errorf("schedule run 1: %w", err)
	}
	return runs[0], nil
}

// waitRun polls run until the database says it ended; it closes started
// when the run has started.
func (pe *productEnv) waitRun(ctx context.Context, w *workerProc, id int64, started chan<- struct{}) (store.Run, error) {
	defer func() {
		if started != nil {
			close(started)
		}
	}()
	for {
		r, err := store.GetRun(ctx, pe.pool, pe.tenant.ID, id)
		if err != nil {
			return r, err
		}
		if r.StartedAt != nil && started != nil {
			close(started)
			started = nil
		}
		if r.EndedAt != nil && r.StartedAt != nil {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-w.exited:
			return r, fmt.Errorf("trasloco worker exited during the run: %v (log %s: %s)", w.err, w.log, tail(w.log))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mailboxFailures describes the mailboxes of run id that did not complete.
func (pe *productEnv) mailboxFailures(ctx context.Context, id int64) error {
	rows, err := pe.pool.Query(ctx, `
		SELECT l.local_user, b.status, b.failed, COALESCE(b.error_text, '')
		FROM mailbox_runs b JOIN migration_lines l ON l.tenant_id = b.tenant_id AND l.id = b.line_id
		WHERE b.tenant_id = $1 AND b.run_id = $2 AND (b.status <> 'completed' OR b.failed > 0)
		ORDER BY l.line_no`, pe.tenant.ID, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var user, status, text string
		var failed int
		if err := rows.Scan(&user, &status, &failed, &text); err != nil {
			return err
		}
		errs = append(errs, fmt.Errorf("worker, %s: %s, %d failed: %s", user, status, failed, text))
	}
	return errors.Join(append(errs, rows.Err())...)
}

// runWorkerOnce copies every source mailbox of sc as one migration through
// a fresh worker process into fresh destination users and verifies them.
// profile, when set, is where the worker's CPU profile of the run goes.
//
// With count, the worker reaches both servers through proxies that count
// round trips (turnProxy), and the notes say how many per message: such a
// run has an extra hop each way and is not timed against the others.
func runWorkerOnce(ctx context.Context, env *benchEnv, pe *productEnv, dir string, sc *scenario, seq int, profile string, count bool) (runResult, error) {
	var res runResult
	var jobs_ []copyJob
	previews := map[int][]byte{}
	for i, src := range sc.Sources {
		// What the line's test login measures (transfer.Preview): the
		// worker takes its count as the total before the first body.
		pv, err := json.Marshal(transfer.Preview{Folders: copiedFolders(), Messages: src.Stats.CopiedMessages, Bytes: src.Stats.CopiedBytes})
		if err != nil {
			return res, err
		}
		previews[i+1] = pv
		job := copyJob{SrcUser: src.User, SrcPass: src.Pass, DstUser: fmt.Sprintf("r%d-worker-%d@dst.test", seq, i+1)}
		if err := env.Dst.AddUser(job.DstUser, randomHex(8)); err != nil {
			return res, err
		}
		jobs_ = append(jobs_, job)
		res.Messages += src.Stats.CopiedMessages
		res.Bytes += src.Stats.CopiedBytes
	}
	res.Procs = 1
	logPath := filepath.Join(dir, "runs", fmt.Sprintf("%03d-worker.log", seq))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return res, err
	}
	srcAddr, dstAddr := env.Src.PlainAddr(), env.Dst.PlainAddr()
	var srcTurns, dstTurns *turnProxy
	if count {
		var err error
		if srcTurns, err = newTurnProxy(srcAddr); err != nil {
			return res, err
		}
		defer srcTurns.Close()
		if dstTurns, err = newTurnProxy(dstAddr); err != nil {
			return res, err
		}
		defer dstTurns.Close()
		srcAddr, dstAddr = srcTurns.Addr(), dstTurns.Addr()
	}
	w, err := startWorkerTo(ctx, env, pe, dstAddr, logPath, pe.perHost, profile != "")
	if err != nil {
		return res, err
	}
	defer w.stop()
	var src0Turns, dst0Turns int64
	if count {
		src0Turns, dst0Turns = srcTurns.Turns(), dstTurns.Turns()
	}
	m, lines, err := pe.newMigration(ctx, srcAddr, jobs_, time.Now())
	if err != nil {
		return res, err
	}

	time.Sleep(300 * time.Millisecond) // let Dovecot reap the imap processes of the previous verification
	src0, dst0, cpu0 := serverCPU(env.Src.ConfigPath()), serverCPU(env.Dst.ConfigPath()), w.cpu()
	busy0, total0 := cpuTimes()
	db0 := pe.dbCounters(ctx)
	run, err := pe.scheduleNow(ctx, m, lines, srcAddr, previews)
	if err != nil {
		return res, err
	}
	var profDone chan error
	stopProf, started := make(chan struct{}), make(chan struct{})
	if profile != "" {
		profDone = make(chan error, 1)
		go func() {
			<-started // River's pickup of the run is not profiled
			profDone <- profileWorker(w.metrics, profile, stopProf)
		}()
	}
	run, err = pe.waitRun(ctx, w, run.ID, started)
	close(stopProf)
	cpu1 := w.cpu()
	busy1, total1 := cpuTimes()
	time.Sleep(300 * time.Millisecond) // let Dovecot reap its imap processes
	res.SrcCPU, res.DstCPU = serverCPU(env.Src.ConfigPath())-src0, serverCPU(env.Dst.ConfigPath())-dst0
	if err != nil {
		return res, err
	}
	if profDone != nil {
		if err := <-profDone; err != nil {
			logf("worker CPU profile: %v", err)
		}
	}
	w.stop()
	pe.waitWorkerSessions(ctx) // they flush their statistics as they end
	res.Notes = pe.timeNotes(ctx, run, db0, pe.dbCounters(ctx), res.Messages)
	if count {
		msgs := float64(max(res.Messages, 1))
		res.Notes = fmt.Sprintf("round trips per message, counted through a proxy (an untimed run): old server %.2f, ours %.2f (%d and %d in all, logins, listings and the readiness probes included); %s",
			float64(srcTurns.Turns()-src0Turns)/msgs, float64(dstTurns.Turns()-dst0Turns)/msgs, srcTurns.Turns()-src0Turns, dstTurns.Turns()-dst0Turns, res.Notes)
	}
	res.Wall = run.EndedAt.Sub(*run.StartedAt)
	res.ToolCPU = cpu1 - cpu0
	res.MaxRSSKiB, res.SumRSSKiB = w.peak, w.peak
	if total1 > total0 {
		res.CPUBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	if run.Status != store.RunCompleted {
		res.Errs = append(res.Errs, fmt.Errorf("run 1 ended %s", run.Status))
	}
	if err := pe.mailboxFailures(ctx, run.ID); err != nil {
		res.Errs = append(res.Errs, err)
	}
	res.Diff, err = verifyAll(env, sc, jobs_)
	return res, err
}

// profileWorker saves the worker's CPU profile until stop is closed: pprof
// needs the length up front, so it takes 2-second profiles one after the
// other and merges them with `go tool pprof -proto` into path.
func profileWorker(metrics, path string, stop <-chan struct{}) error {
	var parts []string
	defer func() {
		for _, p := range parts {
			os.Remove(p)
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			if len(parts) == 0 {
				return errors.New("the run ended before the first profile")
			}
			var out bytes.Buffer
			cmd := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, parts...)...)
			cmd.Stdout, cmd.Stderr = &out, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("merge the profiles: %w", err)
			}
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				return err
			}
			logf("worker CPU profile of the run (%d × 2 s) in %s: go tool pprof -top %s", len(parts), path, path)
			return nil
		default:
		}
		res, err := http.Get("http://" + metrics + "/debug/pprof/profile?seconds=2")
		if err != nil {
			return err
		}
		part := fmt.Sprintf("%s.part%d", path, i)
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET profile: %s %v", res.Status, err)
		}
		if err := os.WriteFile(part, b, 0o644); err != nil {
			return err
		}
		parts = append(parts, part)
	}
}

// postmasterPID is the pid of the bench's PostgreSQL server (the parent of
// a backend of its pool); 0 when unknown.
func (pe *productEnv) postmasterPID(ctx context.Context) int {
	var backend int
	if err := pe.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0
	}
	return parentPID(backend)
}

// dbCounters are the database's cumulative transaction and row counters
// (pg_stat_database), to count what a run wrote.
type dbCounters struct{ Commits, Inserted, Updated, Deleted, WALRecords, WALBytes int64 }

func (pe *productEnv) dbCounters(ctx context.Context) dbCounters {
	var c dbCounters
	_ = pe.pool.QueryRow(ctx, `SELECT pg_stat_force_next_flush()`).Scan(new(any))
	_ = pe.pool.QueryRow(ctx, `SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&c.Commits, &c.Inserted, &c.Updated, &c.Deleted)
	// What was written, whatever the reads: the bench's cluster is its own.
	_ = pe.pool.QueryRow(ctx, `SELECT wal_records, wal_bytes::bigint FROM pg_stat_wal`).Scan(&c.WALRecords, &c.WALBytes)
	return c
}

// waitWorkerSessions waits (at most 10 s) until the only client sessions
// left on the database are the bench's own: a stopped worker's sessions
// end a moment after it, and count their writes then.
func (pe *productEnv) waitWorkerSessions(ctx context.Context) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var n int32
		err := pe.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`).Scan(&n)
		if err != nil || n <= pe.pool.Stat().TotalConns() {
			return
		}
	}
}

// timeNotes says where a run's time went, from what the database
// recorded: how long the mailboxes waited after the run started before
// their copy began (River's pickup, a worker slot, the per-host and
// per-tenant limits), how long the copies took, how busy the worker's
// slots were, and the database writes per message copied (every process's
// together: the worker's reporter and checkpoints, River's job rows; the
// bench's own polling adds a read-only transaction every 50 ms). db0 and
// db1 are the counters before and after the run.
func (pe *productEnv) timeNotes(ctx context.Context, run store.Run, db0, db1 dbCounters, messages int) string {
	rows, err := pe.pool.Query(ctx, `
		SELECT EXTRACT(EPOCH FROM b.started_at - r.started_at), EXTRACT(EPOCH FROM b.ended_at - b.started_at)
		FROM mailbox_runs b JOIN runs r ON r.tenant_id = b.tenant_id AND r.id = b.run_id
		WHERE b.tenant_id = $1 AND b.run_id = $2 AND b.started_at IS NOT NULL AND b.ended_at IS NOT NULL`, pe.tenant.ID, run.ID)
	if err != nil {
		return fmt.Sprintf("(time notes: %v)", err)
	}
	defer rows.Close()
	var waits, copies []float64
	for rows.Next() {
		var w, c float64
		if err := rows.Scan(&w, &c); err != nil {
			return fmt.Sprintf("(time notes: %v)", err)
		}
		waits, copies = append(waits, w), append(copies, c)
	}
	if len(copies) == 0 {
		return "(no mailbox timings)"
	}
	var sum float64
	for _, c := range copies {
		sum += c
	}
	wall := run.EndedAt.Sub(*run.StartedAt).Seconds()
	var pickup string
	var runPickup float64
	if err := pe.pool.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM started_at - scheduled_at) FROM runs WHERE tenant_id = $1 AND id = $2`, pe.tenant.ID, run.ID).Scan(&runPickup); err == nil {
		pickup = fmt.Sprintf("run started %.2fs after its time; ", runPickup)
	}
	pickup += pe.mailboxPickup(ctx, run)
	per := func(n int64) float64 { return float64(n) / float64(max(messages, 1)) }
	return fmt.Sprintf("%s%d mailboxes waited %.2fs median, %.2fs max after the run started before their copy began; copies took %.2fs median, %.2fs max; copying filled %.0f%% of the run × its %d usable worker slots; database: %.2f commits, %.2f rows inserted, %.2f rows updated, %.2f rows deleted, %.1f WAL records and %.0f WAL bytes per message",
		pickup, len(copies), medianOf(waits), slicesMax(waits), medianOf(copies), slicesMax(copies),
		100*sum/(wall*float64(min(pe.workers, len(copies)))), min(pe.workers, len(copies)),
		per(db1.Commits-db0.Commits), per(db1.Inserted-db0.Inserted), per(db1.Updated-db0.Updated), per(db1.Deleted-db0.Deleted),
		per(db1.WALRecords-db0.WALRecords), per(db1.WALBytes-db0.WALBytes))
}

func medianOf(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func slicesMax(v []float64) float64 { return slices.Max(v) }

// mailboxPickup says, from River's table, how long River took to start the
// mailbox jobs the run inserted (the attempt that copied: attempted_at −
// the run's start), how long each such attempt took before its copy began
// (the job's own reads, the slot locks: mailbox started_at − attempted_at),
// and how many times the jobs snoozed behind a limit.
func (pe *productEnv) mailboxPickup(ctx context.Context, run store.Run) string {
	rows, err := pe.pool.Query(ctx, `
		SELECT EXTRACT(EPOCH FROM j.attempted_at - r.started_at), EXTRACT(EPOCH FROM b.started_at - j.attempted_at),
			COALESCE((j.metadata->>'snoozes')::int, 0)
		FROM mailbox_runs b
		JOIN runs r ON r.tenant_id = b.tenant_id AND r.id = b.run_id
		JOIN river_job j ON j.kind = 'mailbox_copy' AND (j.args->>'mailbox_run_id')::bigint = b.id
		WHERE b.tenant_id = $1 AND b.run_id = $2 AND b.started_at IS NOT NULL AND j.attempted_at IS NOT NULL`, pe.tenant.ID, run.ID)
	if err != nil {
		return fmt.Sprintf("(mailbox pickup: %v); ", err)
	}
	defer rows.Close()
	var picked, prelude []float64
	snoozes := 0
	for rows.Next() {
		var p, q float64
		var n int
		if err := rows.Scan(&p, &q, &n); err != nil {
			return fmt.Sprintf("(mailbox pickup: %v); ", err)
		}
		picked, prelude, snoozes = append(picked, p), append(prelude, q), snoozes+n
	}
	if len(picked) == 0 {
		return ""
	}
	return fmt.Sprintf("River started the copying attempt of each mailbox job %.2fs median, %.2fs max after the run started, and the copy began %.0f ms median after (the job's reads and slot locks); the mailbox jobs snoozed %d times in all; ",
		medianOf(picked), slicesMax(picked), 1000*medianOf(prelude), snoozes)
}

// copiedFolders is how many folders of the bench's layout are copied.
func copiedFolders() int {
	n := 0
	for _, f := range corpusFolders {
		if f.Copied {
			n++
		}
	}
	return n
}
