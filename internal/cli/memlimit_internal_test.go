package cli

import (
	"bytes"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
)

// The limit serve and worker run under: TRASLOCO_MEMORY_LIMIT when
// GOMEMLIMIT is not set, GOMEMLIMIT (as the runtime read it) when it is.
// Not parallel: the limit belongs to the process.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))

	none := func(string) string { return "" }
	got := applyMemoryLimit(none, config.Config{MemoryLimit: 640 << 20}, logger)
	require.Equal(t, int64(640<<20), got)
	require.Equal(t, int64(640<<20), debug.SetMemoryLimit(-1), "the runtime's limit")
	require.Contains(t, logs.String(), `"memory_limit":671088640`)
	require.Contains(t, logs.String(), config.EnvMemoryLimit)

	// GOMEMLIMIT set: what the runtime has (here the limit above, standing
	// in for what it read at start) is kept, TRASLOCO_MEMORY_LIMIT ignored.
	debug.SetMemoryLimit(300 << 20)
	gomem := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	}
	logs.Reset()
	got = applyMemoryLimit(gomem, config.Config{MemoryLimit: 2 << 30}, logger)
	require.Equal(t, int64(300<<20), got)
	require.Equal(t, int64(300<<20), debug.SetMemoryLimit(-1))
	require.Contains(t, logs.String(), `"from":"GOMEMLIMIT"`)
}

// A trasloco copy collects at copyGCPercent unless GOGC says otherwise,
// under the memory limit serve and worker have. Not parallel: both belong
// to the process.
func TestApplyCopyGC(t *testing.T) {
	gc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}

	percent, got, err := applyCopyGC(env())
	require.NoError(t, err)
	require.Equal(t, copyGCPercent, percent)
	require.Equal(t, copyGCPercent, debug.SetGCPercent(copyGCPercent), "the runtime's GOGC")
	require.Equal(t, int64(config.DefaultMemoryLimit), got)
	require.Equal(t, int64(config.DefaultMemoryLimit), debug.SetMemoryLimit(-1))

	_, got, err = applyCopyGC(env(config.EnvMemoryLimit, "256MiB"))
	require.NoError(t, err)
	require.Equal(t, int64(256<<20), got)

	_, _, err = applyCopyGC(env(config.EnvMemoryLimit, "lots"))
	require.ErrorContains(t, err, config.EnvMemoryLimit)

	// GOGC and GOMEMLIMIT set: what the runtime has (here set by hand,
	// standing in for what it read at start) is kept.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(300 << 20)
	percent, got, err = applyCopyGC(env("GOGC", "150", "GOMEMLIMIT", "300MiB", config.EnvMemoryLimit, "2GiB"))
	require.NoError(t, err)
	require.Equal(t, 150, percent)
	require.Equal(t, 150, debug.SetGCPercent(150))
	require.Equal(t, int64(300<<20), got)
}
