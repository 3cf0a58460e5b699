package web

import (
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// presetOptions lists the remote server types in the order the form shows
// them, Standard-SSL first and recommended.
func presetOptions(l i18n.Lang) []views.PresetOption {
	opts := make([]views.PresetOption, 0, len(transfer.Presets))
	for _, p := range transfer.Presets {
		opts = append(opts, views.PresetOption{
			Value:       string(p),
			Label:       presetLabel(l, string(p)),
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

func statusView(l i18n.Lang, m store.Migration) views.Status {
	return views.Status{
		Code:      string(m.Status),
		Label:     i18n.T(l, "web.status."+string(m.Status)),
		Validated: m.ValidatedCount,
		Total:     m.LineCount,
	}
}

func lineStatusLabel(l i18n.Lang, s store.LineStatus) string {
	return i18n.T(l, "web.line."+string(s))
}

func runStatusLabel(l i18n.Lang, s store.RunStatus) string {
	return i18n.T(l, "web.status."+string(s))
}
