package transfer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPartition(t *testing.T) {
	t.Parallel()
	m := func(uid uint32, size int64, flags ...string) meta {
		return meta{uid: uid, size: size, flags: flags}
	}
	st := FolderState{Messages: map[uint32]Copied{
		1: {DestUID: 11, Flags: []string{`\Seen`}},
		2: {DestUID: 12, Flags: []string{`\Seen`}},
		3: {DestUID: 0},  // recognised without a destination UID
		4: {DestUID: 14}, // copied by this Run, in an earlier attempt
		5: {DestUID: 15, Flags: nil},
	}}
	uids := func(ms []meta) []uint32 {
		out := []uint32{}
		for _, m := range ms {
			out = append(out, m.uid)
		}
		return out
	}
	tests := []struct {
		name                                      string
		metas                                     []meta
		copiedNow                                 map[uint32]int64
		decided                                   map[uint32]fate
		todo, large, already, now, flags, settled []uint32
	}{
		{name: "empty folder", todo: []uint32{}, large: []uint32{}, already: []uint32{}, now: []uint32{}, flags: []uint32{}},
		{
			name:  "new, too large, recorded, changed flags",
			metas: []meta{m(1, 10, `\Seen`), m(2, 10, `\Answered`, `\Seen`), m(3, 10, `\Flagged`), m(6, 10), m(7, 101), m(8, 100)},
			todo:  []uint32{6, 8}, large: []uint32{7}, already: []uint32{1, 2, 3}, now: []uint32{},
			flags: []uint32{2}, // 3 changed too, but its destination UID is unknown
		},
		{
			name:      "copied by this Run in an earlier attempt counts as copied, not as already there",
			metas:     []meta{m(4, 10), m(5, 10, `\Seen`), m(9, 10)},
			copiedNow: map[uint32]int64{4: 10},
			todo:      []uint32{9}, large: []uint32{}, already: []uint32{5}, now: []uint32{4}, flags: []uint32{5},
		},
		{
			name:  "a recorded message over the limit stays recorded",
			metas: []meta{m(1, 500, `\Seen`)},
			todo:  []uint32{}, large: []uint32{}, already: []uint32{1}, now: []uint32{}, flags: []uint32{},
		},
		{
			name:    "a fate decided earlier in this Run is not tried again, unless the checkpoint records the message",
			metas:   []meta{m(1, 10, `\Seen`), m(6, 10), m(7, 10), m(8, 10)},
			decided: map[uint32]fate{1: fateFailed, 6: fateFailed, 7: fateGone},
			todo:    []uint32{8}, large: []uint32{}, already: []uint32{1}, now: []uint32{}, flags: []uint32{}, settled: []uint32{6, 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := partition(tt.metas, st, tt.copiedNow, tt.decided, 100)
			require.Equal(t, tt.todo, uids(p.todo), "todo")
			require.Equal(t, tt.large, uids(p.tooLarge), "too large")
			require.Equal(t, tt.already, uids(p.already), "already")
			require.Equal(t, tt.now, uids(p.copiedNow), "copied now")
			require.Equal(t, tt.flags, uids(p.flagChanges), "flag changes")
			if tt.settled == nil {
				tt.settled = []uint32{}
			}
			require.Equal(t, tt.settled, uids(p.decided), "decided")
			require.Equal(t, len(tt.metas), len(p.todo)+len(p.tooLarge)+len(p.already)+len(p.copiedNow)+len(p.decided), "every message in exactly one part")
		})
	}
}

func TestSameMessage(t *testing.T) {
	t.Parallel()
	day := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	m := meta{uid: 1, size: 100, date: day}
	tests := []struct {
		name  string
		key   string
		cands []header
		want  int
	}{
		{"same Message-ID and size", "id:x", []header{{uid: 9, size: 100, internal: day.Add(time.Hour)}}, 0},
		{"same Message-ID, another size: another message", "id:x", []header{{uid: 9, size: 101, internal: day}}, -1},
		{"the one of the right size among several", "id:x", []header{{uid: 8, size: 90}, {uid: 9, size: 100}}, 1},
		{"header hash needs the same INTERNALDATE", "h:ab", []header{{uid: 9, size: 100, internal: day.Add(5 * time.Minute)}}, -1},
		{"header hash, same size and INTERNALDATE in another zone", "h:ab", []header{{uid: 9, size: 100, internal: day.In(time.FixedZone("CET", 3600))}}, 0},
		{"none", "id:x", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, sameMessage(m, tt.key, tt.cands))
		})
	}
}
