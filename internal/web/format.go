package web

import (
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
)

// formatLogTime is the time of a log line in the tenant's zone, to the second.
func formatLogTime(l i18n.Lang, t time.Time, loc *time.Location) string {
	if l == i18n.English {
		return t.In(loc).Format("2 Jan 2006 15:04:05")
	}
	return t.In(loc).Format("02/01/2006 15:04:05")
}

// optionalTime formats t, or returns "" when it is nil.
func optionalTime(l i18n.Lang, t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return formatTime(l, *t, loc)
}
