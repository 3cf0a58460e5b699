package jobs

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/transfer"
)

// Defaults of Deps.
const (
	DefaultCheckTimeout = 30 * time.Second
	DefaultPerHostLimit = 4
	DefaultConcurrency  = 16
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
	// Concurrency caps the lines one validation checks at once. Default 16.
	Concurrency int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Inserter inserts the run jobs when a migration is scheduled. Default:
	// the River client that runs the validation job.
	Inserter Inserter
}

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
	if d.Concurrency <= 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
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

// AddWorkers registers the workers of this package: the validation of a
// migration. (The run worker comes with the runs.)
func AddWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, NewValidateWorker(d))
}
