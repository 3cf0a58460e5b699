package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
)

// runMigrate applies the schema (ours and River's) to DATABASE_URL, or with
// --check only reports whether it is current.
func runMigrate(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("trasloco migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	check := fs.Bool("check", false, "only check that the schema is current (exit 1 when it is behind)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: trasloco migrate [--check]\n\nApplies the database schema to DATABASE_URL.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "trasloco migrate: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	url, err := config.LoadDatabase(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "trasloco migrate: %v\n", err)
		return ExitUsage
	}
	pool, err := database.Open(ctx, url)
	if err != nil {
		fmt.Fprintf(env.Stderr, "trasloco migrate: %v\n", err)
		return ExitPartial
	}
	defer pool.Close()

	if !*check {
		if err := database.Migrate(ctx, pool); err != nil {
			fmt.Fprintf(env.Stderr, "trasloco migrate: %v\n", err)
			return ExitPartial
		}
	}
	if err := database.CheckCurrent(ctx, pool); err != nil {
		fmt.Fprintf(env.Stderr, "trasloco migrate: %v\n", err)
		return ExitPartial
	}
	fmt.Fprintln(env.Stdout, "schema is current")
	return ExitOK
}
