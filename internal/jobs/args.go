// Package jobs holds trasloco's River jobs: small typed args with their
// workers, whose dependencies are fields (see Deps). The validate worker
// checks every line of a new migration and, when all pass, schedules the
// runs in the same transaction that marks the migration scheduled.
package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The River queues of trasloco's jobs.
const (
	QueueValidate    = "validate"    // line checks of new migrations
	QueueTransfer    = "transfer"    // the runs, which copy mail
	QueueEmail       = "email"       // completion emails: never behind a tenant's slow validations
	QueueMaintenance = "maintenance" // reconcile and purge
)

// ValidateMigrationArgs checks every pending line of a migration that is
// validating, then turns it scheduled (blue) or red. Insert it in the
// transaction that creates the migration (or replaces its lines).
type ValidateMigrationArgs struct {
	TenantID    int64 `json:"tenant_id" river:"unique"`
	MigrationID int64 `json:"migration_id" river:"unique"`
}

// Kind is the River job kind.
func (ValidateMigrationArgs) Kind() string { return "validate_migration" }

// InsertOpts puts the job on QueueValidate, unique by args while one is
// waiting or running. A completed validation does not block the next one,
// which a corrected CSV needs.
func (ValidateMigrationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueValidate,
		MaxAttempts: validateMaxAttempts,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
				rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			},
		},
	}
}

// validateMaxAttempts bounds the retries of a validation whose destination
// server does not answer; the last attempt fails such lines instead.
const validateMaxAttempts = 8

// RunArgs starts run 1 or 2 of a migration at its scheduled time. Its
// worker belongs to the runs (the next issue): only the args are defined
// here, so that scheduling can insert them.
type RunArgs struct {
	TenantID int64 `json:"tenant_id" river:"unique"`
	RunID    int64 `json:"run_id" river:"unique"`
}

// Kind is the River job kind.
func (RunArgs) Kind() string { return "migration_run" }

// InsertOpts puts the job on QueueTransfer, unique by run.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTransfer, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Inserter inserts a River job in a transaction; *river.Client[pgx.Tx]
// satisfies it, insert-only clients included.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

var _ Inserter = (*river.Client[pgx.Tx])(nil)

// LineSecretAD is the associated data a line's remote password is sealed
// with (internal/secret): the tenant and the login it belongs to, so a
// ciphertext copied onto another row does not open there. The line's id
// cannot be used: it does not exist yet when the password is sealed.
// Fields are joined by "\n", which no CSV field can contain.
func LineSecretAD(tenantID int64, localUser, remoteHost, remoteUser string) []byte {
	return fmt.Appendf(nil, "line:%d\n%s\n%s\n%s", tenantID, localUser, remoteHost, remoteUser)
}

// MasterSecretAD is the associated data of a migration's remote master
// password: the tenant and the master user.
func MasterSecretAD(tenantID int64, masterUser string) []byte {
	return fmt.Appendf(nil, "master:%d\n%s", tenantID, masterUser)
}
