package transfer

import (
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
)

// fate is the one outcome of a message the metadata FETCH listed.
type fate int

// The outcomes of a message.
const (
	fateCopied   fate = iota + 1 // appended by this run (in this attempt or an earlier one)
	fateAlready                  // at the destination before this run, or recognised there
	fateTooLarge                 // over the size limit: not copied, listed
	fateGone                     // expunged at the source during the copy (checked)
	fateFailed                   // not copied, for a reason that is logged and listed
)

// tally holds the counters and the progress of one Run, and the ledger of
// the folder being copied: every message the folder's metadata FETCH listed
// must end in exactly one fate, and finish says which did not.
//
// Its methods are safe from any goroutine; the Reporter is called under its
// lock, so it sees one call at a time. The counters are the Run's
// (tallyCore); the ledger is a lane's: with several folders in flight
// (lanes.go) each lane has a tally of its own over the one core, and its
// rewind takes back only what the lane added.
type tally struct {
	*tallyCore

	// folder is the folder whose ledger this is.
	folder string
	// ledger maps every UID the folder's metadata FETCH listed to its
	// fate, zero while it has none yet.
	ledger map[uint32]entry
	// added is what this tally added to the counters since its last mark.
	added mark
}

// tallyCore is what the lanes of one Run share.
type tallyCore struct {
	rep Reporter

	mu  sync.Mutex
	res Result
	// current is the folder opened last, for Progress.
	current string
	done    int
	total   int
	lastPr  time.Time
	lastN   int // done at the last progress report
	// expected is the mailbox's total by STATUS (Progress.Expected).
	expected int

	// decided are, per source folder, the fates found during this Run
	// that a retried folder must not try again (a message the source
	// does not deliver, one the destination refuses); they survive
	// rewind.
	decided map[string]map[uint32]*verdict
	// decidedUV is the source UIDVALIDITY the folder's decisions hold for.
	decidedUV map[string]uint32
}

func newTally(rep Reporter) *tally { return &tally{tallyCore: &tallyCore{rep: rep}} }

// lane is a tally of another lane of the same Run: the same counters, a
// ledger of its own.
func (t *tally) lane() *tally { return &tally{tallyCore: t.tallyCore} }

// entry is a message of the ledger and its fate, zero while it has none.
type entry struct {
	m meta
	f fate
}

// verdict is the fate of a message found while copying it, with why.
type verdict struct {
	m      meta
	fate   fate
	code   string // FailReason code, for fateFailed and fateTooLarge
	detail string // the server's words, password-free, or sizes
	listed bool   // already in the log's list of messages not copied
}

// mark is what a tally added to the counters since its last mark, taken
// back when a folder is retried.
type mark struct {
	res         Counters
	done, total int
}

// plus adds d to c, times sign (1 or -1).
func (c Counters) plus(d Counters, sign int) Counters {
	c.Folders += sign * d.Folders
	c.ExcludedFolders += sign * d.ExcludedFolders
	c.Found += sign * d.Found
	c.Copied += sign * d.Copied
	c.AlreadyThere += sign * d.AlreadyThere
	c.TooLarge += sign * d.TooLarge
	c.Gone += sign * d.Gone
	c.Failed += sign * d.Failed
	c.FlagsUpdated += sign * d.FlagsUpdated
	c.Bytes += int64(sign) * d.Bytes
	return c
}

// note adds to t.added what changed in the counters since before, done
// and total; under t.mu.
func (t *tally) note(before Counters, done, total int) {
	t.added.res = t.added.res.plus(t.res.Counters, 1).plus(before, -1)
	t.added.done += t.done - done
	t.added.total += t.total - total
}

// event logs the event key (a key of i18n's log catalog) with args, as
// i18n.New makes them: the customer's log stores the key and the
// arguments and renders them in the reader's language.
func (t *tally) event(level slog.Level, folder, key string, args ...any) {
	t.logMsg(level, folder, i18n.New(key, args...))
}

// logMsg logs an event already made.
func (t *tally) logMsg(level slog.Level, folder string, m i18n.Msg) {
	t.log(LogEntry{Time: time.Now(), Level: level, Folder: folder, Event: m})
}

func (t *tally) log(e LogEntry) {
	if e.Message == "" {
		e.Message = e.Event.Text(i18n.English)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rep.Log(e)
}

// progress sends a snapshot every 200ms or 50 messages, or when forced:
// messages come back from the destination in groups (MULTIAPPEND), many
// in 200ms.
func (t *tally) progress(force bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !force && time.Since(t.lastPr) < 200*time.Millisecond && t.done-t.lastN < 50 {
		return
	}
	t.lastPr, t.lastN = time.Now(), t.done
	t.rep.Progress(Progress{Counters: t.res.Counters, Done: t.done, Total: t.total, Expected: t.expected, Folder: t.current})
}

// expect sets the mailbox's total by STATUS.
func (t *tally) expect(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expected = n
}

// result is the Run's result so far.
func (t *tally) result() Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.res
}

// mark starts counting what this tally adds, for rewind.
func (t *tally) mark() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.added = mark{}
}

// rewind takes back what this tally added to the counters since its mark
// (and not what other lanes did meanwhile): a retried folder is counted
// from scratch.
func (t *tally) rewind() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.res.Counters = t.res.Counters.plus(t.added.res, -1)
	t.done -= t.added.done
	t.total -= t.added.total
	t.added = mark{}
	t.ledger = nil
}

func (t *tally) update(f func(res *Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	before, done, total := t.res.Counters, t.done, t.total
	f(&t.res)
	t.note(before, done, total)
}

// open starts the ledger of a folder with the messages its metadata FETCH
// listed.
func (t *tally) open(folder string, metas []meta) {
	t.mu.Lock()
	defer t.mu.Unlock()
	before, done, total := t.res.Counters, t.done, t.total
	defer func() { t.note(before, done, total) }()
	t.folder, t.current = folder, folder
	t.res.Folders++
	t.res.Found += len(metas)
	t.total += len(metas)
	t.ledger = make(map[uint32]entry, len(metas))
	for _, m := range metas {
		t.ledger[m.uid] = entry{m: m}
	}
}

// settle gives message m its fate; size is the bytes appended for
// fateCopied. A message settled already, or one the folder did not list,
// keeps what it has: settle reports whether it counted.
func (t *tally) settle(m meta, f fate, size int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, listed := t.ledger[m.uid]
	if !listed || e.f != 0 {
		return false
	}
	before, done, total := t.res.Counters, t.done, t.total
	defer func() { t.note(before, done, total) }()
	e.f = f
	t.ledger[m.uid] = e
	switch f {
	case fateCopied:
		t.res.Copied++
		t.res.Bytes += size
	case fateAlready:
		t.res.AlreadyThere++
	case fateTooLarge:
		t.res.TooLarge++
		t.total-- // not to be dealt with
		return true
	case fateGone:
		t.res.Gone++
	case fateFailed:
		t.res.Failed++
	}
	t.done++
	return true
}

// decide gives message m of folder its fate for the rest of the Run: it is
// settled now, and again after a retry of the folder (see decisions).
func (t *tally) decide(folder string, m meta, f fate, code, detail string) {
	t.mu.Lock()
	if t.decided == nil {
		t.decided = map[string]map[uint32]*verdict{}
	}
	if t.decided[folder] == nil {
		t.decided[folder] = map[uint32]*verdict{}
	}
	if _, ok := t.decided[folder][m.uid]; !ok {
		t.decided[folder][m.uid] = &verdict{m: m, fate: f, code: code, detail: detail}
	}
	t.mu.Unlock()
	t.settle(m, f, 0)
}

// validity forgets the decisions of folder when its UIDVALIDITY is no
// longer the one they were taken under: its UIDs are other messages now.
func (t *tally) validity(folder string, uv uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.decidedUV == nil {
		t.decidedUV = map[string]uint32{}
	}
	if prev, ok := t.decidedUV[folder]; ok && prev != uv {
		delete(t.decided, folder)
	}
	t.decidedUV[folder] = uv
}

// decisions are the fates decided for folder's messages so far.
func (t *tally) decisions(folder string) map[uint32]fate {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[uint32]fate, len(t.decided[folder]))
	for uid, v := range t.decided[folder] {
		out[uid] = v.fate
	}
	return out
}

// unlisted returns the failed (and too large) verdicts of folder not yet
// listed, in UID order, and marks them listed.
func (t *tally) unlisted(folder string) []verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []verdict
	for _, v := range t.decided[folder] {
		if !v.listed && (v.fate == fateFailed || v.fate == fateTooLarge) {
			v.listed = true
			out = append(out, *v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].m.uid < out[j].m.uid })
	return out
}

// fates counts the folder's messages by fate.
func (t *tally) fates() map[fate]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[fate]int{}
	for _, e := range t.ledger {
		out[e.f]++
	}
	return out
}

// unsettled lists, in UID order, the messages of the folder without a fate.
func (t *tally) unsettled() []meta {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []meta
	for _, e := range t.ledger {
		if e.f == 0 {
			out = append(out, e.m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].uid < out[j].uid })
	return out
}
