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
	// Skipped counts the messages listed across the page's mailboxes;
	// SkippedTotal those of the whole migration.
	Skipped      int
	SkippedTotal int
	// Totals add up every mailbox of each run that has started (in SQL).
	Totals []ResourceTotal
	// Filter, Pager: the mailboxes are paged and searchable by address;
	// Filtered says they are narrowed (or a later page).
	Filter   ListFilter
	Pager    Pager
	Filtered bool
	// Reports are the CSV downloads of the migration.
	Reports []ReportLink
}

// ResourceTotal is the sum of one run's mailboxes on Risorse.
type ResourceTotal struct {
	RunNo        int
	Mailboxes    int
	Failed       int // mailboxes
	Copied       int
	AlreadyThere int
	TooLarge     int
	FailedMsgs   int
	Bytes        string
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
	// Folders are, per run that has reached them, the mailbox's folders.
	Folders []FolderTable
}

// FolderTable is the folders of one mailbox in one run: the figures of
// each at the end of its copy and what its verification found.
type FolderTable struct {
	RunNo   int
	Caption string
	// Verdict is the mailbox run's (as on its row); OK folds the table.
	Verdict  string
	OK       bool
	Rows     []FolderRow
	Findings []FindingRow
}

// FolderRow is one folder of a mailbox run, its numbers ready to show.
type FolderRow struct {
	Source, Dest string
	// Excluded says why the folder was not copied; "" when it was (the
	// numbers are then empty).
	Excluded                                                string
	Messages, Bytes, Copied, AlreadyThere, TooLarge, Failed string
	Gone                                                    string
	Verified                                                string // "30 di 30"; "" when not verified
	VerifiedOK                                              bool
	Problems                                                string // what the verification found wrong, in words
}

// FindingRow is a message the verification points at.
type FindingRow struct {
	Folder    string
	UID       uint32
	Kind      string // missing, duplicate, excluded_copied
	KindLabel string
	Date      string
	Sender    string
	Subject   string
	Size      string
}

// MailboxRunRow is one mailbox in one run.
type MailboxRunRow struct {
	// Rules says which folder rules the copy followed and why; "" until
	// the copy listed the old server's folders.
	Rules           string
	ID              int64 // 0 when the run has not reached the mailbox
	RunNo           int
	Status          string // store.MailboxStatus; "" when not started
	StatusLabel     string
	Copied          int
	AlreadyThere    int
	TooLarge        int
	Gone            int // vanished from the old server during the copy; shown when not 0
	ExcludedFolders int
	Failed          int
	Bytes           string // human-readable
	Duration        string // "" when it has not started
	Error           string // the user-facing reason of a failure
	LogPath         string // "" when there is no log yet
	// Verdict is the verification's verdict in words ("verificato: 4.632
	// di 4.632 presenti"); "" when there is none.
	Verdict   string
	VerdictOK bool
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
// migration page; status.js keeps it up to date from status.json, cell by
// cell, with the same texts.
type Progress struct {
	RunNo     int
	Ended     int // mailboxes whose copy has ended
	Mailboxes int
	Summary   string // "1 of 2 mailboxes done · 12 MB/s · about 3 min left"
	Rows      []ProgressRow
	Total     ProgressRow
}

// ProgressRow is one mailbox of the run in progress, or the total. The
// texts are ready to show: Count ("12 di almeno 60 · 20%"), Detail ("12
// copiati · 3 già presenti", or for run 2 "0 nuovi · 183 già presenti"),
// Rate ("1,5 MB/s · ancora circa 2 min").
type ProgressRow struct {
	LineNo      int
	LocalUser   string
	Status      string // store.MailboxStatus
	StatusLabel string
	Done        int
	Total       int  // never below Done
	AtLeast     bool // the total may still grow (folders not all counted)
	Percent     int
	Count       string
	Detail      string
	Rate        string
	BarLabel    string // the accessible name of the bar
	Bytes       string
	Folder      string // as the customer will see it at the destination
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

func boolAttr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// problemClass colours what a folder's verification found: red when it
// failed, muted when only the customer's own deletions are noted.
func problemClass(ok bool) string {
	if ok {
		return "muted"
	}
	return "line-failed"
}
