package web

import (
	"bytes"
	"context"
	"encoding/hex"
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"riverqueue.com/riverui"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// testNow is the panel's clock in tests: every schedule is relative to it.
var testNow = time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)

// cheapParams keep password hashing fast in tests.
var cheapParams = auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

const userPassword = "correct horse battery staple"

// panel is a running panel on a fresh database.
type panel struct {
	t      *testing.T
	pool   *pgxpool.Pool
	river  *river.Client[pgx.Tx]
	box    *secret.Box
	srv    *httptest.Server
	bodies *bodyLog
}

// bodyLog keeps every response body the tests' clients read, so a test can
// check that no secret was ever sent to a browser.
type bodyLog struct {
	mu     sync.Mutex
	bodies []string
}

func (b *bodyLog) add(s string) { b.mu.Lock(); b.bodies = append(b.bodies, s); b.mu.Unlock() }

func (b *bodyLog) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}

type panelOpts struct {
	maxFailures       int
	maxFailuresPerIP  int
	trustedProxies    []netip.Prefix
	riverUI           bool // mount River's UI (riverqueue.com/riverui) for operators
	maxCSVBytes       int64
	metrics           *metrics.Metrics
	health            func(*pgxpool.Pool) *health.Checker // the readiness checks, on the panel's database
	baseURL           string                              // Deps.BaseURL; default none
	migrationsPerHour int
	forbidPlainLogin  bool
	logs              io.Writer     // the panel's log; default discarded
	mail              AccountMailer // invitations and reset links
	oauth             *oauth.Tokens // the operator's Microsoft and Google registrations
}

func setup(t *testing.T, opts ...panelOpts) *panel {
	t.Helper()
	var o panelOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	pool := testenv.NewTestDB(t)
	logOut := io.Writer(io.Discard)
	if o.logs != nil {
		logOut = o.logs
	}
	logger := slog.New(slog.NewJSONHandler(logOut, nil))
	// Insert-only, like a web process without workers: no kind check.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logger})
	require.NoError(t, err)
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	require.NoError(t, err)
	var hc *health.Checker
	if o.health != nil {
		hc = o.health(pool)
	}
	var ui http.Handler
	if o.riverUI {
		h, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(rc, nil), Logger: logger, Prefix: RiverUIPath})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		require.NoError(t, h.Start(ctx))
		ui = h
	}
	var base *url.URL
	if o.baseURL != "" {
		base, err = url.Parse(o.baseURL)
		require.NoError(t, err)
	}
	h := New(Deps{
		BaseURL:           base,
		MigrationsPerHour: o.migrationsPerHour,
		ForbidPlainLogin:  o.forbidPlainLogin,
		Pool:              pool,
		River:             rc,
		Box:               box,
		Login:             &auth.Login{DB: pool, Params: &cheapParams, MaxFailures: o.maxFailures, MaxFailuresPerIP: o.maxFailuresPerIP},
		TrustedProxies:    o.trustedProxies,
		RiverUI:           ui,
		Logger:            logger,
		Now:               func() time.Time { return testNow },
		MaxCSVBytes:       o.maxCSVBytes,
		Metrics:           o.metrics,
		Health:            hc,
		Mail:              o.mail,
		OAuth:             o.oauth,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &panel{t: t, pool: pool, river: rc, box: box, srv: srv, bodies: &bodyLog{}}
}

// tenant creates a tenant with one domain and one user; it returns the
// tenant and the user's email.
func (p *panel) tenant(name, domain string) (store.Tenant, string) {
	p.t.Helper()
	ctx := context.Background()
	tn, err := store.CreateTenant(ctx, p.pool, store.NewTenant{Name: name, NotifyEmail: "it@" + domain, Domains: []string{domain}})
	require.NoError(p.t, err)
	hash, err := auth.HashPasswordWithParams(userPassword, cheapParams)
	require.NoError(p.t, err)
	email := "admin@" + domain
	_, err = store.CreateUser(ctx, p.pool, tn.ID, store.NewUser{Email: email, PasswordHash: hash})
	require.NoError(p.t, err)
	return tn, email
}

// browser is a client with its own cookie jar that does not follow
// redirects, so tests see the 303s.
type browser struct {
	p *panel
	c *http.Client
}

func (p *panel) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(p.t, err)
	return &browser{p: p, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	require.NoError(t, err)
	return d
}

func (b *browser) do(req *http.Request) response {
	b.p.t.Helper()
	res, err := b.c.Do(req)
	require.NoError(b.p.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.p.t, err)
	b.p.bodies.add(string(body))
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.p.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.p.srv.URL+path, nil)
	require.NoError(b.p.t, err)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.p.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.p.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.p.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// postFile posts a multipart form with the CSV as its "csv" file.
func (b *browser) postFile(path string, form url.Values, csv string) response {
	b.p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			require.NoError(b.p.t, mw.WriteField(k, v))
		}
	}
	if csv != "" {
		fw, err := mw.CreateFormFile("csv", "caselle.csv")
		require.NoError(b.p.t, err)
		_, err = io.WriteString(fw, csv)
		require.NoError(b.p.t, err)
	}
	require.NoError(b.p.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.p.srv.URL+path, &buf)
	require.NoError(b.p.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *browser) login(email string) {
	b.p.t.Helper()
	res := b.post("/login", url.Values{"email": {email}, "password": {userPassword}})
	require.Equal(b.p.t, http.StatusSeeOther, res.status, res.body)
	require.Equal(b.p.t, "/migrations", res.header.Get("Location"))
}

// migrationForm is a valid Nuova Migrazione form: runs on 1 February 2030.
func migrationForm() url.Values {
	return url.Values{
		"name":          {"Ufficio Milano"},
		"preset":        {"standard-ssl"},
		"first_run_at":  {"2030-02-01T22:00"},
		"second_run_at": {"2030-02-02T06:00"},
	}
}

// createMigration submits the form and returns the new migration's id.
func (b *browser) createMigration(form url.Values, csv string) int64 {
	b.p.t.Helper()
	res := b.postFile("/migrations", form, csv)
	require.Equal(b.p.t, http.StatusSeeOther, res.status, res.body)
	var id int64
	_, err := fmt.Sscanf(res.header.Get("Location"), "/migrations/%d", &id)
	require.NoError(b.p.t, err)
	return id
}

// validateJobs returns the validation jobs inserted for a migration.
func (p *panel) validateJobs(migrationID int64) int {
	p.t.Helper()
	rows, err := p.pool.Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1`, jobs.ValidateMigrationArgs{}.Kind())
	require.NoError(p.t, err)
	args, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	require.NoError(p.t, err)
	n := 0
	for _, a := range args {
		var m map[string]any
		require.NoError(p.t, json.Unmarshal(a, &m))
		for _, k := range []string{"migration_id", "MigrationID"} {
			if v, ok := m[k].(float64); ok && int64(v) == migrationID {
				n++
			}
		}
	}
	return n
}

// tableText returns every row of a table as JSON text, bytea columns as
// their hex form.
func (p *panel) tableText(table string) string {
	p.t.Helper()
	rows, err := p.pool.Query(context.Background(), `SELECT row_to_json(t)::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
	require.NoError(p.t, err)
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(p.t, err)
	return strings.Join(texts, "\n")
}

// requireNoSecret fails when secret appears in clear (or as the hex of its
// bytes, how bytea shows) in s.
func requireNoSecret(t *testing.T, s, secret, where string) {
	t.Helper()
	require.NotContains(t, s, secret, "%s holds a password in clear", where)
	require.NotContains(t, strings.ToLower(s), hex.EncodeToString([]byte(secret)), "%s holds a password in clear (hex)", where)
}

// srvHash hashes a password as the tests' users are.
func (p *panel) srvHash(pw string) (string, error) {
	return auth.HashPasswordWithParams(pw, cheapParams)
}
