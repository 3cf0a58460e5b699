package transfer

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
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
// lock, so it sees one call at a time.
type tally struct {
	rep Reporter

	mu     sync.Mutex
	res    Result
	folder string
	done   int
	total  int
	lastPr time.Time
	lastN  int // done at the last progress report

	// ledger maps every UID the folder's metadata FETCH listed to its
	// fate, zero while it has none yet.
	ledger map[uint32]fate
}

// mark is a copy of the counters, to go back to when a folder is retried.
type mark struct {
	res         Result
	done, total int
}

func (t *tally) logf(level slog.Level, folder, format string, args ...any) {
	t.log(LogEntry{Time: time.Now(), Level: level, Folder: folder, Message: fmt.Sprintf(format, args...)})
}

func (t *tally) log(e LogEntry) {
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
	t.rep.Progress(Progress{Counters: t.res.Counters, Done: t.done, Total: t.total, Folder: t.folder})
}

// result is the Run's result so far.
func (t *tally) result() Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.res
}

func (t *tally) mark() mark {
	t.mu.Lock()
	defer t.mu.Unlock()
	return mark{res: t.res, done: t.done, total: t.total}
}

// rewind goes back to m: a retried folder is counted from scratch.
func (t *tally) rewind(m mark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.res, t.done, t.total = m.res, m.done, m.total
	t.ledger = nil
}

func (t *tally) update(f func(res *Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.res)
}

// open starts the ledger of a folder with the messages its metadata FETCH
// listed.
func (t *tally) open(folder string, metas []meta) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.folder = folder
	t.res.Folders++
	t.res.Found += len(metas)
	t.total += len(metas)
	t.ledger = make(map[uint32]fate, len(metas))
	for _, m := range metas {
		t.ledger[m.uid] = 0
	}
}

// settle gives message m its fate; size is the bytes appended for
// fateCopied. A message settled already, or one the folder did not list,
// keeps what it has: settle reports whether it counted.
func (t *tally) settle(m meta, f fate, size int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, listed := t.ledger[m.uid]; !listed || prev != 0 {
		return false
	}
	t.ledger[m.uid] = f
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

// unsettled lists, in UID order, the messages of the folder without a fate.
func (t *tally) unsettled() []uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []uint32
	for uid, f := range t.ledger {
		if f == 0 {
			out = append(out, uid)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
