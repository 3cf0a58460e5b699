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
