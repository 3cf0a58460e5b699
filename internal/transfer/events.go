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
