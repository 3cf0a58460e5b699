package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func TestNilMetricsDoNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.MailboxStarted()
	m.MailboxEnded(store.MailboxCompleted)
	m.Copied(3, 100)
	m.MailboxFailure("auth")
	m.ValidationLogin("remote", "ok")
	m.CollectJobs(nil, 0)
	require.Nil(t, m.Registry())
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestCounters(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.MailboxStarted()
	m.MailboxStarted()
	m.MailboxEnded(store.MailboxCompleted)
	m.MailboxEnded(store.MailboxFailed)
	m.MailboxEnded(store.MailboxFailed)
	m.Copied(5, 5000)
	m.Copied(0, 0)
	m.Copied(2, 700)
	m.MailboxFailure("timeout")
	m.MailboxFailure("dest_full")
	m.ValidationLogin("destination", metrics.ResultOK)
	m.ValidationLogin("remote", "auth")
	m.ValidationLogin("remote", "auth")

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP trasloco_bytes_copied_total Bytes of the messages appended to the destination.
# TYPE trasloco_bytes_copied_total counter
trasloco_bytes_copied_total 5700
# HELP trasloco_mailboxes_ended_total Mailbox copies ended, by outcome (completed, completed_with_errors, failed).
# TYPE trasloco_mailboxes_ended_total counter
trasloco_mailboxes_ended_total{outcome="completed"} 1
trasloco_mailboxes_ended_total{outcome="completed_with_errors"} 0
trasloco_mailboxes_ended_total{outcome="failed"} 2
# HELP trasloco_mailboxes_started_total Mailbox copies started (the first attempt of a mailbox in a run).
# TYPE trasloco_mailboxes_started_total counter
trasloco_mailboxes_started_total 2
# HELP trasloco_messages_copied_total Messages appended to the destination.
# TYPE trasloco_messages_copied_total counter
trasloco_messages_copied_total 7
`), "trasloco_bytes_copied_total", "trasloco_mailboxes_ended_total", "trasloco_mailboxes_started_total", "trasloco_messages_copied_total"))

	body := scrape(t, m.Handler(nil))
	for _, want := range []string{
		`trasloco_mailbox_failures_total{reason="dest_full"} 1`,
		`trasloco_mailbox_failures_total{reason="timeout"} 1`,
		`trasloco_validation_logins_total{result="ok",side="destination"} 1`,
		`trasloco_validation_logins_total{result="auth",side="remote"} 2`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		require.Contains(t, body, want)
	}
}

func TestJobsByKindAndState(t *testing.T) {
	t.Parallel()
	pool := testenv.NewTestDB(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO river_job (kind, args, max_attempts, queue, state)
		VALUES ('mailbox_copy', '{}', 5, 'transfer', 'running'), ('mailbox_copy', '{}', 5, 'transfer', 'running'),
			('mailbox_copy', '{}', 5, 'transfer', 'available'), ('migration_run', '{}', 5, 'transfer', 'scheduled')`)
	require.NoError(t, err)
	m := metrics.New(nil)
	m.CollectJobs(pool, 0)
	body := scrape(t, m.Handler(nil))
	for _, want := range []string{
		`trasloco_river_jobs{kind="mailbox_copy",state="running"} 2`,
		`trasloco_river_jobs{kind="mailbox_copy",state="available"} 1`,
		`trasloco_river_jobs{kind="mailbox_copy",state="retryable"} 0`,
		`trasloco_river_jobs{kind="migration_run",state="scheduled"} 1`,
		`trasloco_river_jobs{kind="migration_run",state="completed"} 0`,
	} {
		require.Contains(t, body, want)
	}

	// A job moves on: the next scrape sees it.
	_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'retryable' WHERE kind = 'migration_run'`)
	require.NoError(t, err)
	body = scrape(t, m.Handler(nil))
	require.Contains(t, body, `trasloco_river_jobs{kind="migration_run",state="scheduled"} 0`)
	require.Contains(t, body, `trasloco_river_jobs{kind="migration_run",state="retryable"} 1`)

	// The database gone, the scrape still serves the rest.
	pool.Close()
	m.MailboxStarted()
	body = scrape(t, m.Handler(nil))
	require.Contains(t, body, "trasloco_mailboxes_started_total 1")
	require.NotContains(t, body, "trasloco_river_jobs{")
}
