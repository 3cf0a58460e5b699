package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bytes shows a size the way a person reads it: "512 B", "1,5 MB" (a
// decimal comma in Italian). The values are binary (1 MB = 1024 KB), like
// the 30 MB limit the copy applies, and named KB, MB, GB as customers know
// them: one unit system everywhere. The panel and the emails both use it.
func Bytes(l Lang, n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KB", "MB", "GB", "TB"}
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
	if l != English {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + units[u]
}

// Duration shows how long something took: "45 s", "3 min 05 s",
// "2 h 07 min" (the same in both languages); "" for a negative one.
func Duration(d time.Duration) string {
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

// Int groups thousands: "12.345" in Italian, "12,345" in English.
func Int(l Lang, n int) string {
	sep := "."
	if l == English {
		sep = ","
	}
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Zone names a time zone in words: "ora italiana" for Europe/Rome, else
// "ora di London" ("London time"), from the IANA name's city.
func Zone(l Lang, tz string) string {
	switch tz {
	case "Europe/Rome", "Europe/Vatican", "Europe/San_Marino":
		return T(l, "zone.italy")
	case "UTC", "Etc/UTC", "":
		return T(l, "zone.utc")
	}
	city := tz
	if i := strings.LastIndex(city, "/"); i >= 0 {
		city = city[i+1:]
	}
	return T(l, "zone.city", strings.ReplaceAll(city, "_", " "))
}

// N is T for a count: key+".one" when n is 1 and that message exists, so
// "1 messaggio" rather than "1 messaggi". The count is the first argument,
// grouped as by Int.
func N(l Lang, key string, n int, args ...any) string {
	if n == 1 && Has(key+".one") {
		key += ".one"
	}
	return T(l, key, append([]any{Int(l, n)}, args...)...)
}
