package transfer

import "github.com/trasloco/trasloco/internal/i18n"

// exclusionMsg is why a folder is not copied (FolderPlan.Excluded) as a
// message of the log catalog.
func exclusionMsg(excl string) i18n.Msg {
	key, ok := map[string]string{
		ExclTrash:      "log.folder.excluded.trash",
		ExclJunk:       "log.folder.excluded.junk",
		ExclNoSelect:   "log.folder.excluded.noselect",
		ExclVirtual:    "log.folder.excluded.virtual",
		ExclNonMail:    "log.folder.excluded.non_mail",
		ExclShared:     "log.folder.excluded.shared",
		ExclParentSkip: "log.folder.excluded.in_skipped",
	}[excl]
	if !ok {
		return i18n.New("log.text", excl)
	}
	return i18n.New(key)
}

// reasonMsg is a FailReason code as the message the customer reads on
// Risorse (web.resources.reason.<code>).
func reasonMsg(code string) i18n.Msg {
	key := "web.resources.reason." + code
	if !i18n.Has(key) {
		key = "web.resources.reason.other"
	}
	return i18n.New(key)
}

// endpointMsg names e for the log, as Endpoint.String does: who logs in
// where, never a password.
func endpointMsg(e Endpoint) i18n.Msg {
	if e.AuthUser != "" {
		return i18n.New("log.conn.endpoint_master", e.User, e.AuthUser, e.Host)
	}
	return i18n.New("log.conn.endpoint", e.User, e.Host)
}

// Msg says which folder rules apply and why, as a message of the rules
// catalog: "Regole Gmail, anche se è stato scelto Standard-SSL:
// riconosciuto dal server (annuncia la capability X-GM-EXT-1)." The log
// stores it; the panel renders it (web's rulesText).
func (w RulesWhy) Msg(rules Preset) i18n.Msg {
	name := i18n.New("rules.name.standard")
	if rules.Provider() {
		name = i18n.New("log.text", rules.Label())
	}
	picked := w.Picked.Label()
	if w.Sign == "" {
		if w.Picked.Provider() {
			return i18n.New("rules.why.unconfirmed", name, picked, picked)
		}
		return i18n.New("rules.why.kept", name, picked)
	}
	sign := i18n.New("rules.sign." + w.Sign)
	if w.Arg != "" {
		sign = i18n.New("rules.sign."+w.Sign, w.Arg)
	}
	if w.Picked == rules {
		return i18n.New("rules.why.confirmed", name, picked, sign)
	}
	return i18n.New("rules.why.recognised", name, picked, sign)
}
