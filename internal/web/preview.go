package web

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// The estimate of a copy's duration: a cost per message and a transfer
// rate, deliberately on the slow side of what the benchmarks measure
// (README, Benchmarks), and the mailboxes a run copies at once.
const (
	estPerMessage    = 20 * time.Millisecond
	estBytesPerSec   = 4 << 20
	estParallelBoxes = 4
)

// estimate is how long copying messages of bytes may take, one mailbox.
func estimate(messages int, bytes int64) time.Duration {
	d := time.Duration(messages)*estPerMessage + time.Duration(float64(bytes)/estBytesPerSec*float64(time.Second))
	return max(d.Round(time.Second), time.Second)
}

// linePreviews reads the measured previews of the lines a page shows (nil
// for a line without one), and how long the longest of them may take.
func linePreviews(l i18n.Lang, lines []store.Line) (map[int64]*views.LinePreview, time.Duration) {
	out := map[int64]*views.LinePreview{}
	var longest time.Duration
	for _, ln := range lines {
		if ln.Status != store.LineOK || len(ln.Preview) == 0 {
			continue
		}
		var pv transfer.Preview
		if err := json.Unmarshal(ln.Preview, &pv); err != nil {
			continue
		}
		d := estimate(pv.Messages, pv.Bytes)
		out[ln.ID] = &views.LinePreview{
			Messages: pv.Messages,
			Text:     previewText(l, pv, d),
			Left:     leftText(l, pv),
		}
		if pv.RulesWhy != nil && pv.Rules != "" {
			out[ln.ID].Rules = rulesText(l, pv.Rules, *pv.RulesWhy)
		}
		longest = max(longest, d)
	}
	return out, longest
}

// previewTotal words the sum of every line's preview (added up in SQL);
// nil when no line has one. longest is the longest line's estimate among
// those shown.
func previewTotal(l i18n.Lang, t store.PreviewTotals, longest time.Duration) *views.PreviewTotal {
	if t.Lines == 0 {
		return nil
	}
	sum := transfer.Preview{Folders: t.Folders, Messages: t.Messages, Bytes: t.Bytes, TooLarge: t.TooLarge,
		TooLargeBytes: t.TooLargeBytes, Partial: t.Partial}
	// Mailboxes go in parallel: the run lasts at least its longest
	// mailbox, and about the whole shared by the mailboxes copied at once.
	run := max(longest, estimate(t.Messages, t.Bytes)/time.Duration(min(t.Lines, estParallelBoxes)))
	pt := &views.PreviewTotal{
		Mailboxes: t.Lines,
		Messages:  sum.Messages,
		Text:      previewText(l, sum, run),
	}
	if sum.TooLarge > 0 {
		pt.Left = i18n.N(l, "web.preview.too_large", sum.TooLarge, i18n.Bytes(l, sum.TooLargeBytes))
	}
	if sum.Partial {
		pt.Note = i18n.T(l, "web.preview.partial")
	}
	return pt
}

// previewText: "3 cartelle · 22 messaggi · 84 KB · circa 2 s".
func previewText(l i18n.Lang, pv transfer.Preview, d time.Duration) string {
	return strings.Join([]string{
		i18n.N(l, "web.preview.folders", pv.Folders),
		i18n.N(l, "web.preview.messages", pv.Messages),
		i18n.Bytes(l, pv.Bytes),
		i18n.T(l, "web.preview.about", i18n.Duration(d)),
	}, " · ")
}

// leftText says what stays on the old server: the folders never copied
// and the messages over the limit.
func leftText(l i18n.Lang, pv transfer.Preview) string {
	var parts []string
	if len(pv.Excluded) > 0 {
		names := make([]string, 0, len(pv.Excluded))
		for _, f := range pv.Excluded {
			names = append(names, displayFolder(f))
		}
		parts = append(parts, i18n.T(l, "web.preview.excluded", strings.Join(names, ", ")))
	}
	if pv.TooLarge > 0 {
		parts = append(parts, i18n.N(l, "web.preview.too_large", pv.TooLarge, i18n.Bytes(l, pv.TooLargeBytes)))
	}
	if len(parts) == 0 {
		return ""
	}
	return i18n.T(l, "web.preview.left", strings.Join(parts, "; "))
}

// knownTotals are the messages each line's test counted, by line id: a
// floor for the progress total before the engine has listed every folder.
func knownTotals(lines []store.Line) map[int64]int {
	out := map[int64]int{}
	for _, ln := range lines {
		var pv transfer.Preview
		if len(ln.Preview) > 0 && json.Unmarshal(ln.Preview, &pv) == nil && !pv.Partial {
			out[ln.ID] = pv.Messages
		}
	}
	return out
}
