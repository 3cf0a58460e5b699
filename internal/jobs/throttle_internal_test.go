package jobs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/transfer"
)

// Whatever back-off the old server names (nothing, a negative or an absurd
// time, a daily limit), an account waits at least a second and at most
// ThrottleMax: a hostile server cannot hold its mailboxes for ever.
func TestThrottleWaitBounded(t *testing.T) {
	t.Parallel()
	d := Deps{ThrottleWait: 2 * time.Minute, ThrottleMax: time.Hour}
	for _, tc := range []struct {
		name string
		te   transfer.ThrottledError
		want time.Duration
	}{
		{"as suggested", transfer.ThrottledError{Wait: 90 * time.Second}, 90 * time.Second},
		{"none named", transfer.ThrottledError{}, 2 * time.Minute},
		{"negative", transfer.ThrottledError{Wait: -time.Hour}, 2 * time.Minute},
		{"too short", transfer.ThrottledError{Wait: time.Millisecond}, time.Second},
		{"31 years (999999999 seconds)", transfer.ThrottledError{Wait: 999999999 * time.Second}, time.Hour},
		{"the longest duration", transfer.ThrottledError{Wait: time.Duration(1<<63 - 1)}, time.Hour},
		{"daily limit", transfer.ThrottledError{Daily: true}, time.Hour},
	} {
		require.Equal(t, tc.want, d.throttleWait(&tc.te), tc.name)
	}
}
