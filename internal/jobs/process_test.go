package jobs_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// These tests run real `trasloco worker` processes against the test
// database, the Dovecot pair and Mailpit, and kill one with SIGKILL.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// traslocoBinary builds cmd/trasloco once per test binary.
func traslocoBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trasloco-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "trasloco")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/trasloco/trasloco/cmd/trasloco").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// workerProc is one `trasloco worker` process.
type workerProc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// workerEnv is the environment of the fixture's worker processes.
func (f *fixture) workerEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	mp := testenv.SharedMailpit(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + f.pool.Config().ConnString(),
		"TRASLOCO_SECRET_KEY=" + base64.StdEncoding.EncodeToString(f.key),
		"TRASLOCO_DEST_HOST=" + f.dst.TLSAddr(),
		"TRASLOCO_DEST_TLS=implicit",
		"TRASLOCO_DEST_MASTER_USER=" + f.dst.MasterUser(),
		"TRASLOCO_DEST_MASTER_PASSWORD=" + f.dst.MasterPassword(),
		"TRASLOCO_DEST_CA_FILE=" + f.dst.CAFile(),
		"TRASLOCO_SMTP_URL=" + mp.SMTPURL(),
		"TRASLOCO_SMTP_FROM=panel@provider.test",
		"TRASLOCO_BASE_URL=https://panel.provider.test",
		"TRASLOCO_ALLOW_REMOTE_NETS=127.0.0.0/8",
		"TRASLOCO_ALLOW_REMOTE_PORTS=any", // the test servers' random ports
		"TRASLOCO_RETRY_BACKOFF=1s",
		"TRASLOCO_JOB_POLL=300ms",
	}
	return append(env, extra...)
}

func (f *fixture) startWorker(t *testing.T, env []string) *workerProc {
	t.Helper()
	p := &workerProc{logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(traslocoBinary(t), "worker")
	p.cmd.Env = env
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(40 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("worker %d log:\n%s", p.cmd.Process.Pid, p.logs.String())
		}
	})
	return p
}

func (p *workerProc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// slowProxy forwards to target at about rate bytes a second per
// connection in each direction, so a copy takes long enough to be
// interrupted and to overlap others.
func slowProxy(t *testing.T, target string, rate int) string {
	t.Helper()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 8<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
				time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	return testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		go pipe(up, c)
		pipe(c, up)
	})
}

// scheduleNow validates m in-process (no run is worked) and makes its
// run 1 due at once; it returns run 1.
func (f *fixture) scheduleNow(t *testing.T, m store.Migration) store.Run {
	t.Helper()
	f.work(t, m)
	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.NotEmpty(t, runs, "lines: %v", f.lineErrors(t, m))
	ins, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{})
	require.NoError(t, err)
	_, err = ins.JobRetry(f.ctx, runs[0].RiverJobID)
	require.NoError(t, err)
	return runs[0]
}

// uniqueNotify gives the fixture's tenant a notification address of its
// own, so its emails can be told apart in the shared Mailpit.
func (f *fixture) uniqueNotify(t *testing.T) string {
	t.Helper()
	addr := strings.ToLower(testenv.UniqueUser(t, "notify.test"))
	_, err := f.pool.Exec(f.ctx, `UPDATE tenants SET notify_email = $2 WHERE id = $1`, f.tenant.ID, addr)
	require.NoError(t, err)
	return addr
}

func countCopied(t *testing.T, f *fixture, lineID int64) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM copied_messages WHERE line_id = $1`, lineID).Scan(&n))
	return n
}

func TestWorkerKilledMidMailboxResumesWithoutLossOrDuplicates(t *testing.T) {
	t.Parallel()
	f := setup(t)
	notifyTo := f.uniqueNotify(t)
	anna := f.user(t, "pw-anna", true)
	c := f.src.Dial(t, anna, "pw-anna")
	testenv.Append(t, c, "INBOX", msgList(90, 0, 120, 12000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgList(91, 0, 60, 12000)...)
	proxy := slowProxy(t, f.src.TLSAddr(), 400<<10)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, proxy, anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	env := f.workerEnv(t, "TRASLOCO_WORKERS=2", "TRASLOCO_MAILBOX_SLICE=3s")
	a := f.startWorker(t, env)
	run := f.scheduleNow(t, m)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	lineID := lines[0].ID

	// Kill the worker once part of the mailbox is copied.
	waitFor(t, time.Minute, "part of the mailbox copied", func() (bool, string) {
		n := countCopied(t, f, lineID)
		return n >= 20, fmt.Sprintf("%d copied", n)
	})
	a.kill(t)
	before := countCopied(t, f, lineID)
	require.Less(t, before, 180, "the worker was killed before the end")
	mbs := f.mailboxes(t, run.ID)
	require.Equal(t, store.MailboxRunning, mbs[anna].Status)

	// Another worker takes the job up once River rescues it.
	f.startWorker(t, env)
	r := f.waitRun(t, run.ID, 3*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)
	mb := f.mailboxes(t, run.ID)[anna]
	require.Equal(t, store.MailboxCompleted, mb.Status)
	require.GreaterOrEqual(t, mb.Attempts, 2)
	require.Equal(t, 180, mb.Copied+mb.AlreadyThere)
	require.Equal(t, 180, countCopied(t, f, lineID))

	sc := f.src.Dial(t, anna, "pw-anna")
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti"}))

	mp := testenv.SharedMailpit(t)
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	mp.WaitMessages(ctx, t, "to:"+notifyTo, 1)
	time.Sleep(2 * time.Second)
	got, err := mp.Search(f.ctx, "to:"+notifyTo)
	require.NoError(t, err)
	require.Len(t, got, 1, "one email for the run")
}

func TestTwoWorkerProcessesCopyEachMailboxOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	notifyTo := f.uniqueNotify(t)
	// Each mailbox takes a couple of seconds through the slow proxy, and
	// each process copies at most two at a time: both must work, and
	// together they could run four, one more than the per-host limit.
	proxy := slowProxy(t, f.src.TLSAddr(), 200<<10)
	var users []string
	var csv strings.Builder
	for i := range 6 {
		u := f.user(t, "pw", true)
		users = append(users, u)
		c := f.src.Dial(t, u, "pw")
		testenv.Append(t, c, "INBOX", msgList(int64(100+i), 0, 40, 10000)...)
		fmt.Fprintf(&csv, "%s;%s;%s;pw\n", u, proxy, u)
	}
	m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	env := f.workerEnv(t, "TRASLOCO_WORKERS=2", "TRASLOCO_PER_HOST_LIMIT=3")
	f.startWorker(t, env)
	f.startWorker(t, env)
	run := f.scheduleNow(t, m)
	r := f.waitRun(t, run.ID, 3*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)

	type span struct{ from, to time.Time }
	var spans []span
	mbs := f.mailboxes(t, run.ID)
	for _, u := range users {
		mb := mbs[u]
		require.Equal(t, store.MailboxCompleted, mb.Status, u)
		require.Equal(t, 1, mb.Attempts, "%s: copied in one attempt", u)
		require.Equal(t, 40, mb.Copied, u)
		spans = append(spans, span{*mb.StartedAt, *mb.EndedAt})
		sc := f.src.Dial(t, u, "pw")
		dc := f.dst.Dial(t, u+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
		require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX": "INBOX"}))
	}
	require.LessOrEqual(t, maxOverlap(spans), 3, "per-host limit across processes")

	// Both processes worked: the mailbox jobs name two different clients.
	var clients int
	require.NoError(t, f.pool.QueryRow(f.ctx, `
		SELECT count(DISTINCT j.attempted_by[array_length(j.attempted_by, 1)]) FROM river_job j
		WHERE j.kind = 'mailbox_copy' AND j.state = 'completed' AND (j.args->>'tenant_id')::bigint = $1`, f.tenant.ID).Scan(&clients))
	require.Equal(t, 2, clients)

	mp := testenv.SharedMailpit(t)
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	mp.WaitMessages(ctx, t, "to:"+notifyTo, 1)
	time.Sleep(2 * time.Second)
	got, err := mp.Search(f.ctx, "to:"+notifyTo)
	require.NoError(t, err)
	require.Len(t, got, 1, "one email for the run, however many workers")
}
