package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/csvimport"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// TestDevEnvironment drives what make dev does, into a temporary directory
// on free ports: the servers come up, the demo tenant, user and CSV are
// there and right, the panel serves them, the demo migration runs to the
// end with the copy the demo promises and its email reaches Mailpit; a
// second start reuses the state.
func TestDevEnvironment(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	ports := freePorts(t)
	require.NoError(t, prepareDir(dir))
	require.NoError(t, ensureReachable(dir, io.Discard))
	release, err := lockDir(dir)
	require.NoError(t, err)
	_, err = lockDir(dir)
	require.ErrorContains(t, err, "another trasloco-dev", "one state directory, one trasloco-dev")

	start := time.Now()
	env, err := Start(ctx, Options{Dir: dir, Ports: ports, Progress: testWriter{t}})
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = env.Stop()
		}
	})
	t.Logf("set up in %s", time.Since(start))

	// The store has the demo tenant, its domain and users.
	tenant, err := store.GetTenantByName(ctx, env.pool, demoTenant)
	require.NoError(t, err)
	require.Equal(t, []string{demoDomain}, tenant.Domains)
	user, err := store.GetUserByEmail(ctx, env.pool, demoUserEmail)
	require.NoError(t, err)
	require.Equal(t, tenant.ID, user.TenantID)
	require.False(t, user.Operator)
	op, err := store.GetUserByEmail(ctx, env.pool, operatorEmail)
	require.NoError(t, err)
	require.True(t, op.Operator)

	// Every line of the CSV parses, and logs in on both sides.
	f, err := os.Open(env.CSVPath)
	require.NoError(t, err)
	res, err := csvimport.Parse(f, csvimport.Limits{})
	f.Close()
	require.NoError(t, err)
	require.Empty(t, res.Problems)
	require.Empty(t, res.Notes)
	require.Len(t, res.Lines, len(demoMailboxes))
	preset, err := transfer.ParsePreset(demoPresetValue)
	require.NoError(t, err)
	to := transfer.Timeouts{Dial: 10 * time.Second, Command: 10 * time.Second}
	for i, l := range res.Lines {
		m := demoMailboxes[i]
		require.Equal(t, m.Local, l.LocalUser)
		require.Equal(t, m.OldPassword, l.RemotePassword)
		check, err := transfer.Check(ctx, preset, transfer.Endpoint{Host: l.RemoteHost, User: l.RemoteUser, Password: l.RemotePassword}, to, true)
		require.NoError(t, err, "line %d", l.No)
		total := 0
		for _, n := range check.Messages {
			total += int(n)
		}
		require.Equal(t, m.copied()+btoi(m.Huge), total, "%s: messages in the folders a migration copies", m.OldUser)

		_, err = transfer.Check(ctx, transfer.PresetStandardSSL, transfer.Endpoint{
			Host: env.dst.TLSAddr(), User: l.LocalUser, AuthUser: env.dst.MasterUser(), Password: env.dst.MasterPassword(),
			RootCAs: env.dst.CAPool(),
		}, to, false)
		require.NoError(t, err, "master login to %s", l.LocalUser)
	}
	require.NoError(t, env.mailpit.probe(&http.Client{Timeout: 5 * time.Second}), "Mailpit answers /readyz and SMTP")

	// The panel, with its workers, as make dev serves it.
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan int, 1)
	go func() { served <- env.Serve(serveCtx) }()
	select {
	case code := <-served:
		t.Fatalf("serve exited with %d at start; log:\n%s", code, readFile(env.LogPath))
	case <-waitListening(ctx, ports.Panel):
	}
	b := newBrowser(t, env.PanelURL())
	b.login(demoUserEmail, demoUserPassword)

	// Run 1 an hour away, then "Avvia ora" once the validation has
	// scheduled it: a time a few seconds away could go by while the lines
	// are being checked (on a busy machine), and the migration would be
	// red for it (TestValidateFirstRunPassed), not the demo's.
	good := b.createMigration("Demo", readFile(env.CSVPath), time.Now().Add(time.Hour), tenant.Timezone)
	bad := b.createMigration("Demo con errori", readFile(env.ErrorsCSVPath), time.Now().Add(time.Hour), tenant.Timezone)
	require.Equal(t, store.MigrationRed, waitStatus(t, env, tenant.ID, bad, store.MigrationRed))
	require.Equal(t, store.MigrationScheduled, waitStatus(t, env, tenant.ID, good, store.MigrationScheduled))
	b.startNow(env, tenant.ID, good)
	require.Equal(t, store.MigrationCompleted, waitStatus(t, env, tenant.ID, good, store.MigrationCompleted, store.MigrationCompletedWithErrors))

	mbs, err := store.ListMigrationMailboxes(ctx, env.pool, tenant.ID, good)
	require.NoError(t, err)
	require.Len(t, mbs, len(demoMailboxes))
	for _, mb := range mbs {
		m := demoMailboxes[mb.LineNo-1]
		require.Equal(t, store.MailboxCompleted, mb.Status, mb.LocalUser)
		require.Equal(t, m.copied(), mb.Copied, "%s: copied", mb.LocalUser)
		require.Equal(t, btoi(m.Huge), mb.TooLarge, "%s: over 30 MB", mb.LocalUser)
	}
	mail := waitMail(t, env.MailpitURL(), demoNotifyEmail)
	require.Contains(t, mail, "Demo")

	stopServe()
	select {
	case code := <-served:
		require.Equal(t, 0, code, "serve's exit code")
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute")
	}
	require.NoError(t, env.Stop())
	stopped = true

	// Started again, it finds everything where it was.
	env2, err := Start(ctx, Options{Dir: dir, Ports: ports, Progress: testWriter{t}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = env2.Stop() })
	require.True(t, env2.state.DemoSeeded)
	require.Equal(t, env.state, env2.state, "same secret key and master password")
	tenant2, err := store.GetTenantByName(ctx, env2.pool, demoTenant)
	require.NoError(t, err)
	require.Equal(t, tenant.ID, tenant2.ID)
	m, err := store.GetMigration(ctx, env2.pool, tenant.ID, good)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCompleted, m.Status)
	check, err := transfer.Check(ctx, preset, transfer.Endpoint{Host: env2.OldServer(), User: demoMailboxes[0].OldUser, Password: demoMailboxes[0].OldPassword}, to, true)
	require.NoError(t, err)
	require.Equal(t, uint32(demoMailboxes[0].Folders[0].Count+1), check.Messages["INBOX"], "the old server was not seeded twice")
	require.NoError(t, env2.Stop())
	release()

	require.NoError(t, reset(dir, io.Discard))
	_, err = os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestMain(m *testing.M) { testenv.Main(m) }

// TestComposeDemo runs `trasloco-dev demo` as docker-compose.yml's demo
// service does, against Dovecots that read the passwd files it writes, and
// runs it twice as `docker compose up` does on every start.
func TestComposeDemo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := testenv.StartDovecot(testenv.RoleSource, filepath.Join(dir, "old"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Stop() })
	dst, err := testenv.StartDovecot(testenv.RoleDestination, filepath.Join(dir, "dest"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = dst.Stop() })
	pool := testenv.NewTestDB(t)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return pool.Config().ConnString()
		}
		return ""
	}
	out := filepath.Join(dir, "out")
	args := []string{"-old-server", src.PlainAddr(), "-old-users", filepath.Join(src.Dir(), "users"),
		"-dest-users", filepath.Join(dst.Dir(), "users"), "-out", out, "-wait", "10s"}
	var stderr bytes.Buffer
	require.Equal(t, 0, runDemo(ctx, args, getenv, io.Discard, &stderr), stderr.String())
	require.Equal(t, 0, runDemo(ctx, args, getenv, io.Discard, &stderr), "again: %s", stderr.String())

	_, err = store.GetTenantByName(ctx, pool, demoTenant)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(out, "demo.csv"))
	require.NoError(t, err)
	res, err := csvimport.Parse(f, csvimport.Limits{})
	f.Close()
	require.NoError(t, err)
	require.Len(t, res.Lines, len(demoMailboxes))
	to := transfer.Timeouts{Dial: 10 * time.Second, Command: 10 * time.Second}
	for i, l := range res.Lines {
		m := demoMailboxes[i]
		check, err := transfer.Check(ctx, transfer.PresetStandardNoSSL, transfer.Endpoint{Host: l.RemoteHost, User: l.RemoteUser, Password: l.RemotePassword}, to, true)
		require.NoError(t, err)
		require.Equal(t, uint32(m.Folders[0].Count+btoi(m.Huge)), check.Messages["INBOX"], "%s seeded once", m.OldUser)
		_, err = transfer.Check(ctx, transfer.PresetStandardNoSSL, transfer.Endpoint{
			Host: dst.PlainAddr(), User: l.LocalUser, AuthUser: dst.MasterUser(), Password: dst.MasterPassword()}, to, false)
		require.NoError(t, err, "master login to %s", l.LocalUser)
	}
	require.Equal(t, 2, runDemo(ctx, nil, getenv, io.Discard, io.Discard), "flags are required")
}

var update = flag.Bool("update", false, "rewrite deploy/docker/demo*.csv")

// TestComposeCSVs keeps the committed CSVs of docker-compose.yml's demo in
// step with the demo (go test ./cmd/trasloco-dev -run ComposeCSVs -update).
func TestComposeCSVs(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		composeCSVPath:       demoCSV(composeOldServer),
		composeErrorsCSVPath: demoErrorsCSV(composeOldServer),
	} {
		path = filepath.Join("..", "..", path)
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		}
		require.Equal(t, want, readFile(path), "%s is stale: go test ./cmd/trasloco-dev -run ComposeCSVs -update", path)
	}
}

func TestPrepareDirRefusesForeignFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	require.ErrorContains(t, prepareDir(dir), "did not create")
	require.ErrorContains(t, reset(dir, io.Discard), "refusing to remove")
	_, err := os.Stat(filepath.Join(dir, "notes.txt"))
	require.NoError(t, err)
}

func TestPortsFromEnv(t *testing.T) {
	t.Parallel()
	p, err := portsFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, Ports{Panel: "127.0.0.1:8080", Postgres: 15432, DestIMAP: 10143, DestIMAPS: 10993,
		OldIMAP: 11143, OldIMAPS: 11993, SMTP: 1025, MailpitHTTP: 8025}, p)
	env := map[string]string{"TRASLOCO_LISTEN": "127.0.0.1:9090", "TRASLOCO_DEV_MAILPIT_PORT": "9025"}
	p, err = portsFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9090", p.Panel)
	require.Equal(t, 9025, p.MailpitHTTP)
	_, err = portsFromEnv(func(k string) string { return map[string]string{"TRASLOCO_DEV_SMTP_PORT": "x"}[k] })
	require.ErrorContains(t, err, "TRASLOCO_DEV_SMTP_PORT")
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://postgres@127.0.0.1:1/trasloco?sslmode=disable": "'postgres://postgres@127.0.0.1:1/trasloco?sslmode=disable'",
		"abc+/=": "abc+/=",
		"it's":   `'it'\''s'`,
		"":       "''",
	} {
		require.Equal(t, want, shellQuote(in), in)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// freePorts picks free loopback ports for every server.
func freePorts(t *testing.T) Ports {
	t.Helper()
	var lns []net.Listener
	next := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		return ln.Addr().(*net.TCPAddr).Port
	}
	p := Ports{Panel: net.JoinHostPort("127.0.0.1", strconv.Itoa(next()))}
	for _, pv := range portVars {
		*pv.port(&p) = next()
	}
	for _, ln := range lns {
		ln.Close()
	}
	require.NoError(t, p.checkFree())
	return p
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is a cookie-keeping HTTP client on the panel.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) login(email, password string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+"/login", url.Values{"email": {email}, "password": {password}})
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, "login")
	require.Equal(b.t, "/migrations", resp.Header.Get("Location"))
	resp, err = b.c.Get(b.base + "/migrations")
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
}

// createMigration submits Nuova Migrazione as a browser does and returns
// the new migration's id.
func (b *browser) createMigration(name, csv string, first time.Time, tz string) int64 {
	b.t.Helper()
	loc, err := time.LoadLocation(tz)
	require.NoError(b.t, err)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{
		"name":         name,
		"preset":       demoPresetValue,
		"first_run_at": first.In(loc).Format("2006-01-02T15:04:05"),
	} {
		require.NoError(b.t, w.WriteField(k, v))
	}
	fw, err := w.CreateFormFile("csv", "demo.csv")
	require.NoError(b.t, err)
	_, _ = io.WriteString(fw, csv)
	require.NoError(b.t, w.Close())
	resp, err := b.c.Post(b.base+"/migrations", w.FormDataContentType(), &body)
	require.NoError(b.t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, "create migration %q: %s", name, page)
	loc2 := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc2, "/migrations/")
	require.True(b.t, ok, loc2)
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(b.t, err, loc2)
	return n
}

// startNow presses "Avvia ora" on the scheduled migration id, and checks
// that it took: run 1's time is now (the page answers 303 either way).
func (b *browser) startNow(env *Env, tenantID, id int64) {
	b.t.Helper()
	before := time.Now()
	resp, err := b.c.PostForm(b.base+"/migrations/"+strconv.FormatInt(id, 10)+"/start", url.Values{})
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, "start migration %d now", id)
	m, err := store.GetMigration(context.Background(), env.pool, tenantID, id)
	require.NoError(b.t, err)
	require.False(b.t, m.FirstRunAt.After(time.Now()), "run 1 moved to now")
	require.False(b.t, m.FirstRunAt.Before(before.Add(-time.Second)), "run 1 moved to now")
}

// waitStatus waits until the migration reaches one of want and returns it.
func waitStatus(t *testing.T, env *Env, tenantID, id int64, want ...store.MigrationStatus) store.MigrationStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var m store.Migration
	for time.Now().Before(deadline) {
		var err error
		m, err = store.GetMigration(context.Background(), env.pool, tenantID, id)
		require.NoError(t, err)
		for _, w := range want {
			if m.Status == w {
				return m.Status
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("migration %d: status %s after 2 minutes, want %v; log:\n%s", id, m.Status, want, tail(readFile(env.LogPath), 40))
	return ""
}

// waitMail waits for a message to rcpt in Mailpit and returns its text.
func waitMail(t *testing.T, base, rcpt string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/search?query=" + url.QueryEscape("to:"+rcpt))
		require.NoError(t, err)
		var page struct {
			Messages []struct{ ID, Subject string }
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		require.NoError(t, err)
		if len(page.Messages) > 0 {
			resp, err := http.Get(base + "/view/" + page.Messages[0].ID + ".txt")
			require.NoError(t, err)
			text, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return page.Messages[0].Subject + "\n" + string(text)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no email to %s in Mailpit after a minute", rcpt)
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
