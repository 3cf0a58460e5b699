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
	"github.com/trasloco/trasloco/internal/transfer"
)

// The "limit" rows: what each of the two servers can do on its own with
// the scenario's corpus, so that a copy's rate reads as a fraction of it.
// src-read fetches every body of every folder to copy from the old server
// and throws it away, on -dst-conns connections per mailbox (a copy reads
// on one); dst-write appends every message of those folders, built in
// memory before the clock starts, to our server (flags and internal date
// as the copy sets them) with the copy's own pipelined appender, on as
// many appenders per mailbox as a copy opens (writePipes). Every mailbox
// at once, as the copies do. A copy can be no faster than the slower of
// the two.

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

// writeOnly appends sc's messages of the folders to copy, from memory, to
// fresh destination users, the way the copy appends at its best
// (transfer.WriteOnly: the engine's pipelined appender, LITERAL+ and
// MULTIAPPEND, as many appenders per mailbox as a copy with -dst-conns
// opens, folder after folder, every message ready at once).
func writeOnly(ctx context.Context, env *benchEnv, sc *scenario, seq int) (runResult, error) {
	var res runResult
	res.Procs = 1
	// Build every message before the clock starts.
	users := make([]string, len(sc.Sources))
	folders := make([][]transfer.MemoryFolder, len(sc.Sources))
	for i, src := range sc.Sources {
		users[i] = fmt.Sprintf("r%d-dst-write-%d@dst.test", seq, i+1)
		if err := env.Dst.AddUser(users[i], randomHex(8)); err != nil {
			return res, err
		}
		byFolder := make([][]transfer.MemoryMessage, len(corpusFolders))
		for _, m := range src.Spec.plan() {
			if !corpusFolders[m.Folder].Copied {
				continue
			}
			msg := testenv.BuildMessage(src.Spec.Seed, m.Index, m.Size)
			flags := make([]string, len(msg.Flags))
			for k, f := range msg.Flags {
				flags[k] = string(f)
			}
			byFolder[m.Folder] = append(byFolder[m.Folder], transfer.MemoryMessage{Raw: msg.Raw, Flags: flags, Date: msg.Date})
			res.Messages++
			res.Bytes += int64(m.Size)
		}
		for k, f := range corpusFolders {
			if f.Copied && len(byFolder[k]) > 0 {
				folders[i] = append(folders[i], transfer.MemoryFolder{Name: relName(f.Name), Messages: byFolder[k]})
			}
		}
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
	errs := make([]error, len(sc.Sources))
	for i := range sc.Sources {
		wg.Go(func() {
			e := transfer.Endpoint{Host: env.Dst.PlainAddr(), TLS: transfer.TLSNone, User: users[i],
				AuthUser: env.Dst.MasterUser(), Password: env.Dst.MasterPassword()}
			_, errs[i] = transfer.WriteOnly(ctx, e, transfer.Timeouts{}, writePipes(env.DstConns), folders[i])
		})
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

// writePipes is how many pipelined appenders a copy with dstConns
// destination connections opens per mailbox: all but the one that creates
// folders and looks messages up, at least one.
func writePipes(dstConns int) int { return max(dstConns-1, 1) }
