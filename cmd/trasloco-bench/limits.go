package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/trasloco/trasloco/internal/testenv"
)

// The "limit" rows: what each of the two servers can do on its own with
// the scenario's corpus, so that a copy's rate reads as a fraction of it.
// src-read fetches every body of every folder to copy from the old server
// and throws it away; dst-write appends every message of those folders,
// built in memory before the clock starts, to our server (flags and
// internal date as the copy sets them). Each uses -dst-conns connections
// per mailbox, every mailbox at once (as the copies do). A copy can be no
// faster than the slower of the two.

// connectSource logs in to d as user, over STARTTLS on the plain port
// when startTLS, else in plain text.
func connectSource(d *testenv.Dovecot, startTLS bool, user, pass string) (*imapclient.Client, error) {
	if !startTLS {
		return d.Connect(user, pass)
	}
	c, err := imapclient.DialStartTLS(d.PlainAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
	if err != nil {
		return nil, fmt.Errorf("dial the source over STARTTLS: %w", err)
	}
	if err := c.Login(user, pass).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("log in to the source as %s: %w", user, err)
	}
	return c, nil
}

// srcReadTool and dstWriteTool are the limit rows in the tools list.
type srcReadTool struct{}
type dstWriteTool struct{}

func (srcReadTool) Name() string  { return "src-read" }
func (dstWriteTool) Name() string { return "dst-write" }

func (srcReadTool) Command(context.Context, *benchEnv, copyJob) (*exec.Cmd, error) {
	return nil, errors.New("src-read runs in the benchmark's process")
}
func (dstWriteTool) Command(context.Context, *benchEnv, copyJob) (*exec.Cmd, error) {
	return nil, errors.New("dst-write runs in the benchmark's process")
}
func (srcReadTool) Check([]byte, copyJob) error  { return nil }
func (dstWriteTool) Check([]byte, copyJob) error { return nil }

// isLimit says whether t is a limit row, not a copy.
func isLimit(name string) bool { return name == "src-read" || name == "dst-write" }

// readOnly fetches every body of sc's folders to copy and discards it.
func readOnly(ctx context.Context, env *benchEnv, sc *scenario) (runResult, error) {
	var res runResult
	res.Procs = 1
	var wg sync.WaitGroup
	errs := make([]error, len(sc.Sources))
	counts := make([]int, len(sc.Sources))
	sizes := make([]int64, len(sc.Sources))
	var mu sync.Mutex
	start := time.Now()
	busy0, total0 := cpuTimes()
	src0 := serverCPU(env.Src.ConfigPath())
	for i, src := range sc.Sources {
		folders := make(chan string, len(corpusFolders))
		for _, f := range corpusFolders {
			if f.Copied {
				folders <- f.Name
			}
		}
		close(folders)
		for range max(env.DstConns, 1) {
			wg.Go(func() {
				n, b, err := readFolders(ctx, env.Src, env.SrcStartTLS, src.User, src.Pass, folders)
				mu.Lock()
				defer mu.Unlock()
				counts[i] += n
				sizes[i] += b
				errs[i] = errors.Join(errs[i], err)
			})
		}
	}
	wg.Wait()
	res.Wall = time.Since(start)
	busy1, total1 := cpuTimes()
	if total1 > total0 {
		res.CPUBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	time.Sleep(300 * time.Millisecond) // let Dovecot reap its imap processes
	res.SrcCPU = serverCPU(env.Src.ConfigPath()) - src0
	for i, src := range sc.Sources {
		res.Messages += counts[i]
		res.Bytes += sizes[i]
		if counts[i] != src.Stats.CopiedMessages {
			errs[i] = errors.Join(errs[i], fmt.Errorf("src-read %s: read %d messages, want %d", src.User, counts[i], src.Stats.CopiedMessages))
		}
	}
	return res, errors.Join(errs...)
}

// readFolders logs in as user (over STARTTLS when startTLS, verified with
// the server's CA) and fetches the bodies of the folders it takes from the
// channel, discarding them.
func readFolders(ctx context.Context, d *testenv.Dovecot, startTLS bool, user, pass string, folders <-chan string) (int, int64, error) {
	c, err := connectSource(d, startTLS, user, pass)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	var n int
	var bytes int64
	for name := range folders {
		if ctx.Err() != nil {
			return n, bytes, ctx.Err()
		}
		sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			return n, bytes, fmt.Errorf("examine %s: %w", name, err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		var set imap.UIDSet
		set.AddRange(1, 0)
		cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for it := msg.Next(); it != nil; it = msg.Next() {
				if body, ok := it.(imapclient.FetchItemDataBodySection); ok {
					k, err := io.Copy(io.Discard, body.Literal)
					if err != nil {
						cmd.Close()
						return n, bytes, fmt.Errorf("fetch %s: %w", name, err)
					}
					bytes += k
					n++
				}
			}
		}
		if err := cmd.Close(); err != nil {
			return n, bytes, fmt.Errorf("fetch %s: %w", name, err)
		}
	}
	return n, bytes, nil
}

// pendingAppend is one message to append to a destination folder.
type pendingAppend struct {
	folder string
	msg    testenv.Msg
}

// writeOnly appends sc's messages of the folders to copy, from memory, to
// fresh destination users.
func writeOnly(ctx context.Context, env *benchEnv, sc *scenario, seq int) (runResult, error) {
	var res runResult
	res.Procs = 1
	// Build every message before the clock starts.
	users := make([]string, len(sc.Sources))
	queues := make([]chan pendingAppend, len(sc.Sources))
	for i, src := range sc.Sources {
		users[i] = fmt.Sprintf("r%d-dst-write-%d@dst.test", seq, i+1)
		if err := env.Dst.AddUser(users[i], randomHex(8)); err != nil {
			return res, err
		}
		var all []pendingAppend
		for _, m := range src.Spec.plan() {
			f := corpusFolders[m.Folder]
			if !f.Copied {
				continue
			}
			all = append(all, pendingAppend{relName(f.Name), testenv.BuildMessage(src.Spec.Seed, m.Index, m.Size)})
			res.Messages++
			res.Bytes += int64(m.Size)
		}
		queues[i] = make(chan pendingAppend, len(all))
		for _, a := range all {
			queues[i] <- a
		}
		close(queues[i])
		// The folders exist before the clock starts, as the copy
		// creates them once per mailbox.
		c, err := env.Dst.Connect(users[i]+"*"+env.Dst.MasterUser(), env.Dst.MasterPassword())
		if err != nil {
			return res, err
		}
		for _, f := range corpusFolders {
			if f.Copied && relName(f.Name) != "INBOX" {
				_ = c.Create(relName(f.Name), nil).Wait() // parents first in corpusFolders' order; an existing one is fine
			}
		}
		c.Close()
	}
	time.Sleep(300 * time.Millisecond)
	dst0 := serverCPU(env.Dst.ConfigPath())
	busy0, total0 := cpuTimes()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range sc.Sources {
		for range max(env.DstConns, 1) {
			wg.Go(func() {
				err := appendAll(ctx, env.Dst, users[i], queues[i])
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	res.Wall = time.Since(start)
	busy1, total1 := cpuTimes()
	if total1 > total0 {
		res.CPUBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	time.Sleep(300 * time.Millisecond)
	res.DstCPU = serverCPU(env.Dst.ConfigPath()) - dst0
	return res, errors.Join(errs...)
}

// appendAll appends the queued messages to user's mailbox, logged in as
// the master user.
func appendAll(ctx context.Context, d *testenv.Dovecot, user string, q <-chan pendingAppend) error {
	c, err := d.Connect(user+"*"+d.MasterUser(), d.MasterPassword())
	if err != nil {
		for range q {
		}
		return err
	}
	defer c.Close()
	for a := range q {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		cmd := c.Append(a.folder, int64(len(a.msg.Raw)), &imap.AppendOptions{Flags: a.msg.Flags, Time: a.msg.Date})
		if _, err := cmd.Write(a.msg.Raw); err != nil {
			return fmt.Errorf("append to %s: %w", a.folder, err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("append to %s: %w", a.folder, err)
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append to %s: %w", a.folder, err)
		}
	}
	return nil
}
