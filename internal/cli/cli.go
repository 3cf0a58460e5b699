// Package cli implements the trasloco subcommands. Every dependency a
// subcommand needs is built here explicitly from the environment.
package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	ExitOK      = 0 // everything that should have happened did
	ExitPartial = 1 // the command ran but some items failed
	ExitUsage   = 2 // bad flags, bad configuration or a failed login
)

// Env is what a subcommand may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env Env) int
}

// commands is the table of subcommands; each lives in its own cmd_*.go file.
func commands() map[string]command {
	return map[string]command{
		"copy":    {summary: "copy one mailbox from a source IMAP server to a destination", run: runCopy},
		"check":   {summary: "test the login to a source IMAP server and list what would be copied", run: runCheck},
		"migrate": {summary: "apply the database schema (DATABASE_URL)", run: runMigrate},
		"admin":   {summary: "manage tenants, their domains and users", run: runAdmin},
		"serve":   {summary: "run the web panel and the background workers", run: runServe},
		"worker":  {summary: "run the background workers only (more machines, one database)", run: runWorker},
	}
}

// Run runs the subcommand named by args[0] and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "trasloco: unknown command %q\n\n", args[0])
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	return cmd.run(ctx, args[1:], env)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: trasloco <command> [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, cmds[n].summary)
	}
	io.WriteString(w, b.String())
}
