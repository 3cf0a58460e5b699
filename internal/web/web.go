// Package web is the panel's HTTP layer: the chi route table (routes.go),
// its middleware and one file per action. Pages are rendered by web/views;
// all SQL is in internal/store.
package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/csvimport"
	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/secret"
)

// Deps is everything the panel needs. Pool, River, Box and Login are required.
type Deps struct {
	// Pool is the PostgreSQL pool: store queries and sessions.
	Pool *pgxpool.Pool
	// River inserts the validation job and removes scheduled runs'
	// jobs, and serves the operators' jobs page. An insert-only client
	// (no workers) is enough.
	River *river.Client[pgx.Tx]
	// Box seals remote passwords before they reach the database.
	Box *secret.Box
	// Login checks passwords and throttles guessing.
	Login *auth.Login
	// BaseURL is the panel's public URL. An https URL makes the session
	// cookie Secure, and its origin is trusted for form posts (useful
	// behind a proxy that rewrites Host). Default: none.
	BaseURL *url.URL
	// Logger receives the access log and errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for the schedule rules. Default time.Now.
	Now func() time.Time
	// MaxCSVBytes is the largest CSV accepted. Default csvimport.DefaultMaxBytes.
	MaxCSVBytes int64
	// MaxCSVLines is the most mailboxes a CSV may hold. Default csvimport.DefaultMaxLines.
	MaxCSVLines int
	// MaxScheduleAhead is how far ahead a first run may be
	// (TRASLOCO_MAX_SCHEDULE_AHEAD). Default 90 days.
	MaxScheduleAhead time.Duration
	// MigrationsPerHour caps the migrations a tenant creates in an hour
	// (TRASLOCO_MIGRATIONS_PER_HOUR). Default 20.
	MigrationsPerHour int
	// ForbidPlainLogin says on the form that Standard-no-SSL needs
	// STARTTLS (TRASLOCO_FORBID_PLAIN_LOGIN; the workers enforce it).
	// Default false.
	ForbidPlainLogin bool
	// SessionLifetime is how long a session lasts at most. Default 12 hours.
	SessionLifetime time.Duration
	// SessionCleanupInterval is how often expired sessions are deleted
	// from the database; 0 (the default) never, which suits tests: serve
	// sets it.
	SessionCleanupInterval time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see clientIP). Default none: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Health answers /readyz (without the failures' reasons). Default nil:
	// /readyz is not served; /healthz always is.
	Health *health.Checker
	// Metrics is served at /metrics to operators. Default nil: 404.
	Metrics *metrics.Metrics
	// Mail sends the invitations and password-reset links. Default nil:
	// they cannot be sent, and the pages say so.
	Mail AccountMailer
	// RiverUI is River's own web UI (riverqueue.com/riverui), built with
	// the prefix RiverUIPath and mounted there for operators only.
	// Default nil: not mounted.
	RiverUI http.Handler
	// OAuth holds the operator's Microsoft and Google registrations: the
	// admin-consent link of "Collega Microsoft 365", the client id shown
	// for Google Workspace, and empty CSV passwords for those presets.
	// Default nil: passwords only.
	OAuth *oauth.Tokens
}

// RiverUIPath is where the panel mounts River's UI.
const RiverUIPath = "/admin/riverui"

// server holds the handlers' dependencies.
type server struct {
	Deps
	sessions *scs.SessionManager
}

// New returns the panel's HTTP handler.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxCSVBytes <= 0 {
		d.MaxCSVBytes = csvimport.DefaultMaxBytes
	}
	if d.MaxCSVLines <= 0 {
		d.MaxCSVLines = csvimport.DefaultMaxLines
	}
	if d.MaxScheduleAhead <= 0 {
		d.MaxScheduleAhead = 90 * 24 * time.Hour
	}
	if d.MigrationsPerHour <= 0 {
		d.MigrationsPerHour = 20
	}
	if d.SessionLifetime <= 0 {
		d.SessionLifetime = 12 * time.Hour
	}
	sm := scs.New()
	sm.Store = pgxstore.NewWithCleanupInterval(d.Pool, d.SessionCleanupInterval)
	sm.Lifetime = d.SessionLifetime
	sm.IdleTimeout = 2 * time.Hour
	sm.Cookie.Name = "trasloco_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = d.BaseURL != nil && d.BaseURL.Scheme == "https"
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		d.Logger.ErrorContext(r.Context(), "session", "err", err, "request_id", requestID(r))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
	s := &server{Deps: d, sessions: sm}
	return s.routes()
}
