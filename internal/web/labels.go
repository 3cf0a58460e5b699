package web

import (
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
