package transfer

import (
	"log/slog"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
)

// Counters are the numbers of one mailbox copy.
type Counters struct {
	Folders         int   `json:"folders"`          // folders copied
	ExcludedFolders int   `json:"excluded_folders"` // folders deliberately not copied
	Found           int   `json:"found"`            // messages in the copied folders
	Copied          int   `json:"copied"`           // messages appended in this pass
	AlreadyThere    int   `json:"already_there"`    // messages found at the destination already
	TooLarge        int   `json:"too_large"`        // messages over the size limit, skipped
	Gone            int   `json:"gone"`             // messages expunged at the source during the copy
	Failed          int   `json:"failed"`           // messages not copied for a reason of their own (logged)
	FlagsUpdated    int   `json:"flags_updated"`    // messages whose flags were brought up to date
	Bytes           int64 `json:"bytes"`            // bytes appended in this pass
}

// Progress is a snapshot sent while the copy goes on.
type Progress struct {
	Counters
	Done  int `json:"done"`  // messages dealt with (copied, already there, failed)
	Total int `json:"total"` // messages to deal with in folders seen so far, too-large excluded
	// Expected is the number of messages in every folder to copy, as the
	// source's STATUS said before the first body; 0 when unknown.
	Expected int    `json:"expected,omitempty"`
	Folder   string `json:"folder"` // source folder being copied
}

// SkippedMessage describes a message not copied (over the size limit, or
// failed for a reason of its own), so that the customer can move it by
// hand.
type SkippedMessage struct {
	Folder  string    `json:"folder"`
	UID     uint32    `json:"uid"`
	Size    int64     `json:"size"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	Subject string    `json:"subject"`
	// Reason is a code (ReasonTooLarge, ReasonNotDelivered, …), rendered
	// in the reader's language; default ReasonTooLarge.
	Reason string `json:"reason,omitempty"`
	// Detail is what goes with the reason: the server's own words
	// (password-free) or sizes.
	Detail string `json:"detail,omitempty"`
}

// LogEntry is one line of a mailbox's log. It never holds a password.
type LogEntry struct {
	Time   time.Time
	Level  slog.Level
	Folder string
	// Event is what happened: a key of the log catalog (log.<area>.<what>)
	// and its arguments, what the customer's log stores and renders in
	// the reader's language.
	Event i18n.Msg
	// Message is Event in English, for the operator's own output (the
	// CLI) and tests; never stored for the customer.
	Message string
	Skipped *SkippedMessage // set for a message not copied, to be listed
}

// Reporter receives the log and the progress of a copy. Calls come from one
// goroutine at a time.
type Reporter interface {
	Log(LogEntry)
	Progress(Progress)
}

// NopReporter discards everything.
type NopReporter struct{}

// Log implements Reporter.
func (NopReporter) Log(LogEntry) {}

// Progress implements Reporter.
func (NopReporter) Progress(Progress) {}
