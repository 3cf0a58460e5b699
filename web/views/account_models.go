package views

// Settings is Impostazioni: the tenant's notification addresses, time zone
// and language of the emails.
type Settings struct {
	NotifyEmails string // one a line
	Timezone     string
	Language     string
	Languages    []Option
	Errors       map[string]string
}

// Team is the users of a tenant.
type Team struct {
	Members []TeamRow
	Email   string // the invitation form, as submitted
	Admin   bool
	Errors  map[string]string
}

// TeamRow is one user of the tenant.
type TeamRow struct {
	ID       int64
	Email    string
	Admin    bool
	Disabled bool
	Invited  bool
	Self     bool // the signed-in user: not disabled or removed here
}

// PasswordForm changes a password: the own (with the current one), or
// through a one-time link (Token set).
type PasswordForm struct {
	Token  string
	Email  string // whose password, shown on a link's page
	Errors map[string]string
}

// ForgotForm asks for a reset link.
type ForgotForm struct {
	Email string
	Sent  bool
}
