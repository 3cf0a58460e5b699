package web

import "github.com/riverqueue/river"

// validateArgs is the River job that checks a migration's lines.
//
// TEMPORARY: internal/jobs (ValidateMigrationArgs) has not landed yet; this
// stand-in has the same fields and is replaced by it as soon as it does.
func validateArgs(tenantID, migrationID int64) river.JobArgs {
	return pendingValidateArgs{TenantID: tenantID, MigrationID: migrationID}
}

type pendingValidateArgs struct {
	TenantID    int64 `json:"tenant_id"`
	MigrationID int64 `json:"migration_id"`
}

func (pendingValidateArgs) Kind() string { return "validate_migration" }

// queueValidate is the River queue of validation jobs.
const queueValidate = "validate"
