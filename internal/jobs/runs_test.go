package jobs_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// sentMail is one email the recording mailer was asked to send.
type sentMail struct {
	to     string
	report notify.RunReport
	msgID  string
}

// recMailer records the completion emails instead of sending them (the
// SMTP path is tested against Mailpit in internal/notify and end to end in
// internal/web, and a failed send in TestRunEmailFailsThenIsRetried).
type recMailer struct {
	mu   sync.Mutex
	sent []sentMail
}

func (m *recMailer) Send(ctx context.Context, to string, r notify.RunReport, msgID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMail{to: to, report: r, msgID: msgID})
	return nil
}

func (m *recMailer) all() []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sentMail(nil), m.sent...)
}

// runDeps sets the fixture up for runs: short timings, a recording mailer.
func (f *fixture) runDeps() *recMailer {
	mailer := &recMailer{}
	f.deps.Mailer = mailer
	f.deps.BaseURL = &url.URL{Scheme: "https", Host: "panel.provider.test"}
	f.deps.RetryBase = 200 * time.Millisecond
	f.deps.Poll = 200 * time.Millisecond
	f.deps.FlushInterval = 100 * time.Millisecond
	f.deps.MailboxSlice = time.Minute
	f.deps.MaxMessageSize = 64 << 10
	return mailer
}

// client starts a River client working every job with the fixture's deps.
func (f *fixture) client(t *testing.T, workers int) *river.Client[pgx.Tx] {
	t.Helper()
	rc, err := jobs.NewClient(f.deps, jobs.ClientOptions{Workers: workers, FetchPollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, rc.Start(f.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.StopAndCancel(ctx)
	})
	return rc
}

// validate inserts the validation of m and waits until it is scheduled.
func (f *fixture) validate(t *testing.T, rc *river.Client[pgx.Tx], m store.Migration) []store.Run {
	t.Helper()
	_, err := rc.Insert(f.ctx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: m.ID}, nil)
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "migration scheduled", func() (bool, string) {
		got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
		require.NoError(t, err)
		return got.Status == store.MigrationScheduled, fmt.Sprintf("status %s, lines: %v", got.Status, f.lineErrors(t, m))
	})
	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	return runs
}

// startNow makes a scheduled run's job due at once (River's JobRetry), as
// if its time had come.
func (f *fixture) startNow(t *testing.T, rc *river.Client[pgx.Tx], r store.Run) {
	t.Helper()
	_, err := rc.JobRetry(f.ctx, r.RiverJobID)
	require.NoError(t, err)
}

// waitRun waits until the run has ended (and its email job had a chance).
func (f *fixture) waitRun(t *testing.T, runID int64, timeout time.Duration) store.Run {
	t.Helper()
	var r store.Run
	waitFor(t, timeout, "run ended", func() (bool, string) {
		var err error
		r, err = store.GetRun(f.ctx, f.pool, f.tenant.ID, runID)
		require.NoError(t, err)
		mbs, err := store.ListRunMailboxes(f.ctx, f.pool, f.tenant.ID, runID)
		require.NoError(t, err)
		var b strings.Builder
		for _, mb := range mbs {
			fmt.Fprintf(&b, "[%s %s %d/%d %q] ", mb.LocalUser, mb.Status, mb.Done, mb.Total, mb.Reason(i18n.Italian))
		}
		return r.Status == store.RunCompleted || r.Status == store.RunCompletedWithErrors, fmt.Sprintf("run %s; %s", r.Status, b.String())
	})
	return r
}

var waitFor = testenv.WaitFor

// seedMailbox fills a Courier-like source mailbox: INBOX, a subfolder,
// Sent, Trash and Bulk (spam, not copied) and, when big, one message over
// the test size limit.
func (f *fixture) seedMailbox(t *testing.T, user, pw string, seed int64, big bool) {
	t.Helper()
	c := f.src.Dial(t, user, pw)
	testenv.Append(t, c, "INBOX", msgList(seed, 0, 12, 2000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgList(seed+1, 0, 4, 5000)...)
	testenv.Append(t, c, "INBOX.Sent", msgList(seed+2, 0, 3, 1500)...)
	testenv.Append(t, c, "INBOX.Trash", msgList(seed+3, 0, 2, 1500)...)
	testenv.Append(t, c, "INBOX.Bulk", msgList(seed+4, 0, 2, 1500)...)
	if big {
		testenv.Append(t, c, "INBOX.Clienti", testenv.BuildMessage(seed+5, 0, 100<<10))
	}
}

func msgList(seed int64, from, n, size int) []testenv.Msg {
	out := make([]testenv.Msg, n)
	for i := range out {
		out[i] = testenv.BuildMessage(seed, from+i, size)
	}
	return out
}

// copiedMapping is where seedMailbox's copied folders land.
var copiedMapping = map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Sent": "Sent"}

// requireCopied compares a source mailbox with its destination mailbox
// message by message and checks nothing went to Trash or Junk.
func (f *fixture) requireCopied(t *testing.T, user, pw string, bigSkipped bool) {
	t.Helper()
	sc := f.src.Dial(t, user, pw)
	dc := f.dst.Dial(t, user+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	mapping := copiedMapping
	if bigSkipped {
		// The big message is in the source's Clienti but must not be at
		// the destination: compare the rest, then look for it.
		mapping = map[string]string{"INBOX": "INBOX", "INBOX.Sent": "Sent"}
		sm, err := testenv.ReadFolder(sc, "INBOX.Clienti")
		require.NoError(t, err)
		dm, err := testenv.ReadFolder(dc, "Clienti")
		require.NoError(t, err)
		require.Len(t, dm, len(sm)-1, "Clienti: all but the big message")
		for id, m := range dm {
			require.Equal(t, sm[id].Sum, m.Sum, "Clienti message %s", id)
		}
	}
	require.NoError(t, testenv.SameMail(sc, dc, mapping))
	for _, junk := range []string{"Trash", "Junk"} {
		m, err := testenv.ReadFolder(dc, junk)
		require.NoError(t, err)
		require.Empty(t, m, "nothing may land in %s", junk)
	}
}

func (f *fixture) mailboxes(t *testing.T, runID int64) map[string]store.MailboxRun {
	t.Helper()
	mbs, err := store.ListRunMailboxes(f.ctx, f.pool, f.tenant.ID, runID)
	require.NoError(t, err)
	out := map[string]store.MailboxRun{}
	for _, mb := range mbs {
		out[mb.LocalUser] = mb
	}
	return out
}

func (f *fixture) logText(t *testing.T, mbID int64) string {
	t.Helper()
	lines, err := store.ListMailboxLogs(f.ctx, f.pool, f.tenant.ID, mbID)
	require.NoError(t, err)
	var b strings.Builder
	for _, l := range lines {
		// Both languages: the log is read in the reader's.
		fmt.Fprintf(&b, "%s %s %s %s | %s\n", l.At.Format(time.RFC3339), l.Level, l.Folder, l.Text(i18n.Italian), l.Text(i18n.English))
	}
	return b.String()
}

func TestRunsCopyEveryMailboxThenOnlyWhatIsNew(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mailer := f.runDeps()
	rc := f.client(t, 4)
	anna := f.user(t, "pw-anna", true)
	bob := f.user(t, "pw-bob", true)
	f.seedMailbox(t, anna, "pw-anna", 10, true)
	f.seedMailbox(t, bob, "pw-bob", 20, false)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, f.src.TLSAddr(), anna, bob, f.src.TLSAddr(), bob)
	first := time.Now().Add(time.Hour)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, second: true, first: first, secondAt: first.Add(2 * time.Hour)})
	runs := f.validate(t, rc, m)
	require.Len(t, runs, 2)

	// Run 1.
	f.startNow(t, rc, runs[0])
	r1 := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r1.Status)
	f.requireCopied(t, anna, "pw-anna", true)
	f.requireCopied(t, bob, "pw-bob", false)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationScheduled, got.Status, "between the runs the migration waits for run 2")

	mbs := f.mailboxes(t, runs[0].ID)
	a, b := mbs[anna], mbs[bob]
	require.Equal(t, store.MailboxCompleted, a.Status)
	require.Equal(t, 19, a.Copied, "12 INBOX + 4 Clienti + 3 Sent")
	require.Equal(t, 1, a.TooLarge)
	require.Equal(t, 20, a.Found)
	require.Equal(t, 2, a.ExcludedFolders, "Trash and Bulk")
	require.Equal(t, 19, b.Copied)
	require.Zero(t, b.TooLarge)
	require.Positive(t, a.Bytes)
	require.NotNil(t, a.StartedAt)
	require.NotNil(t, a.EndedAt)
	require.Equal(t, a.Total, a.Done)
	tot := f.requireTotalsEqualSum(t, m.ID)[runs[0].ID]
	require.Equal(t, 2, tot.Ended)
	require.Equal(t, 38, tot.Copied)
	require.Equal(t, 1, tot.TooLarge)

	skipped, err := store.ListSkippedMessages(f.ctx, f.pool, f.tenant.ID, a.ID)
	require.NoError(t, err)
	require.Len(t, skipped, 1)
	require.Equal(t, "INBOX.Clienti", skipped[0].Folder)
	require.NotEmpty(t, skipped[0].Subject)
	require.Greater(t, skipped[0].Size, int64(64<<10))

	logA := f.logText(t, a.ID)
	require.Contains(t, logA, "INBOX.Clienti")
	require.NotContains(t, logA, "pw-anna")

	waitFor(t, 30*time.Second, "run 1 email", func() (bool, string) { return len(mailer.all()) == 1, fmt.Sprint(len(mailer.all())) })
	mail := mailer.all()[0]
	require.Equal(t, "it@acme.test", mail.to)
	require.Equal(t, 1, mail.report.RunNo)
	require.Equal(t, "completed", mail.report.Status)
	require.Len(t, mail.report.Mailboxes, 2)
	require.Equal(t, fmt.Sprintf("https://panel.provider.test/migrations/%d/resources", m.ID), mail.report.ResourcesURL)
	outcome := map[string]notify.MailboxOutcome{}
	for _, o := range mail.report.Mailboxes {
		outcome[o.LocalUser] = o
	}
	require.Equal(t, 19, outcome[anna].Copied)
	require.Equal(t, 1, outcome[anna].TooLarge)
	r1, err = store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
	require.NoError(t, err)
	require.NotNil(t, r1.EmailSentAt)

	// Between the runs: new mail arrives and flags change at the source.
	sc := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, sc, "INBOX", msgList(10, 100, 3, 2500)...)
	testenv.Append(t, sc, "INBOX.Nuova", msgList(11, 0, 2, 1500)...)
	_, err = sc.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, sc.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close())

	// Run 2 copies only that.
	f.startNow(t, rc, runs[1])
	r2 := f.waitRun(t, runs[1].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r2.Status)
	mbs2 := f.mailboxes(t, runs[1].ID)
	require.Equal(t, 5, mbs2[anna].Copied, "3 new in INBOX and 2 in a new folder")
	require.Equal(t, 19, mbs2[anna].AlreadyThere)
	require.GreaterOrEqual(t, mbs2[anna].FlagsUpdated, 1)
	require.Zero(t, mbs2[bob].Copied)
	require.Equal(t, 19, mbs2[bob].AlreadyThere)
	require.Equal(t, 5, f.requireTotalsEqualSum(t, m.ID)[runs[1].ID].Copied)
	f.requireCopied(t, anna, "pw-anna", true)
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX.Nuova": "Nuova"}))

	waitFor(t, 30*time.Second, "run 2 email", func() (bool, string) { return len(mailer.all()) == 2, fmt.Sprint(len(mailer.all())) })
	require.Equal(t, 2, mailer.all()[1].report.RunNo)
	got, err = store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompleted, got.Status)

	// The last run is over: no password is kept.
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		require.Nil(t, l.RemotePasswordEnc, "line %d keeps its password", l.LineNo)
	}

	// Working a finished mailbox's job again (a duplicate delivery) copies
	// nothing and sends nothing.
	_, err = rc.Insert(f.ctx, jobs.MailboxArgs{TenantID: f.tenant.ID, MailboxRunID: a.ID}, nil)
	require.NoError(t, err)
	time.Sleep(time.Second)
	require.Len(t, mailer.all(), 2)
	require.Equal(t, 19, f.mailboxes(t, runs[0].ID)[anna].Copied)
	require.NotContains(t, f.logs.String(), "pw-anna")
}

// flakyProxy forwards to target, but while failing is set it closes every
// new connection at once (a server that drops us).
type flakyProxy struct {
	addr    string
	failing atomic.Int32 // connections still to drop
	dropped atomic.Int32
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	p := &flakyProxy{}
	p.addr = testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		if p.failing.Load() > 0 {
			p.failing.Add(-1)
			p.dropped.Add(1)
			return
		}
		testenv.ProxyPipe(c, up)
	})
	return p
}

func TestRunFailuresPassingRetriedLastingReportedThenRetriedByHand(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mailer := f.runDeps()
	rc := f.client(t, 4)
	anna := f.user(t, "pw-anna", true) // her password changes after the test login
	bob := f.user(t, "pw-bob", true)   // his server drops the first connections
	f.seedMailbox(t, anna, "pw-anna", 30, false)
	f.seedMailbox(t, bob, "pw-bob", 40, false)
	proxy := newFlakyProxy(t, f.src.TLSAddr())
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, f.src.TLSAddr(), anna, bob, proxy.addr, bob)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)

	require.NoError(t, f.src.SetPassword(anna, "changed-by-the-customer"))
	time.Sleep(1100 * time.Millisecond) // Dovecot re-reads a passwd file at most once a second
	proxy.failing.Store(2)
	f.startNow(t, rc, runs[0])
	r := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompletedWithErrors, r.Status)

	mbs := f.mailboxes(t, runs[0].ID)
	require.Equal(t, store.MailboxFailed, mbs[anna].Status)
	require.Contains(t, mbs[anna].Reason(i18n.Italian), "utente o password errati")
	require.Equal(t, 1, mbs[anna].Attempts, "a wrong password is not retried")
	require.Equal(t, store.MailboxCompleted, mbs[bob].Status)
	require.Equal(t, 3, mbs[bob].Attempts, "two dropped connections, then the copy")
	require.EqualValues(t, 2, proxy.dropped.Load())
	require.Contains(t, f.logText(t, mbs[bob].ID), "nuovo tentativo")
	f.requireCopied(t, bob, "pw-bob", false)

	waitFor(t, 30*time.Second, "email", func() (bool, string) { return len(mailer.all()) == 1, "" })
	rep := mailer.all()[0].report
	require.Equal(t, "completed_with_errors", rep.Status)
	// The email says why in the tenant's language, rendered from the
	// stored code.
	for _, o := range rep.Mailboxes {
		if o.LocalUser == anna {
			require.Contains(t, o.Error, "utente o password errati")
		}
	}
	// The failed mailbox keeps its password for a retry, the other not.
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		if l.LocalUser == anna {
			require.NotNil(t, l.RemotePasswordEnc)
		} else {
			require.Nil(t, l.RemotePasswordEnc)
		}
	}

	// The customer sets the password back and retries the failed mailbox.
	require.NoError(t, f.src.SetPassword(anna, "pw-anna"))
	time.Sleep(1100 * time.Millisecond) // Dovecot re-reads a passwd file at most once a second
	n, err := jobs.RetryFailedMailboxes(f.ctx, f.pool, rc, f.tenant.ID, runs[0].ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	r = f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	f.requireCopied(t, anna, "pw-anna", false)
	waitFor(t, 30*time.Second, "second email", func() (bool, string) { return len(mailer.all()) == 2, "" })
	require.Equal(t, "completed", mailer.all()[1].report.Status)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompleted, got.Status)
	lines, err = store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		require.Nil(t, l.RemotePasswordEnc)
	}

	// Nothing left to retry; another tenant's run is not found.
	_, err = jobs.RetryFailedMailboxes(f.ctx, f.pool, rc, f.tenant.ID, runs[0].ID)
	require.ErrorIs(t, err, store.ErrWrongState)
	other, err := store.CreateTenant(f.ctx, f.pool, store.NewTenant{Name: "Other", NotifyEmail: "x@other.test", Domains: []string{"other.test"}})
	require.NoError(t, err)
	_, err = jobs.RetryFailedMailboxes(f.ctx, f.pool, rc, other.ID, runs[0].ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestDestinationFullEndsTheMailboxOthersGoOn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 4)
	anna := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, f.src.AddUser(anna, "pw-anna"))
	require.NoError(t, f.dst.AddUser(anna, "x", testenv.WithQuota(40)))
	bob := f.user(t, "pw-bob", true)
	f.seedMailbox(t, anna, "pw-anna", 50, false)
	f.seedMailbox(t, bob, "pw-bob", 60, false)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna\n%s;%s;%s;pw-bob\n", anna, f.src.TLSAddr(), anna, bob, f.src.TLSAddr(), bob)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)
	f.startNow(t, rc, runs[0])
	f.waitRun(t, runs[0].ID, 2*time.Minute)
	mbs := f.mailboxes(t, runs[0].ID)
	require.Equal(t, store.MailboxFailed, mbs[anna].Status)
	require.Contains(t, mbs[anna].Reason(i18n.Italian), "è piena")
	require.Equal(t, 1, mbs[anna].Attempts, "over quota is not retried")
	require.Positive(t, mbs[anna].Copied, "what fitted was copied and counted")
	require.Equal(t, store.MailboxCompleted, mbs[bob].Status)
	f.requireCopied(t, bob, "pw-bob", false)
}

func TestPerHostLimitAndRun2WaitsForRun1(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.PerHostLimit = 2
	// Two clients stand for two worker processes: the limit is held in
	// PostgreSQL, not in a process.
	rc := f.client(t, 3)
	f.client(t, 3)
	var users []string
	var csv strings.Builder
	for i := range 5 {
		u := f.user(t, "pw", true)
		users = append(users, u)
		c := f.src.Dial(t, u, "pw")
		testenv.Append(t, c, "INBOX", msgList(int64(70+i), 0, 60, 8000)...)
		fmt.Fprintf(&csv, "%s;%s;%s;pw\n", u, f.src.TLSAddr(), u)
	}
	first := time.Now().Add(time.Hour)
	m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, second: true, first: first, secondAt: first.Add(time.Hour)})
	runs := f.validate(t, rc, m)
	// Both runs are due at once: run 2 of each mailbox must wait for its run 1.
	f.startNow(t, rc, runs[0])
	waitFor(t, 30*time.Second, "run 1 started", func() (bool, string) {
		r, err := store.GetRun(f.ctx, f.pool, f.tenant.ID, runs[0].ID)
		require.NoError(t, err)
		return r.Status == store.RunRunning, string(r.Status)
	})
	f.startNow(t, rc, runs[1])
	f.waitRun(t, runs[0].ID, 3*time.Minute)
	f.waitRun(t, runs[1].ID, 3*time.Minute)

	type span struct{ from, to time.Time }
	var spans []span
	one, two := f.mailboxes(t, runs[0].ID), f.mailboxes(t, runs[1].ID)
	for _, u := range users {
		a, b := one[u], two[u]
		require.Equal(t, store.MailboxCompleted, a.Status)
		require.Equal(t, store.MailboxCompleted, b.Status)
		require.Equal(t, 60, a.Copied)
		require.Zero(t, b.Copied, "run 2 finds everything there")
		require.Equal(t, 60, b.AlreadyThere)
		require.False(t, b.StartedAt.Before(*a.EndedAt), "%s: run 2 started %s before run 1 ended %s", u, b.StartedAt, a.EndedAt)
		spans = append(spans, span{*a.StartedAt, *a.EndedAt}, span{*b.StartedAt, *b.EndedAt})
		sc := f.src.Dial(t, u, "pw")
		dc := f.dst.Dial(t, u+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
		require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX": "INBOX"}))
	}
	require.LessOrEqual(t, maxOverlap(spans), 2, "at most 2 mailboxes of one host at a time")
}

// maxOverlap is the largest number of spans open at one instant.
func maxOverlap[S interface{ ~struct{ from, to time.Time } }](spans []S) int {
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, s := range spans {
		v := struct{ from, to time.Time }(s)
		evs = append(evs, ev{v.from, 1}, ev{v.to, -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at.Equal(evs[j].at) {
			return evs[i].delta < evs[j].delta // an end before a start at the same instant
		}
		return evs[i].at.Before(evs[j].at)
	})
	n, best := 0, 0
	for _, e := range evs {
		n += e.delta
		best = max(best, n)
	}
	return best
}
