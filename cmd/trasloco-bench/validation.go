package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

// Validation scaling: a migration of -validate-lines lines, every one on
// the same old server, reached through a proxy that holds each new
// connection's greeting for -login-delay (a login that takes that long),
// validated by a real worker with TRASLOCO_PER_HOST_LIMIT -per-host, the
// way the panel starts it (the migration and its ValidateMigrationArgs job
// in one transaction). The elapsed time is the validation job's, as
// River's table records it (attempted_at → finalized_at); the floor it
// should approach is lines ÷ cap × delay, the line-by-line ceiling
// lines × delay.

// validationResult is one validation's numbers.
type validationResult struct {
	Lines, Cap, OK, Failed, Attempts int
	Delay, Elapsed                   time.Duration
	Status                           store.MigrationStatus
	// CPU time during the validation: the worker, the old and our Dovecot
	// (the processes they reaped: login and imap processes), and how busy
	// the machine's CPUs were.
	WorkerCPU, SrcCPU, DstCPU time.Duration
	Busy                      float64
	// SrcAll and DstAll are each Dovecot's whole CPU time, its long-lived
	// processes (auth, config, log, anvil, stats) included; PgCPU is
	// PostgreSQL's (the postmaster and every backend: the worker's, River's
	// and the bench's polling); Commits the database's transactions.
	SrcAll, DstAll, PgCPU time.Duration
	Commits               int64
}

// delayProxy forwards connections to target, each after holding it for
// delay before the first byte either way; close stops it.
func delayProxy(target string, delay time.Duration) (addr string, close func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(delay)
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				var wg sync.WaitGroup
				wg.Go(func() {
					_, _ = io.Copy(c, up)
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				})
				_, _ = io.Copy(up, c)
				if tc, ok := up.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				wg.Wait()
			}()
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }, nil
}

// validateScaling runs the validation benchmark; profile, when set, is
// where the worker's CPU profile of the validation goes.
func validateScaling(ctx context.Context, env *benchEnv, pe *productEnv, dir string, lines int, delay time.Duration, profile string) (validationResult, error) {
	vr := validationResult{Lines: lines, Cap: pe.perHost, Delay: delay}
	logf("validation: creating %d source and destination users", lines)
	var js []copyJob
	for i := range lines {
		j := copyJob{SrcUser: fmt.Sprintf("v%d@src.test", i+1), SrcPass: randomHex(8), DstUser: fmt.Sprintf("v%d@dst.test", i+1)}
		if err := env.Src.AddUser(j.SrcUser, j.SrcPass); err != nil {
			return vr, err
		}
		if err := env.Dst.AddUser(j.DstUser, randomHex(8)); err != nil {
			return vr, err
		}
		js = append(js, j)
	}
	proxy, closeProxy, err := delayProxy(env.Src.PlainAddr(), delay)
	if err != nil {
		return vr, err
	}
	defer closeProxy()
	w, err := startWorker(ctx, env, pe, filepath.Join(dir, "runs", "validation-worker.log"), pe.perHost, profile != "")
	if err != nil {
		return vr, err
	}
	defer w.stop()

	// As the panel creates it: the migration, then its validation job in
	// the same transaction; run 1 an hour ahead (it never starts here).
	m, _, err := pe.newMigration(ctx, proxy, js, time.Now().Add(time.Hour))
	if err != nil {
		return vr, err
	}
	var jobID int64
	src0, dst0, cpu0 := serverCPU(env.Src.ConfigPath()), serverCPU(env.Dst.ConfigPath()), w.cpu()
	srcPID, dstPID, pgPID := dovecotPID(env.Src.ConfigPath()), dovecotPID(env.Dst.ConfigPath()), pe.postmasterPID(ctx)
	srcAll0, dstAll0, pg0, db0 := treeCPU(srcPID), treeCPU(dstPID), treeCPU(pgPID), pe.dbCounters(ctx)
	busy0, total0 := cpuTimes()
	err = pgx.BeginFunc(ctx, pe.pool, func(tx pgx.Tx) error {
		res, err := pe.ins.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: pe.tenant.ID, MigrationID: m.ID}, nil)
		if err == nil {
			jobID = res.Job.ID
		}
		return err
	})
	if err != nil {
		return vr, fmt.Errorf("insert the validation: %w", err)
	}
	logf("validation: %d lines through a proxy holding each connection %s, per-host cap %d", lines, delay, pe.perHost)
	stopProf := make(chan struct{})
	defer close(stopProf)
	var profDone chan error
	if profile != "" {
		profDone = make(chan error, 1)
		go func() { profDone <- profileWorker(w.metrics, profile, stopProf) }()
	}
	for {
		var state string
		var attempted, finalized *time.Time
		err := pe.pool.QueryRow(ctx, `SELECT state, attempted_at, finalized_at, attempt FROM river_job WHERE id = $1`, jobID).
			Scan(&state, &attempted, &finalized, &vr.Attempts)
		if err != nil {
			return vr, err
		}
		if finalized != nil && attempted != nil {
			got, err := store.GetMigration(ctx, pe.pool, pe.tenant.ID, m.ID)
			if err != nil {
				return vr, err
			}
			vr.Status, vr.Failed, vr.OK = got.Status, got.FailedCount, got.ValidatedCount-got.FailedCount
			// attempted_at is the last attempt's start: with retries,
			// count from the job's creation instead.
			from := *attempted
			if vr.Attempts > 1 {
				var created time.Time
				if err := pe.pool.QueryRow(ctx, `SELECT created_at FROM river_job WHERE id = $1`, jobID).Scan(&created); err != nil {
					return vr, err
				}
				from = created
			}
			vr.Elapsed = finalized.Sub(from)
			busy1, total1 := cpuTimes()
			if total1 > total0 {
				vr.Busy = float64(busy1-busy0) / float64(total1-total0)
			}
			vr.WorkerCPU = w.cpu() - cpu0
			if profDone != nil {
				stopProf <- struct{}{} // the profile ends with the validation
				if err := <-profDone; err != nil {
					logf("worker CPU profile: %v", err)
				}
			}
			time.Sleep(300 * time.Millisecond) // let Dovecot reap its imap processes
			vr.SrcCPU, vr.DstCPU = serverCPU(env.Src.ConfigPath())-src0, serverCPU(env.Dst.ConfigPath())-dst0
			vr.SrcAll, vr.DstAll, vr.PgCPU = treeCPU(srcPID)-srcAll0, treeCPU(dstPID)-dstAll0, treeCPU(pgPID)-pg0
			vr.Commits = pe.dbCounters(ctx).Commits - db0.Commits
			return vr, nil
		}
		select {
		case <-ctx.Done():
			return vr, ctx.Err()
		case <-w.exited:
			return vr, fmt.Errorf("trasloco worker exited during the validation: %v (log %s: %s)", w.err, w.log, tail(w.log))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// String is the validation's line of the report.
func (vr validationResult) String() string {
	floor := time.Duration(float64(vr.Lines) / float64(vr.Cap) * float64(vr.Delay))
	serial := time.Duration(vr.Lines) * vr.Delay
	perLine := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(max(vr.Lines, 1)) }
	all := vr.WorkerCPU + vr.SrcAll + vr.DstAll + vr.PgCPU
	cpus := runtime.NumCPU()
	cpuFloor := all / time.Duration(cpus)
	return fmt.Sprintf("validation of %d lines on one old server (each connection held %s), per-host cap %d: %s, %d attempt(s), %d ok, %d failed, migration %s; lines ÷ cap × delay = %s (%.2f× of it), lines × delay = %s (%.2f× of it); CPU per line (a test login to each server): worker %.1f ms, old Dovecot %.1f ms, our Dovecot %.1f ms (their login and imap processes; %.1f and %.1f ms with their long-lived auth, config, log processes), PostgreSQL %.1f ms (%.1f commits per line), %.1f ms in all: on this machine's %d CPUs the validation needs at least %s of CPU alone; CPUs %.0f%% busy",
		vr.Lines, vr.Delay, vr.Cap, vr.Elapsed.Round(time.Millisecond), vr.Attempts, vr.OK, vr.Failed, vr.Status,
		floor.Round(time.Millisecond), vr.Elapsed.Seconds()/floor.Seconds(), serial.Round(time.Millisecond), vr.Elapsed.Seconds()/serial.Seconds(),
		perLine(vr.WorkerCPU), perLine(vr.SrcCPU), perLine(vr.DstCPU), perLine(vr.SrcAll), perLine(vr.DstAll),
		perLine(vr.PgCPU), float64(vr.Commits)/float64(max(vr.Lines, 1)), perLine(all), cpus, cpuFloor.Round(time.Millisecond), 100*vr.Busy)
}

// turnProxy forwards connections to target and counts the client's turns:
// every time the client sends after the server has sent, one round trip
// begins (commands the client pipelines count once). close stops it.
type turnProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	turns int64
}

func newTurnProxy(target string) (*turnProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &turnProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return p, nil
}

func (p *turnProxy) Addr() string { return p.ln.Addr().String() }
func (p *turnProxy) Close()       { p.ln.Close() }

// Turns is the round trips counted so far.
func (p *turnProxy) Turns() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.turns
}

func (p *turnProxy) serve(c net.Conn, target string) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	var mu sync.Mutex
	serverSpoke := true // the greeting comes first
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				mu.Lock()
				serverSpoke = true
				mu.Unlock()
				if _, werr := c.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		c.Close()
	})
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			mu.Lock()
			if serverSpoke {
				serverSpoke = false
				p.mu.Lock()
				p.turns++
				p.mu.Unlock()
			}
			mu.Unlock()
			if _, werr := up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	up.Close()
	wg.Wait()
}
