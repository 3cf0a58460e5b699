// Package e2e holds the end-to-end test of a whole migration: a customer
// uploads a CSV through the panel over HTTP, the workers copy at the
// scheduled times between the Dovecot pair, the email arrives in Mailpit
// and Risorse shows both runs.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-imap/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/internal/web"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// logBuffer collects every log line of the panel and the workers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// customer is a browser with its own cookies; it keeps every body it
// read, to look for passwords afterwards.
type customer struct {
	t      *testing.T
	base   string
	c      *http.Client
	bodies []string
}

func (u *customer) do(req *http.Request) (int, http.Header, string) {
	u.t.Helper()
	res, err := u.c.Do(req)
	require.NoError(u.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(u.t, err)
	u.bodies = append(u.bodies, string(body))
	return res.StatusCode, res.Header, string(body)
}

func (u *customer) get(path string) (int, http.Header, string) {
	u.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.base+path, nil)
	require.NoError(u.t, err)
	return u.do(req)
}

func (u *customer) doc(path string) *goquery.Document {
	u.t.Helper()
	status, _, body := u.get(path)
	require.Equal(u.t, http.StatusOK, status, "GET %s: %s", path, body)
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	require.NoError(u.t, err)
	return d
}

func TestWholeMigrationThroughThePanel(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	ctx, pool, src, dst, mp := st.ctx, st.pool, st.src, st.dst, st.mp
	tenant, notifyTo, boxes, base, srv, logs := st.tenant, st.notifyTo, st.boxes, st.base, st.srv, st.logs
	var err error
	var csv strings.Builder
	for _, b := range boxes {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", b.user, src.TLSAddr(), b.user, b.pw)
	}

	// The customer logs in and uploads the CSV: run 1 in a few seconds,
	// run 2 well after it.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u := &customer{t: t, base: srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := url.Values{"email": {userEmail}, "password": {userPassword}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, _, body := u.do(req)
	require.Equal(t, http.StatusSeeOther, status, body)

	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	first := time.Now().Add(8 * time.Second).In(rome)
	second := first.Add(45 * time.Second)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{
		"name": "Trasloco <Studio> Rossi", "preset": "standard-ssl", "insecure_tls": "1",
		"first_run_at":  first.Format("2006-01-02T15:04:05"),
		"second_run_at": second.Format("2006-01-02T15:04:05"),
	} {
		require.NoError(t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("csv", "caselle.csv")
	require.NoError(t, err)
	_, err = io.WriteString(fw, csv.String())
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err = http.NewRequest(http.MethodPost, srv.URL+"/migrations", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, hdr, body := u.do(req)
	require.Equal(t, http.StatusSeeOther, status, body)
	var id int64
	_, err = fmt.Sscanf(hdr.Get("Location"), "/migrations/%d", &id)
	require.NoError(t, err)
	path := fmt.Sprintf("/migrations/%d", id)

	type progress struct {
		Status    string `json:"status"`
		Mailboxes []struct {
			LocalUser string `json:"local_user"`
			Status    string `json:"status"`
			Done      int    `json:"done"`
			Total     int    `json:"total"`
		} `json:"mailboxes"`
	}
	poll := func() progress {
		_, _, body := u.get(path + "/status.json")
		var p progress
		require.NoError(t, json.Unmarshal([]byte(body), &p), body)
		return p
	}
	waitFor(t, 30*time.Second, "blue", func() (bool, string) {
		p := poll()
		return p.Status == "scheduled", p.Status
	})

	// Run 1 happens; the page shows live progress per mailbox meanwhile.
	sawRunning := false
	waitFor(t, 2*time.Minute, "run 1 email", func() (bool, string) {
		if p := poll(); p.Status == "running" && len(p.Mailboxes) == 3 {
			sawRunning = true
		}
		got, err := mp.Search(ctx, "to:"+notifyTo)
		require.NoError(t, err)
		return len(got) == 1, fmt.Sprint(len(got), " emails")
	})
	require.True(t, sawRunning, "status.json showed the run going with its mailboxes")
	for i, b := range boxes {
		requireSame(t, src, dst, b.user, b.pw, i == 0)
	}
	mail1 := latestMail(t, mp, notifyTo)
	require.Contains(t, mail1.Subject, "Trasloco <Studio> Rossi")
	for _, b := range boxes {
		require.Contains(t, mail1.Text, b.user)
		require.Contains(t, mail1.HTML, b.user)
	}
	require.Regexp(t, `(?s)`+regexp.QuoteMeta(boxes[0].user)+`.*\b22\b`, mail1.Text, "22 messages copied for the first mailbox")
	require.Contains(t, mail1.Text, fmt.Sprintf("%s/migrations/%d/resources", base, id))
	require.NotContains(t, mail1.HTML, "<Studio>", "the name is escaped in HTML")

	// Between the runs: new mail and a changed flag at the source.
	runs, err := store.ListRuns(ctx, pool, tenant.ID, id)
	require.NoError(t, err)
	require.Equal(t, store.RunScheduled, runs[1].Status, "run 2 must not have started yet: the test adds mail before it")
	c0 := src.Dial(t, boxes[0].user, boxes[0].pw)
	testenv.Append(t, c0, "INBOX", msgs(260, 0, 4, 2000)...)
	_, err = c0.Select("INBOX.Sent", nil).Wait()
	require.NoError(t, err)
	require.NoError(t, c0.Store(imap.UIDSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close())
	c2 := src.Dial(t, boxes[2].user, boxes[2].pw)
	testenv.Append(t, c2, "INBOX.Clienti.Società", msgs(261, 0, 2, 2000)...)

	// Run 2 copies only that and brings the flags up to date.
	waitFor(t, 3*time.Minute, "run 2 email", func() (bool, string) {
		got, err := mp.Search(ctx, "to:"+notifyTo)
		require.NoError(t, err)
		return len(got) == 2, fmt.Sprint(len(got), " emails")
	})
	for i, b := range boxes {
		requireSame(t, src, dst, b.user, b.pw, i == 0)
	}
	waitFor(t, 10*time.Second, "completed", func() (bool, string) { p := poll(); return p.Status == "completed", p.Status })

	// Risorse shows both runs of every mailbox with their numbers.
	d := u.doc(path + "/resources")
	copied := map[string]map[string]string{}
	d.Find(`[data-testid="resource-mailbox"]`).Each(func(_ int, s *goquery.Selection) {
		local := strings.TrimSpace(s.Find(`[data-testid="resource-local"]`).Text())
		copied[local] = map[string]string{}
		s.Find(`[data-testid="resource-mailbox-run"]`).Each(func(_ int, r *goquery.Selection) {
			run, _ := r.Attr("data-run")
			st, _ := r.Attr("data-status")
			require.Equal(t, "completed", st, "%s run %s", local, run)
			copied[local][run] = strings.TrimSpace(r.Find(`[data-testid="resource-copied"]`).Text())
		})
	})
	require.Equal(t, map[string]map[string]string{
		boxes[0].user: {"1": "22", "2": "4"},
		boxes[1].user: {"1": "22", "2": "0"},
		boxes[2].user: {"1": "22", "2": "2"},
	}, copied)
	require.Equal(t, 1, d.Find(`[data-testid="skipped-row"]`).Length(), "the one big message is listed")
	requireReports(t, st, u, d, id)

	// The logs of both runs read in the page and download as text.
	links := d.Find(`[data-testid="resource-log-txt"]`)
	require.Equal(t, 6, links.Length())
	links.Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		status, hdr, body := u.get(href)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, hdr.Get("Content-Disposition"), "attachment")
		require.Contains(t, body, "finita: Completata")
	})
	logPath := strings.TrimSuffix(d.Find(`[data-testid="resource-log-txt"]`).First().AttrOr("href", ""), ".txt")
	page := u.doc(logPath)
	require.Positive(t, page.Find(`[data-testid="log-line"]`).Length())

	// The same Risorse and log, page and download, read in English and in
	// Italian: each in its reader's language only, from the same rows
	// (the engine's events and the reasons are stored as codes).
	for _, l := range []i18n.Lang{i18n.English, i18n.Italian} {
		u.doc(path + "?lang=" + string(l)) // the session's language from here on
		res := u.doc(path + "/resources")
		require.Equal(t, string(l), res.Find("html").AttrOr("lang", ""))
		require.Empty(t, i18n.ForeignSentences(res.Find("body").Text(), l), "Risorse in %s", l)
		require.Equal(t, map[i18n.Lang]string{i18n.Italian: "oltre 30 MB", i18n.English: "over 30 MB"}[l],
			strings.TrimSpace(res.Find(`[data-testid="skipped-reason"]`).First().Text()))
		lp := u.doc(logPath)
		require.Empty(t, i18n.ForeignSentences(lp.Find("body").Text(), l), "the log page in %s", l)
		_, _, txt := u.get(logPath + ".txt")
		require.Empty(t, i18n.ForeignSentences(txt, l), "the log download in %s", l)
		for _, want := range map[i18n.Lang][]string{
			i18n.Italian: {"cartella copiata in \"INBOX\"", "supera il limite di 128 KB", "finita: Completata"},
			i18n.English: {"folder done into \"INBOX\"", "is over the 128 KB limit", "ended: Completed"},
		}[l] {
			require.Contains(t, txt, want, "the log download in %s", l)
			require.Contains(t, lp.Find(`[data-testid="log"]`).Text(), want, "the log page in %s", l)
		}
	}

	// The second email has run 2's numbers.
	mail2 := latestMail(t, mp, notifyTo)
	require.NotEqual(t, mail1.ID, mail2.ID)
	require.Regexp(t, `(?s)`+regexp.QuoteMeta(boxes[0].user)+`.*\b4\b`, mail2.Text)

	// No password anywhere: pages, emails, logs; and none kept in the
	// database after the last run.
	for _, b := range boxes {
		for _, body := range u.bodies {
			require.NotContains(t, body, b.pw)
		}
		require.NotContains(t, mail1.Text+mail1.HTML+mail2.Text+mail2.HTML, b.pw)
		require.NotContains(t, logs.String(), b.pw)
	}
	var kept int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM migration_lines WHERE remote_password_enc IS NOT NULL`).Scan(&kept))
	require.Zero(t, kept)
}

// mailbox is a source mailbox of the test, with its password.
type mailbox struct{ user, pw string }

// stack is everything a migration needs, running: the test database, the
// Dovecot pair, Mailpit, the panel on a loopback port and its workers in
// this process, a tenant with a user, and three seeded source mailboxes
// with their destination mailboxes.
type stack struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	src, dst *testenv.Dovecot
	mp       *testenv.Mailpit
	logs     *logBuffer
	tenant   store.Tenant
	notifyTo string
	boxes    []mailbox
	base     *url.URL
	srv      *httptest.Server
}

const (
	userEmail    = "admin@rossi.test"
	userPassword = "una password lunga"
)

// newStack starts a stack; tokens, when given, are the operator's
// Microsoft and Google registrations (at the local OAuth2 server, whose
// Dovecots are on 127.0.0.1).
func newStack(t *testing.T, tokens ...*oauth.Tokens) *stack {
	t.Helper()
	var tok *oauth.Tokens
	var tokHosts []string
	if len(tokens) > 0 {
		tok, tokHosts = tokens[0], []string{"127.0.0.1"}
	}
	st := &stack{ctx: context.Background(), logs: &logBuffer{}}
	ctx := st.ctx
	st.pool = testenv.NewTestDB(t)
	st.src, st.dst = testenv.SharedDovecot(t)
	st.mp = testenv.SharedMailpit(t)
	pool, src, dst, mp := st.pool, st.src, st.dst, st.mp
	logger := slog.New(slog.NewJSONHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The provider's side: a tenant, its user, the destination mailboxes.
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.NewBox(key)
	require.NoError(t, err)
	st.notifyTo = strings.ToLower(testenv.UniqueUser(t, "notify.test"))
	st.tenant, err = store.CreateTenant(ctx, pool, store.NewTenant{Name: "Studio Rossi", NotifyEmail: st.notifyTo, Domains: []string{"rossi.test"}})
	require.NoError(t, err)
	hash, err := auth.HashPasswordWithParams(userPassword, auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1, SaltLen: 16, KeyLen: 32})
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, pool, st.tenant.ID, store.NewUser{Email: userEmail, PasswordHash: hash})
	require.NoError(t, err)

	for i := range 3 {
		u := testenv.UniqueUser(t, "rossi.test")
		pw := fmt.Sprintf("vecchia;password-%d", i)
		require.NoError(t, src.AddUser(u, pw))
		require.NoError(t, dst.AddUser(u, "nuova"))
		st.boxes = append(st.boxes, mailbox{u, pw})
		c := src.Dial(t, u, pw)
		testenv.Append(t, c, "INBOX", msgs(int64(200+i), 0, 15, 3000)...)
		testenv.Append(t, c, "INBOX.Clienti.Società", msgs(int64(210+i), 0, 4, 6000)...)
		testenv.Append(t, c, "INBOX.Sent", msgs(int64(220+i), 0, 3, 1500)...)
		testenv.Append(t, c, "INBOX.Trash", msgs(int64(230+i), 0, 2, 1500)...)
		testenv.Append(t, c, "INBOX.Bulk", msgs(int64(240+i), 0, 2, 1500)...)
		if i == 0 {
			testenv.Append(t, c, "INBOX", testenv.BuildMessage(250, 0, 200<<10)) // over the test's size limit
		}
	}

	// The panel and its workers, in this process.
	st.srv = httptest.NewUnstartedServer(nil)
	st.base, err = url.Parse("http://" + st.srv.Listener.Addr().String())
	require.NoError(t, err)
	host, port, _ := strings.Cut(mp.SMTPAddr(), ":")
	var smtpPort int
	_, err = fmt.Sscan(port, &smtpPort)
	require.NoError(t, err)
	mailer, err := notify.NewMailer(config.SMTP{Host: host, Port: smtpPort, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	rc, err := jobs.NewClient(jobs.Deps{
		Pool:  pool,
		Box:   box,
		Guard: netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllPorts: true},
		Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, RootCAs: dst.CAPool(),
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword()},
		PinRemoteAddr:  true,
		Logger:         logger.With("component", "jobs"),
		Mailer:         mailer,
		BaseURL:        st.base,
		MaxMessageSize: 128 << 10,
		RetryBase:      200 * time.Millisecond,
		Poll:           300 * time.Millisecond,
		FlushInterval:  200 * time.Millisecond,
		OAuth:          tok,
		OAuthHosts:     tokHosts,
	}, jobs.ClientOptions{Workers: 3, FetchPollInterval: 200 * time.Millisecond, Logger: logger.With("component", "river")})
	require.NoError(t, err)
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.StopAndCancel(c)
	})
	st.srv.Config.Handler = web.New(web.Deps{
		Pool: pool, River: rc, Box: box, BaseURL: st.base,
		Login:  &auth.Login{DB: pool},
		Logger: logger.With("component", "web"),
		Mail:   mailer,
		OAuth:  tok,
	})
	st.srv.Start()
	t.Cleanup(st.srv.Close)
	return st
}

func latestMail(t *testing.T, mp *testenv.Mailpit, to string) testenv.MailpitMessage {
	t.Helper()
	list, err := mp.Search(context.Background(), "to:"+to)
	require.NoError(t, err)
	require.NotEmpty(t, list)
	m, err := mp.Message(context.Background(), list[0].ID)
	require.NoError(t, err)
	return m
}

// requireSame compares a mailbox's copied folders with the destination.
func requireSame(t *testing.T, src, dst *testenv.Dovecot, user, pw string, hasBig bool) {
	t.Helper()
	sc := src.Dial(t, user, pw)
	dc := dst.Dial(t, user+"*"+dst.MasterUser(), dst.MasterPassword())
	require.NoError(t, testenv.SameMail(sc, dc, map[string]string{"INBOX.Clienti.Società": "Clienti/Società", "INBOX.Sent": "Sent"}))
	sm, err := testenv.ReadFolder(sc, "INBOX")
	require.NoError(t, err)
	dm, err := testenv.ReadFolder(dc, "INBOX")
	require.NoError(t, err)
	want := len(sm)
	if hasBig {
		want--
	}
	require.Len(t, dm, want, "INBOX of %s", user)
	for id, m := range dm {
		require.Equal(t, sm[id].Sum, m.Sum, "INBOX message %s", id)
		require.Equal(t, sm[id].Flags, m.Flags, "INBOX message %s flags", id)
	}
	for _, junk := range []string{"Trash", "Junk"} {
		m, err := testenv.ReadFolder(dc, junk)
		require.NoError(t, err)
		require.Empty(t, m, "%s of %s", junk, user)
	}
}

func msgs(seed int64, from, n, size int) []testenv.Msg {
	out := make([]testenv.Msg, n)
	for i := range out {
		out[i] = testenv.BuildMessage(seed, from+i, size)
	}
	return out
}

var waitFor = testenv.WaitFor
