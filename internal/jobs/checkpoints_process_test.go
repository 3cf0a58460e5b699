package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// destCount is how many messages the destination mailbox holds in folders.
func (f *fixture) destCount(t *testing.T, user string, folders ...string) int {
	t.Helper()
	dc := f.dst.Dial(t, user+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	defer dc.Close()
	n := 0
	for _, folder := range folders {
		st, err := dc.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			continue // not created yet
		}
		n += int(*st.NumMessages)
	}
	return n
}

// A worker writes its checkpoints with its counters and log once per
// TRASLOCO_FLUSH_INTERVAL; killed between two of those writes, the messages
// it had appended but not recorded are at the destination and not in the
// checkpoint. The next attempt must recognise them there: none copied
// twice, none lost, and the checkpoint complete at the end.
func TestWorkerKilledBetweenCheckpointBatches(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	c := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, c, "INBOX", msgList(190, 0, 120, 12000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgList(191, 0, 60, 12000)...)
	proxy := slowProxy(t, f.src.TLSAddr(), 400<<10)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, proxy, anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	// The first worker never flushes on its own: only an attempt's end
	// (its 3 s slice) writes the checkpoints.
	a := f.startWorker(t, f.workerEnv(t, "TRASLOCO_WORKERS=2", "TRASLOCO_MAILBOX_SLICE=3s", "TRASLOCO_FLUSH_INTERVAL=1h"))
	run := f.scheduleNow(t, m)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	lineID := lines[0].ID

	var recorded, there int
	waitFor(t, time.Minute, "messages at the destination the checkpoint does not record", func() (bool, string) {
		recorded = countCopied(t, f, lineID)
		there = f.destCount(t, anna, "INBOX", "Clienti")
		return there-recorded >= 10 && there < 170, fmt.Sprintf("%d recorded, %d at the destination", recorded, there)
	})
	a.kill(t)
	recorded = countCopied(t, f, lineID)
	there = f.destCount(t, anna, "INBOX", "Clienti")
	require.Less(t, recorded, there, "killed with a batch not written")
	require.Less(t, there, 180, "killed before the end")

	f.startWorker(t, f.workerEnv(t, "TRASLOCO_WORKERS=2", "TRASLOCO_MAILBOX_SLICE=3s"))
	r := f.waitRun(t, run.ID, 3*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	mb := f.mailboxes(t, run.ID)[anna]
	require.Equal(t, store.MailboxCompleted, mb.Status)
	require.Equal(t, 180, mb.Copied+mb.AlreadyThere)
	require.GreaterOrEqual(t, mb.AlreadyThere, there-recorded, "the unrecorded ones were recognised at the destination")
	require.Equal(t, 180, countCopied(t, f, lineID), "the checkpoint records every message in the end")
	require.Equal(t, 180, f.destCount(t, anna, "INBOX", "Clienti"))
	sc := f.src.Dial(t, anna, "pw-anna")
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti"}))
}
