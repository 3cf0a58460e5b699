package web

import (
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// presetOptions lists the remote server types in the order the form shows
// them, Standard-SSL first and recommended. Standard-no-SSL says what it
// does without STARTTLS: a login in plain text, or, when the operator
// forbids that (forbidPlain), a refusal.
func presetOptions(l i18n.Lang, forbidPlain bool) []views.PresetOption {
	opts := make([]views.PresetOption, 0, len(transfer.Presets))
	for _, p := range transfer.Presets {
		label := presetLabel(l, string(p))
		if p == transfer.PresetStandardNoSSL && forbidPlain {
			label = i18n.T(l, "web.preset.standard-nossl.tls_only")
		}
		opts = append(opts, views.PresetOption{
			Value:       string(p),
			Label:       label,
			Recommended: p == transfer.PresetStandardSSL,
		})
	}
	return opts
}

func presetLabel(l i18n.Lang, preset string) string {
	key := "web.preset." + preset
	if !i18n.Has(key) {
		return preset
	}
	return i18n.T(l, key)
}

// statusView is a migration's status as shown. A scheduled migration
// whose run 1 has ended and whose run 2 is still to come is "between runs"
// (its own icon and words, with run 2's time), not just "scheduled" again.
func statusView(l i18n.Lang, m store.Migration, runs []store.Run, loc *time.Location) views.Status {
	st := views.Status{
		Code:      string(m.Status),
		Label:     i18n.T(l, "web.status."+string(m.Status)),
		Validated: m.ValidatedCount,
		Total:     m.LineCount,
	}
	if b, ok := betweenRuns(m, runs); ok {
		st.Code = "between_runs"
		st.Label = i18n.T(l, "web.status.between_runs")
		st.Detail = i18n.T(l, "web.status.between_runs_detail", strings.ToLower(runStatusLabel(l, b.first.Status)), formatTime(l, b.second.ScheduledAt, loc))
	} else if m.Status == store.MigrationScheduled {
		st.Detail = i18n.T(l, "web.status.scheduled_detail", formatTime(l, m.FirstRunAt, loc))
	}
	return st
}

// between is run 1, ended, and run 2, still to come.
type between struct{ first, second store.Run }

// betweenRuns finds a scheduled migration's ended run 1 and waiting run 2.
func betweenRuns(m store.Migration, runs []store.Run) (between, bool) {
	if m.Status != store.MigrationScheduled {
		return between{}, false
	}
	var b between
	var one, two bool
	for _, rn := range runs {
		switch {
		case rn.RunNo == 1 && (rn.Status == store.RunCompleted || rn.Status == store.RunCompletedWithErrors):
			b.first, one = rn, true
		case rn.RunNo == 2 && rn.Status == store.RunScheduled:
			b.second, two = rn, true
		}
	}
	return b, one && two
}

func lineStatusLabel(l i18n.Lang, s store.LineStatus) string {
	return i18n.T(l, "web.line."+string(s))
}

func runStatusLabel(l i18n.Lang, s store.RunStatus) string {
	return i18n.T(l, "web.status."+string(s))
}
