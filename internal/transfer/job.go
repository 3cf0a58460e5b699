package transfer

import (
	"time"
)

// DefaultMaxMessageSize is the size over which a message is not copied.
const DefaultMaxMessageSize = 30 << 20

// Job is the copy of one mailbox.
type Job struct {
	// Preset is the kind of source server; it sets the source's connection
	// defaults and folder rules.
	Preset Preset
	// Source is the old server.
	Source Endpoint
	// Dest is our server; its defaults are Standard-SSL's.
	Dest Endpoint
	// MaxMessageSize skips larger messages; default DefaultMaxMessageSize.
	MaxMessageSize int64
	// Expected, when set, is how many messages the folders to copy held
	// when last counted (the panel's test login of the line, over the size
	// limit included): the total reported before the first body, instead
	// of a STATUS of every folder, each of which makes the old server open
	// and sync the folder (on Dovecot about a sixth of a small mailbox's
	// session). The copy's own count replaces it folder by folder. Default
	// 0: a STATUS of each folder.
	Expected int
	// Checkpoints remembers what was copied; default an in-memory store.
	Checkpoints CheckpointStore
	// Reporter receives the log and the progress; default none.
	Reporter Reporter
	// DryRun plans and counts without writing anything anywhere.
	DryRun bool
	// DestConns is the number of destination connections; default 2. When
	// the destination offers LITERAL+ (Dovecot does), one of them creates
	// folders and looks messages up and the others only append, pipelined
	// (see pipeConn); else, or with DestConns 1, every connection appends
	// through go-imap, one round trip per message. Keep it under the
	// per-user limit.
	DestConns int
	// Lanes is the most folders of the mailbox copied at once, each lane
	// with a source connection and destination connections of its own
	// (DestConns each); default DefaultLanes. A lane is opened only when
	// the folders beside the largest hold enough messages to share
	// (laneCount), and only while the process runs fewer lanes than it has
	// CPUs, at least two (processLanes): a mailbox of one big folder, or a
	// small one, or one among as many copies as CPUs, has one lane and no
	// extra logins. With n lanes a mailbox holds up to n
	// connections at the source and n×DestConns at the destination: keep
	// them under the per-user limits (Dovecot's default is 10 per user and
	// IP, Gmail's 15).
	Lanes int
	// Timeouts bound every network operation.
	Timeouts Timeouts
	// MaxAttempts bounds the reconnects after a dropped connection, per
	// folder; default 5.
	MaxAttempts int
	// Backoff is the wait before reconnect attempt n (1-based); default
	// 1s, 2s, 4s, … capped at 30s.
	Backoff func(attempt int) time.Duration
	// InFlightBytes bounds the message bytes held in memory between the
	// source and the destination; default 16 MiB. A larger message is
	// still copied, alone. All the copies of a process also share
	// ProcessInFlightBytes.
	InFlightBytes int64
	// MinRate is the slowest the source may deliver, in bytes a second,
	// over RateWindow of waiting for it, before the attempt is cut with a
	// *StallError (retried later); default DefaultMinRate (2 KiB/s).
	MinRate int64
	// RateWindow is the waiting over which MinRate is measured; default
	// DefaultRateWindow (5 minutes).
	RateWindow time.Duration
	// Deadline, when set, is the end of the mailbox's time budget for this
	// run: past it Run stops with ErrTimeBudget. Default none.
	Deadline time.Time
	// Verify, after the copy, compares every folder of the old server with
	// ours (see FolderCheck): Result.Verification. Repair removes there the
	// duplicates the verification finds (see repair); VerifiedFolders are
	// source folders an earlier attempt of the same run verified, not
	// verified again unless this Run appends to them.
	Verify          bool
	Repair          bool
	VerifiedFolders map[string]bool
}

// Result is the outcome of a copy.
type Result struct {
	Counters
	// FailedFolders lists source folders that could not be copied at all.
	FailedFolders []string `json:"failed_folders,omitempty"`
	// ToCopy is, in a dry run, the number of messages a real run would copy.
	ToCopy int `json:"to_copy,omitempty"`
	// Rules is the preset whose folder rules were applied: the server's
	// own layout decides, not only the preset picked (effectivePreset).
	Rules Preset `json:"rules,omitempty"`
	// RulesWhy says why those rules, as codes a page renders.
	RulesWhy RulesWhy `json:"rules_why"`
	// RulesReason says the same in English words (RulesWhy.English).
	RulesReason string `json:"rules_reason,omitempty"`
	// Verification is the verification after the copy (Job.Verify); nil
	// when there was none.
	Verification *Verification `json:"verification,omitempty"`
}

// Complete reports whether every message that should be copied is at the
// destination.
func (r Result) Complete() bool { return r.Failed == 0 && len(r.FailedFolders) == 0 }

func (j *Job) setDefaults() {
	if j.MaxMessageSize <= 0 {
		j.MaxMessageSize = DefaultMaxMessageSize
	}
	if j.Timeouts.MaxLiteral <= 0 {
		j.Timeouts.MaxLiteral = j.MaxMessageSize + literalSlack
	}
	if j.Checkpoints == nil {
		j.Checkpoints = NewMemoryCheckpoints()
	}
	if j.Reporter == nil {
		j.Reporter = NopReporter{}
	}
	if j.DestConns <= 0 {
		j.DestConns = 2
	}
	if j.Lanes <= 0 {
		j.Lanes = DefaultLanes
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 5
	}
	if j.Backoff == nil {
		j.Backoff = func(n int) time.Duration {
			d := time.Second << (n - 1)
			if d > 30*time.Second || d <= 0 {
				d = 30 * time.Second
			}
			return d
		}
	}
	if j.MinRate <= 0 {
		j.MinRate = DefaultMinRate
	}
	if j.RateWindow <= 0 {
		j.RateWindow = DefaultRateWindow
	}
	if j.InFlightBytes <= 0 {
		j.InFlightBytes = 16 << 20
	}
	j.Timeouts = j.Timeouts.withDefaults()
}
