// Command trasloco is the self-service mailbox migration panel: one binary
// whose subcommands serve the panel, run workers, apply the schema, manage
// tenants and copy single mailboxes from the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trasloco/trasloco/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Getenv: os.Getenv,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	})
	stop()
	os.Exit(code)
}
