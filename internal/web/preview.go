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

// linePreviews reads the lines' measured previews (nil for a line without
// one) and adds them up; total is nil when no line has one.
func linePreviews(l i18n.Lang, lines []store.Line) (map[int64]*views.LinePreview, *views.PreviewTotal) {
	out := map[int64]*views.LinePreview{}
	var sum transfer.Preview
	var longest, all time.Duration
	n := 0
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
		n++
		sum.Folders += pv.Folders
		sum.Messages += pv.Messages
		sum.Bytes += pv.Bytes
		sum.TooLarge += pv.TooLarge
		sum.TooLargeBytes += pv.TooLargeBytes
		sum.Partial = sum.Partial || pv.Partial
		longest = max(longest, d)
		all += d
	}
	if n == 0 {
		return out, nil
	}
	// Mailboxes go in parallel: the run lasts at least its longest
	// mailbox, and about the sum shared by the mailboxes copied at once.
	run := max(longest, all/time.Duration(min(n, estParallelBoxes)))
	t := &views.PreviewTotal{
		Mailboxes: n,
		Messages:  sum.Messages,
		Text:      previewText(l, sum, run),
	}
	if sum.TooLarge > 0 {
		t.Left = i18n.N(l, "web.preview.too_large", sum.TooLarge, i18n.Bytes(l, sum.TooLargeBytes))
	}
	if sum.Partial {
		t.Note = i18n.T(l, "web.preview.partial")
	}
	return out, t
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
