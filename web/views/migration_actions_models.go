package views

// MigrationEdit is the page that changes a migration not yet started.
type MigrationEdit struct {
	ID   int64
	Name string // as stored, for the title
	Form MigrationForm
	// TimePassed says the first run's time has passed: a new one must be
	// chosen (the run never starts on its own at a time gone by).
	TimePassed string
}

// Confirm is a confirmation page.
type Confirm struct {
	Title       string
	Lines       []string // what will happen
	Action      string   // where the button posts
	Button      string
	ButtonClass string // "danger" for what destroys
	BackURL     string
}

// MigrationActions are the buttons of a migration's page beyond cancel and
// retry: change, start now, stop, delete, add and remove mailboxes.
type MigrationActions struct {
	ID        int64
	CanEdit   bool
	CanStart  bool // start now (blue, run 1 not started)
	CanStop   bool // a run is copying
	CanResume bool // a run was stopped: "Riprendi la copia"
	CanDelete bool
	// CanChangeLines adds the forms to add mailboxes and remove one.
	CanChangeLines bool
	// AddProblems are the refusals of mailboxes just uploaded.
	AddProblems []string
	MaxBytes    int64
	MaxLines    int
}

// HistoryRow is one entry of a migration's history.
type HistoryRow struct {
	At   string
	Who  string
	What string
}
