package web

import (
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxHistory is how many entries of a migration's history its page shows.
const maxHistory = 50

// historyView renders a migration's history in l, newest first (its
// creation is the first entry, store.EventCreated).
func historyView(l i18n.Lang, loc *time.Location, events []store.MigrationEvent) []views.HistoryRow {
	rows := make([]views.HistoryRow, 0, len(events))
	for _, e := range events {
		who := e.Actor.Email
		if who == "" {
			who = i18n.T(l, "web.history.system")
		}
		if e.Actor.Operator {
			who = i18n.T(l, "web.history.operator", who)
		}
		rows = append(rows, views.HistoryRow{At: formatTime(l, e.At, loc), Who: who, What: eventText(l, e)})
	}
	return rows
}

// eventText is what an entry of the history says.
func eventText(l i18n.Lang, e store.MigrationEvent) string {
	switch e.Action {
	case store.EventEdited:
		fields := make([]string, len(e.Details))
		for i, f := range e.Details {
			fields[i] = i18n.T(l, "web.history.field."+f)
		}
		return i18n.T(l, "web.history.edited", strings.Join(fields, ", "))
	case store.EventLineRemoved:
		if len(e.Details) == 2 {
			return i18n.T(l, "web.history.line_removed", e.Details[0], e.Details[1])
		}
	case store.EventLinesAdded, store.EventLinesReplaced, store.EventRetried, store.EventRunAdded:
		if len(e.Details) == 1 {
			return i18n.T(l, "web.history."+e.Action, e.Details[0])
		}
	}
	return i18n.T(l, "web.history."+e.Action)
}
