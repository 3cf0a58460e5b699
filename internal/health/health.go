// Package health answers the liveness and readiness probes: /healthz says
// the process is up, /readyz that its database and the destination IMAP
// server answer.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/trasloco/trasloco/internal/transfer"
)

// Defaults of Options.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultCacheFor = 5 * time.Second
)

// Names of the checks in a Report.
const (
	CheckDatabase    = "database"
	CheckDestination = "destination"
)

// Pinger is the database as the readiness check needs it (a *pgxpool.Pool).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure a Checker.
type Options struct {
	// DB is pinged by every readiness check. Required.
	DB Pinger
	// Dest is the destination IMAP server; the check connects (with TLS
	// as configured) and waits for its greeting, without logging in.
	// An endpoint without Host is not checked.
	Dest transfer.Endpoint
	// Timeout bounds each check. Default 3s.
	Timeout time.Duration
	// CacheFor is how long a result is reused, so frequent probes from
	// several places don't hammer the database and Dovecot. Default 5s.
	CacheFor time.Duration
	// Logger receives a warning for every failed check. Default: discard.
	Logger *slog.Logger
}

// Checker runs the readiness checks and caches their result.
type Checker struct {
	o Options

	mu   sync.Mutex // held during a check: concurrent probes wait for it
	last Report
	at   time.Time
}

// New returns a Checker.
func New(o Options) *Checker {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CacheFor <= 0 {
		o.CacheFor = DefaultCacheFor
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{o: o}
}

// Report is the result of the readiness checks.
type Report struct {
	// Status is "ok" when every check passed, else "unavailable".
	Status string `json:"status"`
	// Checks maps each check's name to "ok" or what went wrong.
	Checks map[string]string `json:"checks"`
}

// OK reports whether every check passed.
func (r Report) OK() bool { return r.Status == "ok" }

// Check runs the checks, or returns the last result if it is recent.
func (c *Checker) Check(ctx context.Context) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.o.CacheFor {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.Timeout)
	defer cancel()
	var (
		wg      sync.WaitGroup
		dbErr   error
		destErr error
	)
	wg.Go(func() { dbErr = c.o.DB.Ping(ctx) })
	if c.o.Dest.Host != "" {
		wg.Go(func() {
			destErr = transfer.Greet(ctx, c.o.Dest, transfer.Timeouts{Dial: c.o.Timeout, Command: c.o.Timeout})
		})
	}
	wg.Wait()
	r := Report{Status: "ok", Checks: map[string]string{CheckDatabase: "ok"}}
	if c.o.Dest.Host != "" {
		r.Checks[CheckDestination] = "ok"
	}
	for name, err := range map[string]error{CheckDatabase: dbErr, CheckDestination: destErr} {
		if err == nil {
			continue
		}
		r.Status = "unavailable"
		r.Checks[name] = err.Error()
		c.o.Logger.Warn("readiness check failed", "check", name, "err", err)
	}
	c.last, c.at = r, time.Now()
	return r
}

// Healthz answers 200 "ok" while the process serves HTTP.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// Readyz answers 200 with the Report as JSON when every check passes, else
// 503. Without detail the failed checks say only "failed" (the panel's
// listener is public; the reasons are in the log).
func (c *Checker) Readyz(detail bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := c.Check(r.Context())
		status := http.StatusOK
		if !rep.OK() {
			status = http.StatusServiceUnavailable
		}
		if !detail {
			checks := make(map[string]string, len(rep.Checks))
			for k, v := range rep.Checks {
				if v != "ok" {
					v = "failed"
				}
				checks[k] = v
			}
			rep.Checks = checks
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(rep)
	})
}

// Mux is the small HTTP server of TRASLOCO_METRICS_LISTEN: /healthz,
// /readyz (with the failures' reasons) and, when metrics is not nil,
// /metrics. None needs a login: bind it to a private address.
func Mux(c *Checker, metrics http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", Healthz)
	mux.Handle("GET /readyz", c.Readyz(true))
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}
