package jobs_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/store"
)

// The workers count what they do, and every log line of a mailbox names
// its tenant and migration and holds no password.
func TestRunMetricsAndLogs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	reg := prometheus.NewRegistry()
	f.deps.Metrics = metrics.New(reg)
	f.deps.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rc := f.client(t, 4)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", f.logs.String())
		}
	})
	anna := f.user(t, "pw-anna", true)
	bob := f.user(t, "pw-bob", true)
	f.seedMailbox(t, anna, "pw-anna", 30, false)
	f.seedMailbox(t, bob, "pw-bob", 40, false)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, f.src.TLSAddr(), anna, bob, f.src.TLSAddr(), bob)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)

	// Anna changes her password on the old server after the check: her
	// copy fails for "auth", Bob's completes.
	require.NoError(t, f.src.SetPassword(anna, "pw-anna-new"))
	time.Sleep(1100 * time.Millisecond) // Dovecot re-reads a passwd file at most once a second
	f.startNow(t, rc, runs[0])
	r := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompletedWithErrors, r.Status)
	mbs := f.mailboxes(t, runs[0].ID)
	require.Equal(t, store.MailboxFailed, mbs[anna].Status)
	require.Equal(t, store.MailboxCompleted, mbs[bob].Status)
	require.Equal(t, 19, mbs[bob].Copied)

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(`
# HELP trasloco_mailboxes_started_total Mailbox copies started (the first attempt of a mailbox in a run).
# TYPE trasloco_mailboxes_started_total counter
trasloco_mailboxes_started_total 2
# HELP trasloco_mailboxes_ended_total Mailbox copies ended, by outcome (completed, completed_with_errors, failed).
# TYPE trasloco_mailboxes_ended_total counter
trasloco_mailboxes_ended_total{outcome="completed"} 1
trasloco_mailboxes_ended_total{outcome="completed_with_errors"} 0
trasloco_mailboxes_ended_total{outcome="failed"} 1
# HELP trasloco_messages_copied_total Messages appended to the destination.
# TYPE trasloco_messages_copied_total counter
trasloco_messages_copied_total 19
# HELP trasloco_bytes_copied_total Bytes of the messages appended to the destination.
# TYPE trasloco_bytes_copied_total counter
trasloco_bytes_copied_total %d
`, mbs[bob].Bytes)), "trasloco_mailboxes_started_total", "trasloco_mailboxes_ended_total", "trasloco_messages_copied_total", "trasloco_bytes_copied_total"))
	body, err := testutil.CollectAndFormat(reg, expfmt.TypeTextPlain, "trasloco_mailbox_failures_total", "trasloco_validation_logins_total")
	require.NoError(t, err)
	for _, want := range []string{
		`trasloco_mailbox_failures_total{reason="auth"} 1`,
		`trasloco_validation_logins_total{result="ok",side="destination"} 2`,
		`trasloco_validation_logins_total{result="ok",side="remote"} 2`,
	} {
		require.Contains(t, string(body), want)
	}

	// The log: JSON lines; every line about a mailbox run names its
	// tenant and migration; no password anywhere.
	logs := f.logs.String()
	for _, secret := range []string{"pw-anna", "pw-bob", f.dst.MasterPassword()} {
		require.NotContains(t, logs, secret)
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	mailboxLines := 0
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		if _, ok := line["mailbox_run_id"]; !ok {
			continue
		}
		mailboxLines++
		require.Contains(t, line, "tenant_id", sc.Text())
		require.Contains(t, line, "migration_id", sc.Text())
	}
	require.NoError(t, sc.Err())
	require.Positive(t, mailboxLines)
}
