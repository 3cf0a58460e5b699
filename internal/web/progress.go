package web

import (
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// currentRun is the run whose progress the migration page follows: the
// one running, else the latest that has started; ok=false before any has.
func currentRun(runs []store.Run) (store.Run, bool) {
	var latest store.Run
	found := false
	for _, rn := range runs {
		if rn.Status == store.RunRunning {
			return rn, true
		}
		if rn.StartedAt != nil && (!found || rn.RunNo > latest.RunNo) {
			latest, found = rn, true
		}
	}
	return latest, found
}

// progressTotals are the figures of a whole run.
type progressTotals struct {
	Mailboxes    int
	Ended        int // mailboxes whose copy has ended, however it ended
	Failed       int
	Done         int
	Total        int // each mailbox's shown total (never below its done)
	AtLeast      bool
	Copied       int
	AlreadyThere int
	TooLarge     int
	FailedMsgs   int
	Bytes        int64
	Started      *time.Time // the first mailbox's start
	LastEnd      *time.Time // the last mailbox's end, once all have ended
}

// runTotals are the totals of a run as store.MigrationRunTotals adds them
// up in SQL, whatever the number of mailboxes.
func runTotals(t store.RunTotals) progressTotals {
	return progressTotals{
		Mailboxes:    t.Mailboxes,
		Ended:        t.Ended,
		Failed:       t.Failed,
		Done:         t.Done,
		Total:        t.Shown,
		AtLeast:      t.Ended < t.Mailboxes,
		Copied:       t.Copied,
		AlreadyThere: t.AlreadyThere,
		TooLarge:     t.TooLarge,
		FailedMsgs:   t.FailedMsgs,
		Bytes:        t.Bytes,
		Started:      t.StartedAt,
		LastEnd:      t.LastEndedAt,
	}
}

// shownTotal is the mailbox's total as the page shows it: never below what
// it has already dealt with, so no bar is ever fuller than the truth, and,
// while it goes, never below what its test counted before the first
// message (known, by line id): the engine counts folder by folder.
func shownTotal(mb store.MailboxRun, known map[int64]int) int {
	t := max(mb.Total, mb.Done)
	if !mb.Status.Ended() {
		t = max(t, known[mb.LineID])
	}
	return t
}

// totalMayGrow says the total is a lower bound: the copy is still going,
// so folders not reached yet may add messages ("almeno").
func totalMayGrow(mb store.MailboxRun) bool { return !mb.Status.Ended() }

func mailboxStatusLabel(l i18n.Lang, s store.MailboxStatus) string {
	return i18n.T(l, "web.mailbox."+string(s))
}

// figures are the texts of one progress line (a mailbox or the total).
type figures struct {
	Done, Total, Percent int
	AtLeast              bool
	Count, Detail, Rate  string
}

// progressFigures words done/total, the outcome so far and the speed and
// time left. runNo 2 and later say "nuovi" for what they copy: what is
// already there is not a copy. elapsed is how long the copy has gone on
// (0 when it has not started); running says it still goes on.
func progressFigures(l i18n.Lang, runNo, done, total int, atLeast bool, copied, already, tooLarge, failed int, bytes int64, elapsed time.Duration, running bool) figures {
	total = max(total, done)
	f := figures{Done: done, Total: total, AtLeast: atLeast}
	switch {
	case total > 0:
		f.Percent = done * 100 / total
	case !atLeast:
		f.Percent = 100
	}
	if atLeast && f.Percent >= 100 {
		f.Percent = 99 // more may come: never "100%" before the end
	}
	n := func(v int) string { return i18n.Int(l, v) }
	switch {
	case atLeast && total == 0:
		f.Count = i18n.T(l, "web.progress.counting")
	case atLeast:
		f.Count = i18n.T(l, "web.progress.count_at_least", n(done), n(total), f.Percent)
	case total == 0:
		f.Count = i18n.T(l, "web.progress.count_empty")
	default:
		f.Count = i18n.T(l, "web.progress.count", n(done), n(total), f.Percent)
	}

	var parts []string
	started := done > 0 || copied > 0 || tooLarge > 0 || failed > 0 || bytes > 0 || elapsed > 0
	if !started && atLeast {
		return f // waiting: nothing to say yet
	}
	if runNo >= 2 {
		if copied == 0 && !atLeast {
			parts = append(parts, i18n.T(l, "web.progress.no_new"))
		} else {
			parts = append(parts, i18n.N(l, "web.progress.new", copied))
		}
	} else {
		parts = append(parts, i18n.N(l, "web.progress.copied", copied))
	}
	if already > 0 || runNo >= 2 {
		parts = append(parts, i18n.N(l, "web.progress.already_there", already))
	}
	if tooLarge > 0 {
		parts = append(parts, i18n.N(l, "web.progress.too_large", tooLarge))
	}
	if failed > 0 {
		parts = append(parts, i18n.N(l, "web.progress.failed", failed))
	}
	if bytes > 0 {
		parts = append(parts, i18n.Bytes(l, bytes))
	}
	f.Detail = strings.Join(parts, " · ")

	// Speed and time left, once there is enough to measure.
	if running && elapsed >= 3*time.Second && done > 0 {
		var rate []string
		if bytes > 0 {
			rate = append(rate, i18n.T(l, "web.progress.speed", i18n.Bytes(l, int64(float64(bytes)/elapsed.Seconds()))))
		}
		if left := total - done; left > 0 {
			eta := time.Duration(float64(elapsed) * float64(left) / float64(done))
			eta = max(eta.Round(time.Second), time.Second)
			key := "web.progress.eta"
			if atLeast {
				key = "web.progress.eta_at_least"
			}
			rate = append(rate, i18n.T(l, key, i18n.Duration(eta)))
		}
		f.Rate = strings.Join(rate, " · ")
	}
	return f
}

// mailboxFigures are the figures of one mailbox at now.
func mailboxFigures(l i18n.Lang, runNo int, mb store.MailboxRun, known map[int64]int, now time.Time) figures {
	running := mb.Status == store.MailboxRunning
	return progressFigures(l, runNo, mb.Done, shownTotal(mb, known), totalMayGrow(mb), mb.Copied, mb.AlreadyThere,
		mb.TooLarge, mb.Failed, mb.Bytes, mb.Duration(now), running)
}

// totalFigures are the figures of the whole run at now.
func totalFigures(l i18n.Lang, runNo int, t progressTotals, now time.Time) figures {
	var elapsed time.Duration
	if t.Started != nil {
		end := now
		if t.LastEnd != nil {
			end = *t.LastEnd
		}
		elapsed = end.Sub(*t.Started)
	}
	running := t.Ended < t.Mailboxes
	return progressFigures(l, runNo, t.Done, t.Total, t.AtLeast, t.Copied, t.AlreadyThere, t.TooLarge, t.FailedMsgs,
		t.Bytes, elapsed, running)
}

// runSummary is the sentence above the table: how many mailboxes are done
// and, while it goes, the run's speed and time left.
func runSummary(l i18n.Lang, t progressTotals, f figures) string {
	s := i18n.T(l, "web.progress.mailboxes", t.Ended, t.Mailboxes)
	if f.Rate != "" {
		s += " · " + f.Rate
	}
	return s
}

// displayFolder is a source folder's name as the customer will see it at
// the destination: the personal namespace's "INBOX." prefix dropped and
// its "." delimiter shown as "/" ("INBOX.Lavoro.Fatture 2023" is
// "Lavoro/Fatture 2023"). A name that already uses "/" is left alone.
func displayFolder(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	rest, ok := strings.CutPrefix(name, "INBOX.")
	if !ok || rest == "" {
		return name
	}
	return strings.ReplaceAll(rest, ".", "/")
}

// progressView is the page's progress table of run rn at now: the totals
// of all its mailboxes (added up in SQL) and the rows of the page's
// mailboxes mbs (in line order), whose totals start from known (the
// messages each line's test counted, by line id).
func progressView(l i18n.Lang, rn store.Run, rt store.RunTotals, mbs []store.MailboxRun, known map[int64]int, now time.Time) *views.Progress {
	tot := runTotals(rt)
	tf := totalFigures(l, rn.RunNo, tot, now)
	p := &views.Progress{
		RunNo:     rn.RunNo,
		Ended:     tot.Ended,
		Mailboxes: tot.Mailboxes,
		Summary:   runSummary(l, tot, tf),
		Total:     progressRow(l, views.ProgressRow{LocalUser: i18n.T(l, "web.progress.total")}, tf),
	}
	for _, mb := range mbs {
		f := mailboxFigures(l, rn.RunNo, mb, known, now)
		p.Rows = append(p.Rows, progressRow(l, views.ProgressRow{
			LineNo:      mb.LineNo,
			LocalUser:   mb.LocalUser,
			Status:      string(mb.Status),
			StatusLabel: mailboxStatusLabel(l, mb.Status),
			Bytes:       i18n.Bytes(l, mb.Bytes),
			Folder:      displayFolder(mb.CurrentFolder),
			Error:       mb.Reason(l),
		}, f))
	}
	return p
}

func progressRow(l i18n.Lang, r views.ProgressRow, f figures) views.ProgressRow {
	r.Done, r.Total, r.AtLeast, r.Percent = f.Done, f.Total, f.AtLeast, f.Percent
	r.Count, r.Detail, r.Rate = f.Count, f.Detail, f.Rate
	r.BarLabel = i18n.T(l, "web.progress.bar_label", r.LocalUser)
	return r
}
