package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"riverqueue.com/riverui"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/web"
)

// Shutdown bounds of serve (and, for River, of worker): in-flight requests
// get httpShutdownTimeout to finish; then mailbox copies pause at once (see
// stopRiver) and other running jobs get riverStopTimeout before their
// contexts are cancelled.
const (
	httpShutdownTimeout = 15 * time.Second
	riverStopTimeout    = 30 * time.Second
)

// runServe runs the panel and, in the same process, the River workers,
// until ctx is cancelled (SIGINT/SIGTERM in main).
func runServe(ctx context.Context, args []string, env Env) int {
	return runDaemon(ctx, args, env, "serve",
		"Runs the web panel and the background workers. Configuration comes from the\nenvironment (DATABASE_URL, TRASLOCO_LISTEN, TRASLOCO_SECRET_KEY, …; see the README).",
		serve)
}

// runDaemon is the command line of serve and worker: no arguments, the
// configuration from the environment, JSON logs on stderr, run until ctx
// ends.
func runDaemon(ctx context.Context, args []string, env Env, name, help string, run func(context.Context, config.Config, *slog.Logger) error) int {
	fs := flag.NewFlagSet("trasloco "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: trasloco %s\n\n%s\n", name, help)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "trasloco %s: unexpected argument %q\n", name, fs.Arg(0))
		return ExitUsage
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "trasloco %s: %v\n", name, err)
		return ExitUsage
	}
	logger := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	applyMemoryLimit(env.Getenv, cfg, logger)
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error(name, "err", err)
		fmt.Fprintf(env.Stderr, "trasloco %s: %v\n", name, err)
		return ExitPartial
	}
	return ExitOK
}

// runtime is what serve and worker both build from the configuration.
type runtime struct {
	pool     *pgxpool.Pool
	box      *secret.Box
	metrics  *metrics.Metrics
	health   *health.Checker
	stopping chan struct{} // closed at shutdown: copies pause at once
	rc       *river.Client[pgx.Tx]
	oauth    *oauth.Tokens // the operator's Microsoft and Google registrations
}

// openRuntime opens the database (refusing a schema that is behind: the
// error says to run trasloco migrate), the secret box, the metrics and
// readiness checks and the River client. The caller closes rt.pool.
func openRuntime(ctx context.Context, cfg config.Config, logger *slog.Logger) (*runtime, error) {
	pool, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	rt := &runtime{pool: pool, stopping: make(chan struct{})}
	fail := func(err error) (*runtime, error) { pool.Close(); return nil, err }
	if err := database.CheckCurrent(ctx, pool); err != nil {
		return fail(fmt.Errorf("refusing to start: %w", err))
	}
	if rt.box, err = secret.NewBox(cfg.SecretKey); err != nil {
		return fail(fmt.Errorf("%s: %w", config.EnvSecretKey, err))
	}
	if rt.metrics, rt.health, err = observability(cfg, pool, logger); err != nil {
		return fail(err)
	}
	if rt.oauth, err = oauthTokens(cfg.OAuth); err != nil {
		return fail(err)
	}
	if rt.rc, err = newJobsClient(cfg, pool, rt.box, rt.metrics, rt.stopping, rt.oauth, logger); err != nil {
		return fail(err)
	}
	return rt, nil
}

// serve builds every dependency from cfg and runs until ctx ends.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	rt, err := openRuntime(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer rt.pool.Close()
	pool, box, m, hc, stopping, rc := rt.pool, rt.box, rt.metrics, rt.health, rt.stopping, rt.rc

	// River's own UI for operators; its background queries run with the
	// jobs' context.
	riverUI, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(rc, nil),
		Logger:    logger.With("component", "riverui"),
		Prefix:    web.RiverUIPath,
	})
	if err != nil {
		return fmt.Errorf("river UI: %w", err)
	}
	// Invitations and password resets go out through the completion
	// emails' SMTP server.
	accountMail, err := notify.NewMailer(cfg.SMTP)
	if err != nil {
		return err
	}
	handler := web.New(web.Deps{
		Mail:                   accountMail,
		Pool:                   pool,
		River:                  rc,
		Box:                    box,
		Login:                  &auth.Login{DB: pool},
		BaseURL:                cfg.BaseURL,
		Logger:                 logger.With("component", "web"),
		SessionCleanupInterval: 5 * time.Minute,
		TrustedProxies:         cfg.TrustedProxies,
		MaxScheduleAhead:       cfg.MaxScheduleAhead,
		MigrationsPerHour:      cfg.MigrationsPerHour,
		ForbidPlainLogin:       cfg.ForbidPlainLogin,
		RiverUI:                riverUI,
		Health:                 hc,
		Metrics:                m,
		OAuth:                  rt.oauth,
	})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("%s: %w", config.EnvListen, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a CSV upload over a slow line
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	// River gets its own context: Stop drains it on shutdown instead of
	// the jobs being cut off by ctx.
	riverCtx, cancelRiver := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRiver()
	if err := riverUI.Start(riverCtx); err != nil {
		_ = ln.Close()
		return fmt.Errorf("start river UI: %w", err)
	}
	if err := rc.Start(riverCtx); err != nil {
		_ = ln.Close()
		return fmt.Errorf("start river: %w", err)
	}
	ms, err := startMetricsServer(ctx, cfg, m, hc, logger)
	if err != nil {
		_ = ln.Close()
		stopRiver(ctx, rc, stopping, logger)
		return err
	}
	logger.Info("trasloco serve started", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(),
		"workers", cfg.Workers)

	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("http server: %w", err)
		}
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("http shutdown", "err", err)
		_ = srv.Close()
	}
	cancel()
	stopRiver(ctx, rc, stopping, logger)
	ms.stop(ctx, logger)
	logger.Info("stopped")
	return runErr
}

// newJobsClient builds the River client that works every trasloco job,
// with the workers' dependencies from cfg: serve and worker share it.
func newJobsClient(cfg config.Config, pool *pgxpool.Pool, box *secret.Box, m *metrics.Metrics, stopping <-chan struct{}, tokens *oauth.Tokens, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	dest, err := jobs.DestEndpoint(cfg.Dest)
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(cfg.SMTP)
	if err != nil {
		return nil, err
	}
	return jobs.NewClient(jobs.Deps{
		Pool:             pool,
		Box:              box,
		Guard:            remoteGuard(cfg),
		Dest:             dest,
		PinRemoteAddr:    cfg.PinRemoteAddr,
		Logger:           logger.With("component", "jobs"),
		PerHostLimit:     cfg.PerHostLimit,
		PerTenantLimit:   cfg.PerTenantLimit,
		HostLimits:       cfg.HostLimits,
		ForbidPlainLogin: cfg.ForbidPlainLogin,
		MailboxSlice:     cfg.MailboxSlice,
		MinRate:          int64(cfg.MinRate),
		RateWindow:       cfg.RateWindow,
		MailboxBudget:    cfg.MailboxBudget,
		RetryBase:        cfg.RetryBackoff,
		Poll:             cfg.JobPoll,
		FlushInterval:    cfg.FlushInterval,
		FolderLanes:      cfg.FolderLanes,
		Mailer:           mailer,
		BaseURL:          cfg.BaseURL,
		Metrics:          m,
		Stopping:         stopping,
		OAuth:            tokens,
	}, jobs.ClientOptions{
		Workers: cfg.Workers,
		Logger:  logger.With("component", "river"),
	})
}

// remoteGuard is what customers' remote hosts may reach: public
// addresses and the allowed networks, on the allowed ports, never our own
// IMAP server (the destination and TRASLOCO_OWN_IMAP_HOSTS, with the
// addresses their names resolve to at start) nor a denied network.
func remoteGuard(cfg config.Config) netguard.Guard {
	g := netguard.Guard{Allow: cfg.AllowRemoteNets, Ports: cfg.AllowRemotePorts, AllPorts: cfg.AllowAnyRemotePort,
		Deny: cfg.DenyRemoteNets}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.OwnServer(ctx, net.DefaultResolver, append([]string{cfg.Dest.Addr}, cfg.OwnIMAPHosts...), nil)
	return g
}

// stopRiver stops fetching jobs and closes stopping, so mailbox copies
// write their checkpoints and pause at once (they go on in the next
// attempt, in any worker); other running jobs get riverStopTimeout to
// finish before they are cancelled.
func stopRiver(ctx context.Context, rc *river.Client[pgx.Tx], stopping chan struct{}, logger *slog.Logger) {
	close(stopping)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), riverStopTimeout)
	defer cancel()
	if err := rc.Stop(stopCtx); err != nil {
		logger.Warn("river stop: cancelling running jobs", "err", err)
		cancelCtx, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel2()
		if err := rc.StopAndCancel(cancelCtx); err != nil {
			logger.Warn("river stop and cancel", "err", err)
		}
	}
}
