package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/trasloco/trasloco/internal/config"
)

// runWorker runs the River workers without the web panel, until ctx is
// cancelled (SIGINT/SIGTERM in main): an operator adds machines that copy
// mail by running it against the same PostgreSQL.
func runWorker(ctx context.Context, args []string, env Env) int {
	return runDaemon(ctx, args, env, "worker",
		"Runs the background workers (validation, runs, emails) without the web panel.\nSeveral may run on several machines against one PostgreSQL. Configuration comes\nfrom the environment, as for trasloco serve (see the README).",
		work)
}

// work runs the jobs (and, with TRASLOCO_METRICS_LISTEN, the probes and
// metrics listener) until ctx ends; then mailbox copies pause at once and
// other running jobs get riverStopTimeout to finish (see stopRiver).
func work(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	rt, err := openRuntime(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer rt.pool.Close()
	m, hc, stopping, rc := rt.metrics, rt.health, rt.stopping, rt.rc
	riverCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if err := rc.Start(riverCtx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	ms, err := startMetricsServer(ctx, cfg, m, hc, logger)
	if err != nil {
		stopRiver(ctx, rc, stopping, logger)
		return err
	}
	logger.Info("trasloco worker started", "workers", cfg.Workers, "per_host_limit", cfg.PerHostLimit, "host_limits", fmt.Sprint(cfg.HostLimits))
	<-ctx.Done()
	logger.Info("shutting down")
	stopRiver(ctx, rc, stopping, logger)
	ms.stop(ctx, logger)
	logger.Info("stopped")
	return nil
}
