package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bytes shows a size the way a person reads it: "512 B", "1,5 MiB" (a
// decimal comma in Italian). Units are binary, like the 30 MiB limit the
// copy applies. The panel and the emails both use it.
func Bytes(l Lang, n int64) string {
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
