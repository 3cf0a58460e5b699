package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// hostileMailbox is a scripted old server (implicit TLS) for one user: an
// INBOX of 6 and a folder Lavoro of 2.
func hostileMailbox(t *testing.T, user string, faults testenv.HostileFaults) *testenv.Hostile {
	t.Helper()
	msgs := make([]testenv.Msg, 6)
	for i := range msgs {
		msgs[i] = testenv.BuildMessage(300, i, 3000)
	}
	return testenv.StartHostile(t, testenv.HostileOptions{User: user, Password: "pw-hostile", TLS: true, Faults: faults},
		testenv.HostileFolder{Name: "INBOX", Messages: testenv.HostileMessages(msgs...)},
		testenv.HostileFolder{Name: "Lavoro", Messages: testenv.HostileMessages(testenv.BuildMessage(301, 0, 2000), testenv.BuildMessage(301, 1, 2000))})
}

// TestWorkerProcessSurvivesHostileServers — issue 9, "for the worst modes,
// a real trasloco worker process": one worker copies, in one run, a mailbox
// whose old server answers BODY[] NIL for UID 2 (a nil dereference today),
// one whose old server claims 4294967295 EXISTS (a fatal out of memory
// today), one whose old server leaves UID 3 out of the body FETCH (a
// silent hole today) and a normal Dovecot mailbox. The process survives
// (it is still running at the end, under the memory limit it logged); the
// run ends completed with errors; the NIL and left-out mailboxes end
// completed with errors with the one message listed for the customer and
// their passwords kept for "Riprova"; the others are complete; nothing is
// written to the old servers.
func TestWorkerProcessSurvivesHostileServers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	normal := f.user(t, "pw-normal", true)
	testenv.Append(t, f.src.Dial(t, normal, "pw-normal"), "INBOX", msgList(310, 0, 5, 3000)...)

	nilUser, bigUser, holeUser := f.user(t, "x", true), f.user(t, "x", true), f.user(t, "x", true)
	nilSrv := hostileMailbox(t, nilUser, testenv.HostileFaults{NilBodyUID: 2})
	bigSrv := hostileMailbox(t, bigUser, testenv.HostileFaults{Exists: 4294967295})
	holeSrv := hostileMailbox(t, holeUser, testenv.HostileFaults{OmitUID: 3})
	var csv strings.Builder
	for _, l := range []struct {
		user string
		srv  *testenv.Hostile
	}{{nilUser, nilSrv}, {bigUser, bigSrv}, {holeUser, holeSrv}} {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", l.user, l.srv.Addr(), l.user, l.srv.Password())
	}
	fmt.Fprintf(&csv, "%s;%s;%s;pw-normal\n", normal, f.src.TLSAddr(), normal)
	m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})

	p := f.startWorker(t, f.workerEnv(t, "TRASLOCO_WORKERS=2", "TRASLOCO_MEMORY_LIMIT=512MiB"))
	run := f.scheduleNow(t, m)
	alive := func() {
		select {
		case <-p.done:
			log := p.logs.String()
			if i := strings.Index(log, "panic: "); i >= 0 {
				log = log[i:]
			} else if i := strings.Index(log, "fatal error: "); i >= 0 {
				log = log[i:]
			}
			t.Fatalf("the worker process died (%v):\n%s", p.cmd.ProcessState, log[:min(len(log), 4000)])
		default:
		}
	}
	waitFor(t, 3*time.Minute, "run ended, worker alive", func() (bool, string) {
		alive()
		r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, run.ID)
		require.NoError(t, err)
		return r.Status == store.RunCompleted || r.Status == store.RunCompletedWithErrors, string(r.Status)
	})
	r := f.waitRun(t, run.ID, time.Minute)
	alive()
	require.Contains(t, p.logs.String(), `"memory_limit":536870912`, "the worker runs under TRASLOCO_MEMORY_LIMIT")
	require.Equal(t, store.RunCompletedWithErrors, r.Status)

	mbs := f.mailboxes(t, run.ID)
	require.Equal(t, store.MailboxCompleted, mbs[normal].Status, "the other mailboxes go on")
	require.Equal(t, 5, mbs[normal].Copied)
	big := mbs[bigUser]
	require.Equal(t, store.MailboxCompleted, big.Status, "EXISTS is not what is there: %q", big.Reason(i18n.Italian))
	require.Equal(t, 8, big.Copied)

	for _, c := range []struct {
		user string
		uid  uint32
	}{{nilUser, 2}, {holeUser, 3}} {
		mb := mbs[c.user]
		require.Equal(t, store.MailboxCompletedWithErrors, mb.Status, "%s: %q\n%s", c.user, mb.Reason(i18n.Italian), f.logText(t, mb.ID))
		require.Equal(t, 8, mb.Found)
		require.Equal(t, 7, mb.Copied)
		require.Equal(t, 1, mb.Failed)
		skipped, err := store.ListSkippedMessages(f.ctx, f.pool, f.tenant.ID, mb.ID)
		require.NoError(t, err)
		require.Len(t, skipped, 1, "Risorse lists the message the old server did not deliver")
		require.Equal(t, "INBOX", skipped[0].Folder)
		require.EqualValues(t, c.uid, skipped[0].UID)
		require.NotEmpty(t, skipped[0].Reason)
		require.NotContains(t, f.logText(t, mb.ID), "pw-hostile")
	}
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		switch l.LocalUser {
		case nilUser, holeUser:
			require.NotNil(t, l.RemotePasswordEnc, "%s keeps its password for Riprova", l.LocalUser)
		default:
			require.Nil(t, l.RemotePasswordEnc, "%s is done: its password is erased", l.LocalUser)
		}
	}
	for _, s := range []*testenv.Hostile{nilSrv, bigSrv, holeSrv} {
		require.Empty(t, s.Writes(), "nothing is written to an old server")
	}
}
