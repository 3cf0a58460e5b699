package views

import "fmt"

// Resources is the Risorse page of a migration: every mailbox's outcome in
// every run, with links to its logs and the messages left on the old
// server.
type Resources struct {
	MigrationID   int64
	MigrationName string
	Timezone      string
	Runs          []ResourceRun
	Mailboxes     []ResourceMailbox
	// Started is true once some run has reached the mailboxes.
	Started bool
	// Skipped counts the messages listed across the mailboxes.
	Skipped int
}

// ResourceRun is one run of the migration, as a column heading of Risorse.
type ResourceRun struct {
	No          int
	Status      string // store.RunStatus
	StatusLabel string
	ScheduledAt string
	StartedAt   string // "" when it has not started
	EndedAt     string // "" when it has not ended
}

// ResourceMailbox is one mailbox (CSV line) on Risorse: its result in each
// run and what was not copied.
type ResourceMailbox struct {
	LineNo    int
	LocalUser string
	Runs      []MailboxRunRow // one per run of the migration, in run order
	Skipped   []SkippedRow
}

// MailboxRunRow is one mailbox in one run.
type MailboxRunRow struct {
	ID              int64 // 0 when the run has not reached the mailbox
	RunNo           int
	Status          string // store.MailboxStatus; "" when not started
	StatusLabel     string
	Copied          int
	AlreadyThere    int
	TooLarge        int
	ExcludedFolders int
	Failed          int
	Bytes           string // human-readable
	Duration        string // "" when it has not started
	Error           string // the user-facing reason of a failure
	LogPath         string // "" when there is no log yet
}

// SkippedRow is a message a run did not copy (over 30 MB, or failed).
type SkippedRow struct {
	RunNo   int
	Folder  string
	UID     uint32
	Reason  string // why, in the reader's language
	Date    string // "" when the message has none
	Sender  string
	Subject string
	Size    string
}

// MailboxLog is the page of one mailbox's log in one run.
type MailboxLog struct {
	MigrationID   int64
	MigrationName string
	RunNo         int
	LocalUser     string
	Status        string // store.MailboxStatus
	StatusLabel   string
	Error         string
	Timezone      string
	TextPath      string // the plain-text download
	Lines         []LogRow
}

// LogRow is one line of a mailbox's log.
type LogRow struct {
	At         string // in the tenant's time zone, to the second
	Level      string // debug, info, warn, error
	LevelLabel string
	Folder     string
	Message    string
}

// Progress is the live table of the current (or latest) run on the
// migration page; status.js keeps it up to date from status.json.
type Progress struct {
	RunNo     int
	Ended     int // mailboxes whose copy has ended
	Mailboxes int
	Rows      []ProgressRow
	Total     ProgressRow
}

// ProgressRow is one mailbox of the run in progress, or the total.
type ProgressRow struct {
	LocalUser   string
	Status      string // store.MailboxStatus
	StatusLabel string
	Done        int
	Total       int
	Bytes       string
	Folder      string
	Error       string
}

// ResourcesPath returns the Risorse URL of migration id.
func ResourcesPath(id int64) string { return fmt.Sprintf("/migrations/%d/resources", id) }

// MailboxLogPath returns the log page URL of a mailbox run of migration id.
func MailboxLogPath(id, mailboxRunID int64) string {
	return fmt.Sprintf("/migrations/%d/resources/%d/log", id, mailboxRunID)
}

// mailboxClass is the CSS class that colours a mailbox run's status.
func mailboxClass(status string) string {
	switch status {
	case "failed":
		return "line-failed"
	case "", "pending":
		return "muted"
	}
	return "status-" + status
}
