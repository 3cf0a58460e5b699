package transfer

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCountersPlusCoversEveryField: rewind takes back a lane's counters
// with plus, which must know every field of Counters.
func TestCountersPlusCoversEveryField(t *testing.T) {
	t.Parallel()
	var one Counters
	v := reflect.ValueOf(&one).Elem()
	for i := range v.NumField() {
		v.Field(i).SetInt(1)
	}
	got := Counters{}.plus(one, 1).plus(one, 1)
	g := reflect.ValueOf(got)
	for i := range g.NumField() {
		require.Equal(t, int64(2), g.Field(i).Int(), "Counters.%s", g.Type().Field(i).Name)
	}
	require.Equal(t, Counters{}, got.plus(one, -1).plus(one, -1))
}

// TestRewindTakesBackOnlyItsLane: a folder retried in one lane is counted
// again from scratch without losing what another lane counted meanwhile.
func TestRewindTakesBackOnlyItsLane(t *testing.T) {
	t.Parallel()
	root := newTally(NopReporter{})
	a, b := root.lane(), root.lane()
	ms := func(uids ...uint32) []meta {
		var out []meta
		for _, u := range uids {
			out = append(out, meta{uid: u, size: 10})
		}
		return out
	}
	a.mark()
	b.mark()
	a.open("A", ms(1, 2, 3))
	b.open("B", ms(1, 2))
	a.settle(meta{uid: 1, size: 10}, fateCopied, 10)
	b.settle(meta{uid: 1, size: 10}, fateCopied, 10)
	b.settle(meta{uid: 2, size: 10}, fateAlready, 0)
	a.rewind()
	res := root.result()
	require.Equal(t, 1, res.Folders)
	require.Equal(t, 2, res.Found)
	require.Equal(t, 1, res.Copied)
	require.Equal(t, 1, res.AlreadyThere)
	require.Equal(t, int64(10), res.Bytes)
	require.Equal(t, 2, root.done)
	require.Equal(t, 2, root.total)
	// B's ledger is untouched, A's is gone.
	require.Len(t, b.unsettled(), 0)
	require.Len(t, a.unsettled(), 0)
	require.Len(t, b.ledgerOf("B"), 2)
}
