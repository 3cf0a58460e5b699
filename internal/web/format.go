package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
)

// formatBytes shows a size the way a person reads it: "512 B", "1,5 MiB"
// (a decimal comma in Italian). Units are binary, like the 30 MiB limit
// the copy applies.
func formatBytes(l i18n.Lang, n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	v := float64(n) / 1024
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v >= 100 {
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	s = strings.TrimSuffix(s, ".0")
	if l != i18n.English {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + units[u]
}

// formatDuration shows how long something took: "45 s", "3 min 05 s",
// "2 h 07 min"; "" for a negative one.
func formatDuration(d time.Duration) string {
	if d < 0 {
		return ""
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, s)
	default:
		return fmt.Sprintf("%d s", s)
	}
}

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
