package cli

import (
	"context"
	"fmt"
)

// runCopy is replaced by the transfer engine's command line in the next commit.
func runCopy(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "trasloco copy: not built yet")
	return ExitUsage
}

func runCheck(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "trasloco check: not built yet")
	return ExitUsage
}
