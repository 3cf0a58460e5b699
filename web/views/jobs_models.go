package views

// JobsPage is the operators' view of River's jobs.
type JobsPage struct {
	// States are River's job states, the columns of Counts.
	States []string
	// Counts are the jobs of each kind by state.
	Counts []JobKindCounts
	// State is the state whose jobs are listed.
	State string
	// Jobs are the newest jobs in State, at most Limit.
	Jobs  []JobRow
	Limit int
}

// JobKindCounts are the jobs of one kind by state.
type JobKindCounts struct {
	Kind    string
	ByState map[string]int64
}

// JobRow is one River job.
type JobRow struct {
	ID          int64
	Kind        string
	Queue       string
	Attempt     int
	MaxAttempts int
	Args        string // the job's JSON arguments (ids only: no secret is ever in them)
	When        string // scheduled at, formatted
	Error       string // the last attempt's error, "" when none
	CanRetry    bool
	CanCancel   bool
}

// JobsPath is the jobs page listing the jobs in state.
func JobsPath(state string) string { return "/admin/river?state=" + state }
