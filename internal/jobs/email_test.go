package jobs_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// The completion email through a real SMTP server (Mailpit) whose first
// connection is dropped: the failure is recorded on the run (the panel
// shows it), River retries, and the email arrives once.
func TestRunEmailFailsThenIsRetried(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	notifyTo := f.uniqueNotify(t)
	mp := testenv.SharedMailpit(t)
	smtp := newFlakyProxy(t, mp.SMTPAddr())
	smtp.failing.Store(1)
	host, port, err := net.SplitHostPort(smtp.addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	mailer, err := notify.NewMailer(config.SMTP{Host: host, Port: p, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	f.deps.Mailer = mailer
	rc := f.client(t, 2)

	anna := f.user(t, "pw-anna", true)
	f.seedMailbox(t, anna, "pw-anna", 300, false)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)
	f.startNow(t, rc, runs[0])
	f.waitRun(t, runs[0].ID, 2*time.Minute)

	sawError := false
	waitFor(t, time.Minute, "email sent after a failed attempt", func() (bool, string) {
		r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
		require.NoError(t, err)
		if r.EmailError != "" {
			sawError = true
			require.Contains(t, r.EmailError, "send run email")
			require.NotContains(t, r.EmailError, "pw-anna")
		}
		return r.EmailSentAt != nil, fmt.Sprintf("sent %v, error %q", r.EmailSentAt, r.EmailError)
	})
	require.EqualValues(t, 1, smtp.dropped.Load(), "the first connection was dropped")
	require.True(t, sawError, "the failed send was recorded on the run")
	r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
	require.NoError(t, err)
	require.Empty(t, r.EmailError, "cleared once sent")

	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	got := mp.WaitMessages(ctx, t, "to:"+notifyTo, 1)
	require.Len(t, got, 1)
	require.Contains(t, got[0].Text, anna)
	time.Sleep(time.Second)
	again, err := mp.Search(f.ctx, "to:"+notifyTo)
	require.NoError(t, err)
	require.Len(t, again, 1, "sent once")
}
