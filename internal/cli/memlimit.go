package cli

import (
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/trasloco/trasloco/internal/config"
)

// applyMemoryLimit gives the Go runtime the soft memory limit of serve and
// worker: GOMEMLIMIT when it is set (the runtime read it at start; it is
// left alone), else cfg.MemoryLimit (TRASLOCO_MEMORY_LIMIT, default 1GiB).
// It returns the limit in force.
func applyMemoryLimit(getenv func(string) string, cfg config.Config, logger *slog.Logger) int64 {
	if v := getenv("GOMEMLIMIT"); v != "" {
		n := debug.SetMemoryLimit(-1)
		logger.Info("memory limit", "memory_limit", n, "from", "GOMEMLIMIT")
		return n
	}
	debug.SetMemoryLimit(cfg.MemoryLimit)
	if cfg.MemoryLimit == math.MaxInt64 {
		logger.Info("memory limit", "memory_limit", "off", "from", config.EnvMemoryLimit)
	} else {
		logger.Info("memory limit", "memory_limit", cfg.MemoryLimit, "from", config.EnvMemoryLimit)
	}
	return cfg.MemoryLimit
}
