package jobs_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// throttlingServer is hostileMailbox's old server (INBOX of 6, Lavoro of
// 2) that, once armed, answers the next login with Office 365's "Request
// is throttled. Suggested Backoff Time: 1500 milliseconds" and the next
// body FETCH in Lavoro with Gmail's "Account exceeded command or
// bandwidth limits".
type throttlingServer struct {
	*testenv.Hostile
	armed             atomic.Bool
	login, fetch      atomic.Int32 // throttled answers sent
	mu                sync.Mutex
	selected          map[int]string
	loginSaid, fetchS string
}

func newThrottlingServer(t *testing.T, user string) *throttlingServer {
	s := &throttlingServer{
		selected:  map[int]string{},
		loginSaid: "Request is throttled. Suggested Backoff Time: 1500 milliseconds",
		fetchS:    "[ALERT] Account exceeded command or bandwidth limits. (Failure)",
	}
	msgs := make([]testenv.Msg, 6)
	for i := range msgs {
		msgs[i] = testenv.BuildMessage(900, i, 3000)
	}
	hook := func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
		switch {
		case cmd.Name == "LOGIN" || cmd.Name == "AUTHENTICATE":
			if s.armed.Load() && s.login.CompareAndSwap(0, 1) {
				c.Printf("%s NO %s\r\n", cmd.Tag, s.loginSaid)
				return true
			}
		case cmd.Name == "SELECT" || cmd.Name == "EXAMINE":
			s.mu.Lock()
			s.selected[c.N] = cmd.Args
			s.mu.Unlock()
		case cmd.Name == "UID FETCH" && strings.Contains(strings.ToUpper(cmd.Args), "BODY"):
			s.mu.Lock()
			in := strings.Contains(s.selected[c.N], "Lavoro")
			s.mu.Unlock()
			if in && s.armed.Load() && s.fetch.CompareAndSwap(0, 1) {
				c.Printf("%s NO %s\r\n", cmd.Tag, s.fetchS)
				return true
			}
		}
		return false
	}
	s.Hostile = testenv.StartHostile(t, testenv.HostileOptions{User: user, Password: "pw-hostile", TLS: true, Hook: hook},
		testenv.HostileFolder{Name: "INBOX", Messages: testenv.HostileMessages(msgs...)},
		testenv.HostileFolder{Name: "Lavoro", Messages: testenv.HostileMessages(testenv.BuildMessage(901, 0, 2000), testenv.BuildMessage(901, 1, 2000))})
	return s
}

// Issue 10: a throttling answer backs the account off instead of failing
// the mailbox. Throttled at login (Office 365's words, 1.5 s suggested)
// and then in the middle of the copy (Gmail's, no time: ThrottleWait),
// the mailbox waits each time, says so in its log, and completes: every
// message once at the destination, nothing written to the old server.
func TestThrottledSourceBacksOffAndCompletes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.ThrottleWait = time.Second
	f.deps.ThrottleMax = 10 * time.Second
	f.deps.Metrics = metrics.New(nil)
	rc := f.client(t, 2)
	u := f.user(t, "x", true)
	srv := newThrottlingServer(t, u)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;%s", u, srv.Addr(), u, srv.Password()), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	run := f.validate(t, rc, m)[0]
	srv.armed.Store(true)
	f.startNow(t, rc, run)
	r := f.waitRun(t, run.ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	require.EqualValues(t, 1, srv.login.Load(), "throttled at login")
	require.EqualValues(t, 1, srv.fetch.Load(), "throttled mid-copy")

	mb := f.mailboxes(t, run.ID)[u]
	log := f.logText(t, mb.ID)
	require.Equal(t, store.MailboxCompleted, mb.Status, log)
	require.Empty(t, mb.Reason(i18n.Italian))
	require.Equal(t, 8, mb.Copied, "copied across the attempts: %d already there\n%s", mb.AlreadyThere, log)
	require.Zero(t, mb.Failed, log)
	require.Contains(t, log, "il vecchio server chiede di rallentare («Request is throttled. Suggested Backoff Time: 1500 milliseconds»): la casella aspetta 2 s")
	require.Contains(t, log, "il vecchio server chiede di rallentare («Account exceeded command or bandwidth limits. (Failure)»): la casella aspetta 1 s")

	// It waited as asked: the attempt after the throttled login began at
	// least the suggested 1.5 s later.
	lines, err := store.ListMailboxLogs(f.ctx, f.pool, f.tenant.ID, mb.ID)
	require.NoError(t, err)
	var asked time.Time
	for _, l := range lines {
		if asked.IsZero() && strings.Contains(l.Text(i18n.English), "Suggested Backoff Time") {
			asked = l.At
		}
		if !asked.IsZero() && l.Event.Code == "log.run.attempt" {
			require.GreaterOrEqual(t, l.At.Sub(asked), 1400*time.Millisecond, "resumed before the suggested back-off")
			break
		}
	}
	require.False(t, asked.IsZero())

	dc := f.dst.Dial(t, u+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	inbox, err := testenv.ReadFolder(dc, "INBOX")
	require.NoError(t, err)
	require.Len(t, inbox, 6, "INBOX once")
	lavoro, err := testenv.ReadFolder(dc, "Lavoro")
	require.NoError(t, err)
	require.Len(t, lavoro, 2, "Lavoro once")
	require.Empty(t, srv.Writes())
	body, err := testutil.CollectAndFormat(f.deps.Metrics.Registry(), expfmt.TypeTextPlain, "trasloco_source_backoffs_total")
	require.NoError(t, err)
	require.Contains(t, string(body), "trasloco_source_backoffs_total 2\n", "both back-offs counted")
}

// An account backed off (its server asked another mailbox of it to slow
// down, in this process or another) holds every mailbox of the tenant
// copied from it until the back-off is over; the tenant's other accounts
// go on.
func TestBackedOffAccountWaits(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 2)
	held, free := f.user(t, "pw", true), f.user(t, "pw", true)
	for i, u := range []string{held, free} {
		testenv.Append(t, f.src.Dial(t, u, "pw"), "INBOX", msgList(int64(950+i), 0, 3, 2000)...)
	}
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw\n%s;%s;%s;pw", held, f.src.TLSAddr(), held, free, f.src.TLSAddr(), free),
		migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	run := f.validate(t, rc, m)[0]
	until := time.Now().Add(8 * time.Second)
	require.NoError(t, store.BackOffRemote(f.ctx, f.pool, f.tenant.ID, "127.0.0.1", strings.ToUpper(held), until))
	f.startNow(t, rc, run)
	f.waitRun(t, run.ID, time.Minute)
	mbs := f.mailboxes(t, run.ID)
	require.Equal(t, store.MailboxCompleted, mbs[held].Status)
	require.Equal(t, store.MailboxCompleted, mbs[free].Status)
	require.False(t, mbs[held].StartedAt.Before(until), "started %s, backed off until %s", mbs[held].StartedAt, until)
	require.True(t, mbs[free].StartedAt.Before(until), "the other account did not wait: started %s", mbs[free].StartedAt)
}
