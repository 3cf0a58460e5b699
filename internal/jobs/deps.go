package jobs

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// Defaults of Deps.
const (
	DefaultCheckTimeout = 30 * time.Second
	DefaultPerHostLimit = 4
	// DefaultPerTenantLimit is below the default TRASLOCO_WORKERS, so one
	// process always has a slot for another tenant.
	DefaultPerTenantLimit            = 3
	DefaultPerTenantValidationsLimit = 1
	DefaultConcurrency               = 16

	DefaultMailboxSlice      = 20 * time.Minute
	DefaultMailboxBudget     = 12 * time.Hour
	DefaultMailboxAttempts   = 6
	DefaultRetryBase         = 30 * time.Second
	DefaultPoll              = 10 * time.Second
	DefaultFlushInterval     = time.Second
	DefaultPasswordRetention = 7 * 24 * time.Hour

	DefaultRemoteLoginFailuresPerUser   = 3 // per remote (host, user), any tenant
	DefaultRemoteLoginFailuresPerTenant = 30
	DefaultRemoteLoginWindow            = time.Hour
)

// Deps is what the workers need.
type Deps struct {
	// Pool is the database.
	Pool *pgxpool.Pool
	// Box opens the sealed remote passwords (in memory only).
	Box *secret.Box
	// Guard refuses remote addresses in the provider's own networks.
	Guard netguard.Guard
	// Dest is the provider's IMAP server as an endpoint template: Host,
	// TLS, AuthUser and Password (the master user), RootCAs. User is filled
	// in per mailbox. See DestEndpoint.
	Dest transfer.Endpoint
	// PinRemoteAddr stores the address each line reached so the runs dial
	// it again (TRASLOCO_PIN_REMOTE_ADDR).
	PinRemoteAddr bool
	// Logger receives the workers' logs. Default: discard.
	Logger *slog.Logger
	// CheckTimeout bounds each test login of a line (destination, then
	// remote). Default 30s.
	CheckTimeout time.Duration
	// PerHostLimit caps the concurrent test logins to one remote host.
	// Default 4.
	PerHostLimit int
	// HostLimits replace PerHostLimit for the remote hosts they match,
	// the first that matches (config.HostLimit): Gmail and Office 365
	// count per source account and per tenant. Default none; the command
	// line gives config.Load's, with the built-in ones.
	HostLimits []config.HostLimit
	// PerTenantLimit caps the mailboxes of one tenant copied at once,
	// across every process (TRASLOCO_PER_TENANT_LIMIT). Default 3.
	PerTenantLimit int
	// PerTenantValidations caps the validations of one tenant run at once,
	// across every process. Default 1.
	PerTenantValidations int
	// Concurrency caps the lines one validation checks at once. Default 16.
	Concurrency int
	// ForbidPlainLogin refuses to send a remote password in plain text:
	// Standard-no-SSL then needs STARTTLS (TRASLOCO_FORBID_PLAIN_LOGIN).
	// Default false: it falls back to a plain-text login.
	ForbidPlainLogin bool
	// RemoteLogins bounds the failed test logins to remote servers, so
	// the panel cannot be used to guess passwords. Defaults: 3 per remote
	// (host, user) from any tenant and 30 per tenant, within an hour.
	RemoteLogins store.RemoteLoginLimits
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Inserter inserts the run jobs when a migration is scheduled, and the
	// mailbox and email jobs of a run. Default: the River client that runs
	// the job.
	Inserter Inserter

	// Timeouts of the copies' IMAP connections (transfer defaults when zero).
	Timeouts transfer.Timeouts
	// MaxMessageSize is the largest message a copy takes (transfer's
	// default, 30 MB, when zero); tests lower it.
	MaxMessageSize int64
	// DestConns is the number of connections each copy opens to the
	// destination (transfer default when zero).
	DestConns int
	// FolderLanes is the most folders of a mailbox each copy has in flight
	// at once (transfer.Job.Lanes; transfer default when zero).
	FolderLanes int
	// MinRate and RateWindow are the source's rate floor (transfer
	// defaults when zero: 2 KiB/s over 5 minutes of waiting for it).
	MinRate    int64
	RateWindow time.Duration
	// MailboxBudget is the most time a mailbox's copy may take in one run,
	// all its attempts together, from its first; then it fails
	// (DefaultMailboxBudget when zero).
	MailboxBudget time.Duration
	// MailboxSlice is the longest a mailbox job works in one attempt before
	// it snoozes and goes on in the next (so a job whose worker died is
	// rescued soon). Default 20 minutes.
	MailboxSlice time.Duration
	// RetryBase is the back-off unit of a mailbox that failed for a passing
	// reason: attempt n waits n² times it. Default 30s.
	RetryBase time.Duration
	// Poll is how long a mailbox job waits before looking again when its
	// host is at its limit or run 1 of the mailbox is still going.
	// Default 10s.
	Poll time.Duration
	// ThrottleWait is how long a source account backs off when its
	// server asks to slow down without naming a time; ThrottleMax bounds
	// any back-off (and is a daily limit's). Defaults 2 minutes and 1 hour.
	ThrottleWait time.Duration
	ThrottleMax  time.Duration
	// FlushInterval is how often a copy's progress and log are written.
	// Default 1s.
	FlushInterval time.Duration
	// PasswordRetention is how long the passwords of failed mailboxes are
	// kept after their migration ended, for a retry. Default 7 days.
	PasswordRetention time.Duration
	// Mailer sends the completion emails.
	Mailer Mailer
	// BaseURL is the panel's public URL, for the links in emails.
	BaseURL *url.URL
	// Metrics counts mailboxes, messages, bytes, failures and validation
	// logins. Default nil: nothing is counted.
	Metrics *metrics.Metrics
	// Stopping is closed when the process begins to shut down: running
	// mailbox copies then write their checkpoints and progress and pause
	// (snooze) at once, to go on in whichever worker takes them next,
	// instead of holding the shutdown for the rest of their slice. Default
	// nil: never.
	Stopping <-chan struct{}
	// StopPoll is how often a copying mailbox looks whether its run was
	// asked to stop ("Interrompi"). Default DefaultStopPoll.
	StopPoll time.Duration
	// OAuth gets the bearer tokens of the lines without a password whose
	// provider takes OAuth2 (Office 365, Google Workspace). Default nil:
	// such lines fail, saying OAuth2 is not configured.
	OAuth *oauth.Tokens
	// OAuthHosts are more hosts a line's bearer token may be sent to,
	// besides its provider's own IMAP server (transfer.Preset.Defaults:
	// outlook.office365.com, imap.gmail.com). Default none; tests name
	// their local servers.
	OAuthHosts []string
}

// DefaultStopPoll is Deps.StopPoll's default.
const DefaultStopPoll = 2 * time.Second

func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.CheckTimeout <= 0 {
		d.CheckTimeout = DefaultCheckTimeout
	}
	if d.PerHostLimit <= 0 {
		d.PerHostLimit = DefaultPerHostLimit
	}
	if d.PerTenantLimit <= 0 {
		d.PerTenantLimit = DefaultPerTenantLimit
	}
	if d.PerTenantValidations <= 0 {
		d.PerTenantValidations = DefaultPerTenantValidationsLimit
	}
	if d.Concurrency <= 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RemoteLogins.PerUser <= 0 {
		d.RemoteLogins.PerUser = DefaultRemoteLoginFailuresPerUser
	}
	if d.RemoteLogins.PerTenant <= 0 {
		d.RemoteLogins.PerTenant = DefaultRemoteLoginFailuresPerTenant
	}
	if d.RemoteLogins.Window <= 0 {
		d.RemoteLogins.Window = DefaultRemoteLoginWindow
	}
	if d.MailboxSlice <= 0 {
		d.MailboxSlice = DefaultMailboxSlice
	}
	if d.MailboxBudget <= 0 {
		d.MailboxBudget = DefaultMailboxBudget
	}
	if d.RetryBase <= 0 {
		d.RetryBase = DefaultRetryBase
	}
	if d.Poll <= 0 {
		d.Poll = DefaultPoll
	}
	if d.StopPoll <= 0 {
		d.StopPoll = DefaultStopPoll
	}
	if d.ThrottleWait <= 0 {
		d.ThrottleWait = DefaultThrottleWait
	}
	if d.ThrottleMax <= 0 {
		d.ThrottleMax = DefaultThrottleMax
	}
	if d.FlushInterval <= 0 {
		d.FlushInterval = DefaultFlushInterval
	}
	if d.PasswordRetention <= 0 {
		d.PasswordRetention = DefaultPasswordRetention
	}
	if d.BaseURL == nil {
		d.BaseURL = &url.URL{Scheme: "http", Host: "localhost"}
	}
	return d
}

// inserter is Deps.Inserter or the River client working the job.
func (d Deps) inserter(ctx context.Context) (Inserter, error) {
	if d.Inserter != nil {
		return d.Inserter, nil
	}
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil, fmt.Errorf("no River client to insert jobs: %w", err)
	}
	return c, nil
}

// DestEndpoint turns the destination configuration into the endpoint
// template of Deps.Dest, reading its CA file if any.
func DestEndpoint(c config.Dest) (transfer.Endpoint, error) {
	ep := transfer.Endpoint{
		Host:     c.Addr,
		TLS:      transfer.TLSMode(c.TLS),
		AuthUser: c.MasterUser,
		Password: c.MasterPassword,
	}
	if c.TLS == "" {
		ep.TLS = transfer.TLSImplicit
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return transfer.Endpoint{}, fmt.Errorf("read destination CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return transfer.Endpoint{}, fmt.Errorf("read destination CA file %s: no PEM certificate in it", c.CAFile)
		}
		ep.RootCAs = pool
	}
	return ep, nil
}

// AddWorkers registers every worker of this package: the validation of a
// migration, the start of a run, the copy of a mailbox, the email at the
// end of a run and the periodic clean-ups.
func AddWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, NewValidateWorker(d))
	river.AddWorker(w, NewRunWorker(d))
	river.AddWorker(w, NewMailboxWorker(d))
	river.AddWorker(w, NewRunEmailWorker(d))
	river.AddWorker(w, NewReconcileWorker(d))
	river.AddWorker(w, NewPurgePasswordsWorker(d))
}

// noPlainText makes e, an endpoint of preset p, use STARTTLS instead of
// falling back to plain text when the operator forbids plain-text logins.
// The certificate stays unverified, as Standard-no-SSL promises.
func (d Deps) noPlainText(p transfer.Preset, e *transfer.Endpoint) {
	if d.ForbidPlainLogin && p == transfer.PresetStandardNoSSL && (e.TLS == "" || e.TLS == transfer.TLSOpportunistic) {
		e.TLS = transfer.TLSStartTLS
		e.InsecureSkipVerify = true
	}
}
