package config

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", DefaultMemoryLimit, false},
		{"1GiB", 1 << 30, false},
		{"768MiB", 768 << 20, false},
		{"2GB", 2 << 30, false},
		{" 1.5 GiB ", 3 << 29, false},
		{"536870912", 512 << 20, false},
		{"off", math.MaxInt64, false},
		{"OFF", math.MaxInt64, false},
		{"1MiB", 0, true},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"1PiB", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var errs []error
			got := memoryLimit(func(string) string { return tc.in }, func(err error) { errs = append(errs, err) })
			if tc.bad {
				require.Len(t, errs, 1)
				require.Contains(t, errs[0].Error(), EnvMemoryLimit)
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tc.want, got)
		})
	}
}
