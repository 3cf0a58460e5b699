// Package views holds the panel's templ pages. Every page is rendered inside
// Layout with a typed view model; the handlers in internal/web build the
// models, so the views never touch the database, sessions or secrets.
package views

import (
	"fmt"

	"github.com/trasloco/trasloco/internal/i18n"
)

// Page is what Layout needs of every page.
type Page struct {
	Lang       i18n.Lang
	Title      string // the page's own title; "Trasloco" is appended
	UserEmail  string // "" when signed out: no navigation is shown
	TenantName string
	// Operator shows the operators' navigation (River's jobs).
	Operator bool
	// Admin shows the tenant administrator's navigation (settings, team).
	Admin bool
	// LangPath is the current path, for the language switch links.
	LangPath string
	// Flash is a one-time message (after a redirect); FlashError marks it
	// as a failure.
	Flash      string
	FlashError bool
	// Scripts are extra script URLs, loaded with defer.
	Scripts []string
	// RefreshSeconds, when > 0, reloads the page without JavaScript.
	RefreshSeconds int
}

// Login is the sign-in form.
type Login struct {
	Email string
	Error string // why the last attempt failed; "" on first show
	// Next is the panel path to go to after signing in ("" for the list).
	Next string
}

// MigrationRow is one migration in the Migrazioni list.
type MigrationRow struct {
	ID          int64
	TenantName  string // shown to operators, who see every tenant's
	Name        string
	PresetLabel string
	Mailboxes   int
	FirstRun    string // formatted in the tenant's time zone
	SecondRun   string // "" when there is none
	Status      Status
	// Problems are the reasons of a red migration (the first few).
	Problems     []string
	MoreProblems int // how many problems Problems leaves out
	// HasResources links to Risorse (once a run has started).
	HasResources bool
}

// Status is a migration's status as shown: its code (the CSS class and
// the data-status attribute), its label and the validation progress.
type Status struct {
	Code      string // store.MigrationStatus, or "between_runs"
	Label     string
	Detail    string // "Esecuzione 1 completata · la 2 il 02/12/2026 18:15"
	Validated int
	Total     int
}

// MigrationList is the Migrazioni page.
type MigrationList struct {
	Rows     []MigrationRow
	Timezone string
	// ShowTenant adds the tenant column: an operator's list of every
	// tenant's migrations.
	ShowTenant bool
	// Filter is the search above the list; Filtered says the rows are
	// narrowed (or a later page), so an empty list is not "no migration yet".
	Filter   ListFilter
	Filtered bool
	Pager    Pager
}

// PresetOption is one remote server type in the form.
type PresetOption struct {
	Value       string
	Label       string
	Recommended bool
}

// MigrationForm is the Nuova Migrazione form, empty or as submitted.
type MigrationForm struct {
	Name        string
	Preset      string
	FirstRunAt  string // datetime-local value: 2006-01-02T15:04
	SecondRunAt string
	InsecureTLS bool
	MasterUser  string
	// The master password is never sent back to the browser.

	Presets  []PresetOption
	Timezone string
	MinRunAt string // datetime-local value of now, for the pickers' min
	MaxBytes int64
	MaxLines int

	// Errors maps a field name to its message.
	Errors map[string]string
	// FormError is a message about the form as a whole.
	FormError string
	// FileProblems are the refusals of the uploaded file.
	FileProblems []string
	// ChooseFileAgain says the file was received but must be chosen again,
	// since browsers never re-fill a file input.
	ChooseFileAgain bool
	// OAuth is the Office 365 and Google Workspace connection panel.
	OAuth ProviderOAuth
}

// Err returns the message of field, or "".
func (f MigrationForm) Err(field string) string { return f.Errors[field] }

// LineRow is one CSV line on the migration page. It has no password field
// on purpose.
type LineRow struct {
	No          int
	LocalUser   string
	RemoteHost  string
	RemoteUser  string
	PinnedAddr  string
	Status      string // store.LineStatus
	StatusLabel string
	Error       string
	// Preview is what the test measured of the mailbox; nil when nothing.
	Preview *LinePreview
}

// LinePreview is what a line's copy will take, as its test measured it.
type LinePreview struct {
	Messages int    // messages to copy
	Text     string // "3 cartelle · 22 messaggi · 84 KB · circa 2 s"
	Left     string // what stays on the old server; "" when nothing
	Rules    string // which folder rules the copy will follow and why; "" when not known
}

// PreviewTotal adds up the lines' previews.
type PreviewTotal struct {
	Mailboxes int
	Messages  int
	Text      string
	Left      string // messages over the limit, in total
	Note      string // why a figure is a lower bound (Gmail's All Mail)
}

// RunRow is one run on the migration page.
type RunRow struct {
	No          int
	Status      string // store.RunStatus
	StatusLabel string
	ScheduledAt string
	StartedAt   string // "" when it has not started
	EndedAt     string // "" when it has not ended
	Duration    string // how long it took, to the second; "" until it ends
	// FailedMailboxes counts the run's failed mailboxes; Retryable those
	// that "Riprova le caselle fallite" can copy again (their passwords are
	// still kept). The retry is offered only for a run completed with errors.
	FailedMailboxes int
	Retryable       int
	// EmailSentAt is when the completion email went out ("" when not yet);
	// EmailFailed says the last send failed (it is retried).
	EmailSentAt string
	EmailFailed bool
}

// CanRetry reports whether the run offers "Riprova le caselle fallite".
func (r RunRow) CanRetry() bool { return r.Status == "completed_with_errors" && r.Retryable > 0 }

// MigrationDetail is the page of one migration.
type MigrationDetail struct {
	ID          int64
	Name        string
	PresetLabel string
	Status      Status
	FirstRun    string
	SecondRun   string
	Timezone    string
	InsecureTLS bool
	MasterUser  string
	Failed      int
	ErrorText   string // a problem with the upload as a whole
	Lines       []LineRow
	Runs        []RunRow
	// NotifyEmail is where the email at the end of each run goes: every
	// notification address, joined.
	NotifyEmail string
	// Between is set while run 1 has ended and run 2 is still to come.
	Between *BetweenRuns
	// Preview adds up what the tests measured; nil when none did.
	Preview *PreviewTotal
	// ServerTypeHint suggests another server type when a red line failed
	// because of the chosen one.
	ServerTypeHint string
	// Progress is the current (or latest) run's per-mailbox table; nil
	// before any run has started.
	Progress *Progress
	// HasResources shows the link to Risorse (once the runs exist).
	HasResources bool

	CanCancel  bool
	CanReplace bool
	// ReplaceProblems are the refusals of a corrected CSV just uploaded.
	ReplaceProblems []string
	MaxBytes        int64
	MaxLines        int

	// LineCount is every line of the CSV; Lines is one page of them.
	LineCount  int
	LineFilter ListFilter
	LinePager  Pager
	// Filtered says Lines is narrowed by a search (or a later page).
	Filtered bool
	// StatusQuery is the page's search and page ("?q=…&page=2"), so
	// status.json answers for the mailboxes the page shows.
	StatusQuery string
	// RedReasons are the reasons of the first failed lines of a red
	// migration; MoreReasons how many more failed lines there are.
	RedReasons  []string
	MoreReasons int

	// Actions are the buttons beyond cancel and retry; History the newest
	// entries of who changed what.
	Actions MigrationActions
	History []HistoryRow
}

// BetweenRuns is the state after run 1, before run 2.
type BetweenRuns struct {
	FirstStatus string // store.RunStatus of run 1
	FirstLabel  string
	FirstEnded  string
	SecondAt    string
}

// Path returns the migration's URL.
func (d MigrationDetail) Path() string { return fmt.Sprintf("/migrations/%d", d.ID) }

// MigrationPath returns the URL of migration id.
func MigrationPath(id int64) string { return fmt.Sprintf("/migrations/%d", id) }

// ErrorPage is a page that only says something went wrong.
type ErrorPage struct {
	Heading string
	Message string
}

func t(l i18n.Lang, key string, args ...any) string { return i18n.T(l, key, args...) }

// tn is t for a count n (i18n.N: the key's ".one" message for 1).
func tn(l i18n.Lang, key string, n int) string { return i18n.N(l, key, n) }

// megabytes shows a size limit the way csvimport's messages do.
func megabytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	return fmt.Sprintf("%d MB", (n+(1<<20)-1)>>20)
}
