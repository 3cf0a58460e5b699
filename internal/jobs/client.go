package jobs

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// shortJobTimeout bounds the jobs that set no Timeout of their own.
const shortJobTimeout = 30 * time.Second

// ClientOptions are the settings of one process's River client.
type ClientOptions struct {
	// Workers is the number of mailboxes this process copies at once.
	Workers int
	// ValidateWorkers is the number of validations and clean-ups this
	// process runs at once. Default 2.
	ValidateWorkers int
	// Logger receives River's own logs. Default: discard.
	Logger *slog.Logger
	// FetchPollInterval overrides River's fallback poll for new jobs (tests).
	FetchPollInterval time.Duration
}

// NewClient builds the River client of a process that works trasloco's
// jobs (trasloco serve and trasloco worker): every queue (validations,
// transfers, and apart from them emails and maintenance, so neither waits
// behind a tenant's slow validations), every worker,
// the periodic clean-ups (run by whichever client is the leader) and a
// rescue horizon just past the mailbox job's timeout, so the job of a
// worker process that died is worked again within minutes.
func NewClient(d Deps, o ClientOptions) (*river.Client[pgx.Tx], error) {
	d = d.withDefaults()
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.ValidateWorkers <= 0 {
		o.ValidateWorkers = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	AddWorkers(workers, d)
	c, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{
		Logger: o.Logger,
		Queues: map[string]river.QueueConfig{
			QueueValidate: {MaxWorkers: o.ValidateWorkers},
			// Polled more often than River's default: a mailbox woken
			// when a slot frees is made due without a notification. And a
			// slot freed is filled after 10 ms rather than River's 100 ms
			// fetch cooldown: with small mailboxes (0.4 s each) that
			// cooldown left a fifth of the slots idle.
			QueueTransfer: {MaxWorkers: o.Workers, FetchCooldown: transferFetchCooldown,
				FetchPollInterval: min(transferFetchPoll, cmp.Or(o.FetchPollInterval, transferFetchPoll))},
			QueueEmail:       {MaxWorkers: 2},
			QueueMaintenance: {MaxWorkers: 1},
		},
		Workers: workers,
		// Jobs without a Timeout of their own (starting a run, the
		// clean-ups) are short.
		JobTimeout:           shortJobTimeout,
		RescueStuckJobsAfter: max(mailboxTimeout(d)+15*time.Second, shortJobTimeout+15*time.Second),
		FetchPollInterval:    o.FetchPollInterval,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
				&river.PeriodicJobOpts{ID: "reconcile_runs"}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PurgePasswordsArgs{}, nil },
				&river.PeriodicJobOpts{ID: "purge_passwords", RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("new river client: %w", err)
	}
	return c, nil
}
