package transfer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLaneCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		most  int
		sizes []int
		want  int
	}{
		{"no folders", 2, nil, 1},
		{"one big folder", 2, []int{5000}, 1},
		{"one big folder and crumbs", 2, []int{5000, 30, 20, 10}, 1},
		{"small mailbox", 2, []int{8, 4, 4, 2, 2}, 1},
		{"two halves", 2, []int{300, 300}, 2},
		{"bench layout", 2, []int{1500, 700, 400, 400, 500, 500, 300, 300}, 2},
		{"lanes capped", 2, []int{1000, 1000, 1000, 1000}, 2},
		{"three lanes when there is enough beside the largest", 3, []int{1000, 1000, 1000}, 3},
		{"three allowed, two pay", 3, []int{1000, 250}, 2},
		{"one lane asked", 1, []int{1000, 1000}, 1},
		{"empty folders do not make lanes", 3, []int{300, 300, 0, 0}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, laneCount(tt.most, tt.sizes))
		})
	}
}

func TestLaneSlots(t *testing.T) {
	t.Parallel()
	s := &laneSlots{}
	s.hold(1)                         // a Run alone
	require.Equal(t, 1, s.take(1, 2)) // gets its second lane
	s.hold(1)                         // another Run starts meanwhile
	require.Equal(t, 0, s.take(1, 2), "no extra lane while the process has as many as CPUs")
	s.hold(-1) // the first Run's extra lane ends
	require.Equal(t, 1, s.take(3, 3), "only up to the cap")
	s.hold(-1)
	s.hold(-1)
	s.hold(-1)
	require.Equal(t, 0, s.used)
}
