package config

import (
	"math"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is the soft memory limit of serve and worker: the
// garbage collector works harder as the process nears it, so a burst of big
// messages (or a hostile server) slows a process down before it is killed.
const DefaultMemoryLimit = 1 << 30

// MemoryLimit reads TRASLOCO_MEMORY_LIMIT alone, as Load does: for
// `trasloco copy`, which loads no other configuration.
func MemoryLimit(getenv func(string) string) (int64, error) {
	var err error
	n := memoryLimit(getenv, func(e error) { err = e })
	return n, err
}

// memoryLimit reads TRASLOCO_MEMORY_LIMIT: a size with an optional unit
// (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB as powers of 1024 too), or
// "off" (math.MaxInt64: no limit).
func memoryLimit(get func(string) string, fail func(error)) int64 {
	v := get(EnvMemoryLimit)
	if v == "" {
		return DefaultMemoryLimit
	}
	if strings.EqualFold(v, "off") {
		return math.MaxInt64
	}
	n, ok := parseBytes(v)
	if !ok || n < 16<<20 {
		fail(bad(EnvMemoryLimit, "want a size of at least 16MiB such as 1GiB or 768MiB, or off; got %q", v))
		return DefaultMemoryLimit
	}
	return n
}

// parseBytes parses "1GiB", "768MiB", "2GB", "1048576".
func parseBytes(v string) (int64, bool) {
	t := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) >= math.MaxInt64 {
		return 0, false
	}
	return int64(f * float64(mult)), true
}
