// Command trasloco-dev is `make dev`: Trasloco on one machine, with
// everything it talks to, to try it and to work on it.
//
// It starts, on loopback ports, a private PostgreSQL cluster, our
// destination Dovecot with its master user, a Dovecot playing a customer's
// old server with a few hundred demo messages, and Mailpit; applies the
// schema; creates a demo tenant with its domain, mailboxes and a user;
// writes a ready-to-upload CSV; prints how to log in; and serves the panel
// with its workers until Ctrl-C, then stops everything it started. All
// state lives in one directory (-dir, default .data): run again, it reuses
// what is there; `trasloco-dev -reset` (make dev-reset) stops a running
// one and removes the directory.
//
// It reuses internal/testenv, the servers of the integration tests, so it
// needs what they need: Dovecot and PostgreSQL from the distribution and
// Mailpit built through the Go module proxy (make deps installs them).
//
// Ports (environment): TRASLOCO_LISTEN (panel, 127.0.0.1:8080),
// TRASLOCO_DEV_POSTGRES_PORT (15432), TRASLOCO_DEV_DEST_IMAP_PORT (10143),
// TRASLOCO_DEV_DEST_IMAPS_PORT (10993), TRASLOCO_DEV_OLD_IMAP_PORT (11143),
// TRASLOCO_DEV_OLD_IMAPS_PORT (11993), TRASLOCO_DEV_SMTP_PORT (1025),
// TRASLOCO_DEV_MAILPIT_PORT (8025). Other TRASLOCO_* variables (workers,
// logging, …) reach the panel unchanged.
//
// `trasloco-dev demo` sets the same demo up on servers started by someone
// else: docker-compose.yml's demo service.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runDemo(ctx, args[1:], os.Getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("trasloco-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".data", "directory holding all the state")
	doReset := fs.Bool("reset", false, "stop the trasloco-dev running on -dir, if any, and remove the directory")
	setupOnly := fs.Bool("setup-only", false, "set everything up, print the banner, stop again (no panel)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: trasloco-dev [-dir .data] [-reset] [-setup-only]\n       trasloco-dev demo -h\n\nmake dev: the panel with a demo tenant, on this machine. See the README.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 2
	}
	if *doReset {
		if err := reset(abs, stdout); err != nil {
			fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
			return 1
		}
		return 0
	}

	ports, err := portsFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 2
	}
	if err := prepareDir(abs); err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 1
	}
	release, err := lockDir(abs)
	if err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 1
	}
	defer release()
	if err := ports.checkFree(); err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 1
	}
	if err := ensureReachable(abs, stdout); err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 1
	}

	// The first Ctrl-C (or SIGTERM, from make dev-reset) stops gracefully;
	// a second one exits at once, the servers following through their
	// parent-death signal.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(stdout, "\ntrasloco-dev: stopping (Ctrl-C again to stop at once)…")
		cancel()
		<-sigs
		fmt.Fprintln(stderr, "trasloco-dev: stopped at once")
		os.Exit(130)
	}()

	start := time.Now()
	env, err := Start(ctx, Options{Dir: abs, Ports: ports, Getenv: os.Getenv, Progress: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		return 1
	}
	code := 0
	if *setupOnly {
		env.Banner(stdout, "Everything is set up; the panel is not running (-setup-only).")
	} else {
		code = serve(ctx, env, start, stdout, stderr)
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintf(stderr, "trasloco-dev: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	fmt.Fprintln(stdout, "trasloco-dev: stopped")
	return code
}

// serve runs the panel and prints the banner once it answers.
func serve(ctx context.Context, env *Env, start time.Time, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "trasloco-dev: starting the panel and its workers (log: %s)\n", env.LogPath)
	done := make(chan int, 1)
	go func() { done <- env.Serve(ctx) }()
	select {
	case code := <-done:
		fmt.Fprintf(stderr, "trasloco-dev: the panel stopped at start (exit %d); see %s\n", code, env.LogPath)
		return 1
	case <-waitListening(ctx, env.opts.Ports.Panel):
	}
	if ctx.Err() == nil {
		env.Banner(stdout, fmt.Sprintf("Trasloco is running (ready in %s).", time.Since(start).Round(100*time.Millisecond)))
	}
	code := <-done
	if code != 0 {
		fmt.Fprintf(stderr, "trasloco-dev: the panel exited with %d; see %s\n", code, env.LogPath)
	}
	return code
}

// waitListening is closed once addr accepts connections or ctx ends.
func waitListening(ctx context.Context, addr string) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return ch
}
