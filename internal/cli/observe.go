package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/metrics"
)

// observability builds what serve and worker expose to operators: the
// metrics (with River's jobs read from the database at scrape time) and
// the readiness checks (the database, and the destination IMAP server's
// greeting).
func observability(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) (*metrics.Metrics, *health.Checker, error) {
	m := metrics.New(nil)
	m.CollectJobs(pool, 5*time.Second)
	dest, err := jobs.DestEndpoint(cfg.Dest)
	if err != nil {
		return nil, nil, err
	}
	hc := health.New(health.Options{DB: pool, Dest: dest, Logger: logger.With("component", "health")})
	return m, hc, nil
}

// metricsServer is the listener of TRASLOCO_METRICS_LISTEN: /healthz,
// /readyz and /metrics, no login; with TRASLOCO_PPROF also Go's profiler
// under /debug/pprof/.
type metricsServer struct {
	srv  *http.Server
	errc chan error
}

// startMetricsServer starts the metrics listener when cfg asks for one;
// it returns nil otherwise.
func startMetricsServer(ctx context.Context, cfg config.Config, m *metrics.Metrics, hc *health.Checker, logger *slog.Logger) (*metricsServer, error) {
	if cfg.MetricsListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvMetricsListen, err)
	}
	mux := health.Mux(hc, m.Handler(logger))
	if cfg.Pprof {
		addPprof(mux)
	}
	ms := &metricsServer{errc: make(chan error, 1), srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}}
	go func() { ms.errc <- ms.srv.Serve(ln) }()
	logger.Info("metrics listener started", "addr", ln.Addr().String(), "pprof", cfg.Pprof)
	return ms, nil
}

// addPprof mounts net/http/pprof's handlers on mux (not on
// http.DefaultServeMux, which nothing serves): a CPU profile of 30 s is
// GET /debug/pprof/profile?seconds=30.
func addPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// stop closes the metrics listener (nil: nothing to do).
func (ms *metricsServer) stop(ctx context.Context, logger *slog.Logger) {
	if ms == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := ms.srv.Shutdown(sctx); err != nil {
		_ = ms.srv.Close()
	}
	if err := <-ms.errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("metrics listener", "err", err)
	}
}
