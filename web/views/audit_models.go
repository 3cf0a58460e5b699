package views

// AuditPage is the audit trail page.
type AuditPage struct {
	// AllTenants shows the tenant of each event (operators' page).
	AllTenants bool
	Limit      int
	Rows       []AuditRow
}

// AuditRow is one event.
type AuditRow struct {
	When     string
	Tenant   string
	Actor    string
	Operator bool // an operator acting on another tenant
	Action   string
	Label    string // the action in the reader's language
	Detail   string
	// Migration is the migration's number and MigrationPath its page, when
	// the event concerns one.
	Migration, MigrationPath string
	IP                       string
}
