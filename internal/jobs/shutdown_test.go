package jobs_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// metricsText waits for the metrics listener at addr and returns /metrics.
func metricsText(t *testing.T, addr string) string {
	t.Helper()
	var body string
	waitFor(t, 20*time.Second, "the metrics listener", func() (bool, string) {
		res, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		body = string(b)
		return err == nil && res.StatusCode == http.StatusOK, fmt.Sprint(res.StatusCode, err)
	})
	return body
}

func TestWorkerStopsOnSIGTERMAndTheCopyResumes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	c := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, c, "INBOX", msgList(190, 0, 120, 12000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgList(191, 0, 60, 12000)...)
	proxy := slowProxy(t, f.src.TLSAddr(), 400<<10)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, proxy, anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	metricsAddr := closedPort(t)
	env := f.workerEnv(t, "TRASLOCO_WORKERS=2")
	a := f.startWorker(t, append(env, "TRASLOCO_METRICS_LISTEN="+metricsAddr))
	run := f.scheduleNow(t, m)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	lineID := lines[0].ID

	waitFor(t, time.Minute, "part of the mailbox copied", func() (bool, string) {
		n := countCopied(t, f, lineID)
		return n >= 20, fmt.Sprintf("%d copied", n)
	})
	// The worker's own metrics see the copy going on.
	body := metricsText(t, metricsAddr)
	require.Contains(t, body, "trasloco_mailboxes_started_total 1")
	require.Contains(t, body, `trasloco_river_jobs{kind="mailbox_copy",state="running"} 1`)
	require.NotContains(t, body, "trasloco_messages_copied_total 0\n")

	// SIGTERM: the copy pauses and the process exits well before the
	// 30s the other jobs would get.
	sent := time.Now()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the worker did not exit within 15s of SIGTERM:\n%s", a.logs.String())
	}
	took := time.Since(sent)
	require.Less(t, took, 10*time.Second)
	require.Equal(t, 0, a.cmd.ProcessState.ExitCode(), a.logs.String())
	logs := a.logs.String()
	require.Contains(t, logs, `"msg":"mailbox: paused for shutdown"`)
	require.Contains(t, logs, `"msg":"stopped"`)
	t.Logf("the worker exited %s after SIGTERM", took.Round(time.Millisecond))

	// It left its checkpoints and progress written, and the job waiting
	// for the next worker (snoozed, not failed).
	before := countCopied(t, f, lineID)
	require.Less(t, before, 180, "SIGTERM came before the end")
	mb := f.mailboxes(t, run.ID)[anna]
	require.Equal(t, store.MailboxRunning, mb.Status)
	require.Equal(t, before, mb.Copied, "progress flushed: every copied message counted and recorded")
	require.Contains(t, f.logText(t, mb.ID), "the worker is stopping")
	var state string
	var errs int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT state::text, coalesce(array_length(errors, 1), 0) FROM river_job
		WHERE kind = 'mailbox_copy' AND (args->>'mailbox_run_id')::bigint = $1`, mb.ID).Scan(&state, &errs))
	require.Contains(t, []string{"scheduled", "available"}, state)
	require.Zero(t, errs, "a pause is not a failed attempt")

	// The next worker finishes it: nothing lost, nothing twice.
	f.startWorker(t, env)
	r := f.waitRun(t, run.ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	mb = f.mailboxes(t, run.ID)[anna]
	require.Equal(t, store.MailboxCompleted, mb.Status)
	// A message in flight at the pause may have reached the destination
	// unconfirmed: the next attempt recognises it by Message-ID and counts
	// it as already there; either way no message is there twice.
	require.Equal(t, 180, mb.Copied+mb.AlreadyThere)
	require.GreaterOrEqual(t, mb.Copied, before)
	require.Equal(t, 180, countCopied(t, f, lineID))
	sc := f.src.Dial(t, anna, "pw-anna")
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti"}))
	require.False(t, strings.Contains(logs, "pw-anna"), "no password in the worker's log")
}
