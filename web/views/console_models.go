package views

// ConsoleTenants is the operators' list of tenants, with the form that
// creates one.
type ConsoleTenants struct {
	Tenants []ConsoleTenantRow
	Form    ConsoleTenantForm
}

// ConsoleTenantRow is one tenant in the operators' list.
type ConsoleTenantRow struct {
	ID       int64
	Name     string
	Domains  string
	Disabled bool
}

// ConsoleTenantForm creates a tenant.
type ConsoleTenantForm struct {
	Name, Domain, NotifyEmail, Timezone string
	Errors                              map[string]string
}

// ConsoleTenant is one tenant in the operators' console.
type ConsoleTenant struct {
	ID       int64
	Name     string
	Domains  []string
	Disabled bool
	Error    string // of the domain form
}
