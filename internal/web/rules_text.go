package web

import (
	"encoding/json"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/transfer"
)

// rulesText says in l which folder rules a copy follows and why (the
// old server's layout decides them, see transfer.RulesWhy): "Regole Gmail,
// anche se è stato scelto Standard-SSL: riconosciuto dal server (annuncia
// la capability X-GM-EXT-1)."
func rulesText(l i18n.Lang, rules transfer.Preset, why transfer.RulesWhy) string {
	return why.Msg(rules).Text(l)
}

// appliedRulesText is rulesText of what a mailbox run recorded (JSON of
// jobs.AppliedRules); "" when nothing usable was.
func appliedRulesText(l i18n.Lang, raw []byte) string {
	var a jobs.AppliedRules
	if len(raw) == 0 || json.Unmarshal(raw, &a) != nil || a.Rules == "" {
		return ""
	}
	return rulesText(l, a.Rules, a.Why)
}
