package transfer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMatch is the verification's comparison, case by case.
func TestMatch(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := func(uid uint32, key string, size int64, f fate) (entry, header) {
		m := meta{uid: uid, size: size, date: t0.Add(time.Duration(uid) * time.Minute), flags: []string{`\Seen`}}
		return entry{m: m, f: f}, header{uid: uid, key: key, size: size, internal: m.date}
	}
	dst := func(uid uint32, key string, size int64, srcUID uint32, flags ...string) header {
		return header{uid: uid, key: key, size: size, internal: t0.Add(time.Duration(srcUID) * time.Minute), flags: flags}
	}
	type msg struct {
		uid  uint32
		key  string
		size int64
		f    fate
	}
	build := func(ms ...msg) (map[uint32]entry, map[uint32]header) {
		led, hs := map[uint32]entry{}, map[uint32]header{}
		for _, m := range ms {
			e, h := src(m.uid, m.key, m.size, m.f)
			led[m.uid], hs[m.uid] = e, h
		}
		return led, hs
	}
	rec := func(pairs ...uint32) FolderState {
		st := FolderState{Messages: map[uint32]Copied{}}
		for i := 0; i < len(pairs); i += 2 {
			st.Messages[pairs[i]] = Copied{DestUID: pairs[i+1], Flags: []string{`\Seen`}}
		}
		return st
	}
	p := FolderPlan{Source: "INBOX", Dest: "INBOX"}

	t.Run("all there", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied}, msg{2, "id:b", 200, fateAlready})
		m := match(p, led, rec(1, 11, 2, 12), hs, []header{dst(11, "id:a", 100, 1), dst(12, "id:b", 200, 2)}, nil)
		require.Equal(t, 2, m.expected)
		require.Equal(t, 2, m.verified)
		require.Empty(t, m.missing)
		require.Empty(t, m.duplicates)
	})
	t.Run("the checkpoint's UID gone, found by Message-ID, size and date elsewhere", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		m := match(p, led, rec(1, 11), hs, []header{dst(40, "id:a", 100, 1)}, nil)
		require.Equal(t, 1, m.verified)
	})
	t.Run("the recorded UID gone, another size elsewhere: missing, and its record forgotten", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		m := match(p, led, rec(1, 11), hs, []header{dst(40, "id:a", 101, 1)}, nil)
		require.Zero(t, m.verified)
		require.Len(t, m.missing, 1)
		require.Equal(t, ReasonNotAtDest, m.missing[0].Reason)
		require.Equal(t, []uint32{1}, m.forget)
	})
	t.Run("the recorded UID there with another size (an estimating server): present", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		m := match(p, led, rec(1, 11), hs, []header{dst(11, "id:a", 117, 1)}, nil)
		require.Equal(t, 1, m.verified)
		require.Empty(t, m.forget)
	})
	t.Run("the recorded UID holds another message: missing, record kept", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		m := match(p, led, rec(1, 11), hs, []header{dst(11, "id:zzz", 100, 1)}, nil)
		require.Len(t, m.missing, 1)
		require.Empty(t, m.forget, "copying it again could make a duplicate")
	})
	t.Run("no UID recorded and not found: missing, record kept", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		m := match(p, led, rec(1, 0), hs, nil, nil)
		require.Len(t, m.missing, 1)
		require.Empty(t, m.forget)
	})
	t.Run("two identical source messages need two copies", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied}, msg{2, "id:a", 100, fateCopied})
		hs[2] = header{uid: 2, key: "id:a", size: 100, internal: hs[1].internal}
		e := led[2]
		e.m.date = led[1].m.date
		led[2] = e
		m := match(p, led, rec(1, 11), hs, []header{dst(11, "id:a", 100, 1)}, nil)
		require.Equal(t, 1, m.verified)
		require.Len(t, m.missing, 1)
		require.Equal(t, uint32(2), m.missing[0].UID)
	})
	t.Run("a duplicate: removable only when it carries no flag of its own", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied}, msg{2, "id:b", 100, fateCopied})
		m := match(p, led, rec(1, 11, 2, 12), hs, []header{
			dst(11, "id:a", 100, 1, `\Seen`), dst(12, "id:b", 100, 2),
			dst(13, "id:a", 100, 1, `\Seen`), dst(14, "id:b", 100, 2, `\Flagged`),
		}, nil)
		require.Len(t, m.duplicates, 2)
		require.Equal(t, []uint32{13}, m.removable)
	})
	t.Run("a message recorded in the checkpoint is never a duplicate", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateCopied})
		// 12 is recorded for a source message no longer listed.
		st := rec(1, 11, 9, 12)
		m := match(p, led, st, hs, []header{dst(11, "id:a", 100, 1), dst(12, "id:a", 100, 1)}, nil)
		require.Empty(t, m.duplicates)
	})
	t.Run("no Message-ID: never a duplicate", func(t *testing.T) {
		led, hs := build(msg{1, "h:x", 100, fateCopied})
		m := match(p, led, rec(1, 11), hs, []header{dst(11, "h:x", 100, 1), dst(12, "h:x", 100, 1)}, nil)
		require.Equal(t, 1, m.verified)
		require.Empty(t, m.duplicates)
	})
	t.Run("deleted by the customer after an earlier run", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateAlready}, msg{2, "id:b", 100, fateAlready}, msg{3, "id:c", 100, fateCopied})
		st := rec(1, 11, 2, 12, 3, 13)
		for _, u := range []uint32{1, 2} {
			c := st.Messages[u]
			c.Earlier = true
			st.Messages[u] = c
		}
		m := match(p, led, st, hs, []header{dst(11, "id:a", 100, 1), dst(13, "id:c", 100, 3)}, nil)
		require.Equal(t, 1, m.expected, "held to what this run brought")
		require.Equal(t, 1, m.verified)
		require.Equal(t, 1, m.still)
		require.Equal(t, 1, m.deleted)
		require.Empty(t, m.missing)
	})
	t.Run("failed and too large", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateFailed}, msg{2, "id:big", 999, fateTooLarge}, msg{3, "id:g", 5, fateGone})
		m := match(p, led, rec(), hs, []header{dst(20, "id:big", 999, 2)}, map[uint32]string{1: ReasonNotDelivered})
		require.Equal(t, 1, m.expected)
		require.Len(t, m.missing, 1)
		require.Equal(t, ReasonNotDelivered, m.missing[0].Reason)
		require.Len(t, m.excluded, 1)
		require.Equal(t, uint32(2), m.excluded[0].UID)
	})
	t.Run("flags not brought", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateAlready})
		st := rec(1, 11)
		st.Messages[1] = Copied{DestUID: 11, Flags: nil}
		m := match(p, led, st, hs, []header{dst(11, "id:a", 100, 1)}, nil)
		require.Equal(t, 1, m.flagsBehind)
	})
	t.Run("Gmail's All Mail: a message brought through a label is not held to", func(t *testing.T) {
		led, hs := build(msg{1, "id:a", 100, fateAlready})
		m := match(FolderPlan{Source: "[Gmail]/All Mail", Dest: "Archive", OnlyUnlabelled: true}, led, rec(), hs, nil, nil)
		require.Zero(t, m.expected)
		require.Empty(t, m.missing)
	})
}
