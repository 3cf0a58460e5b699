package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/metrics"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// operator creates the provider's own tenant with an operator user and
// returns the operator's email.
func (p *panel) operator() string {
	p.t.Helper()
	ctx := context.Background()
	tn, err := store.CreateTenant(ctx, p.pool, store.NewTenant{Name: "Provider", NotifyEmail: "noc@provider.test", Domains: []string{"provider.test"}})
	require.NoError(p.t, err)
	hash, err := auth.HashPasswordWithParams(userPassword, cheapParams)
	require.NoError(p.t, err)
	email := "noc@provider.test"
	_, err = store.CreateUser(ctx, p.pool, tn.ID, store.NewUser{Email: email, PasswordHash: hash, Operator: true})
	require.NoError(p.t, err)
	return email
}

func TestProbes(t *testing.T) {
	t.Parallel()
	// Nothing listens on the destination's port: not ready.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	p := setup(t, panelOpts{health: func(pool *pgxpool.Pool) *health.Checker {
		return health.New(health.Options{DB: pool, Dest: transfer.Endpoint{Host: closed, TLS: transfer.TLSNone}})
	}})
	b := p.browser()

	res := b.get("/healthz")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "ok\n", res.body)
	require.Empty(t, res.header.Get("Set-Cookie"), "no session for a probe")

	res = b.get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, res.status, res.body)
	require.Equal(t, "application/json", res.header.Get("Content-Type"))
	var rep health.Report
	require.NoError(t, json.Unmarshal([]byte(res.body), &rep))
	require.Equal(t, health.Report{Status: "unavailable", Checks: map[string]string{
		health.CheckDatabase: "ok", health.CheckDestination: "failed",
	}}, rep)
	require.NotContains(t, res.body, closed, "the public panel does not tell where the destination is")

	// Without a destination to check, the database alone makes it ready.
	p2 := setup(t, panelOpts{health: func(pool *pgxpool.Pool) *health.Checker {
		return health.New(health.Options{DB: pool})
	}})
	res = p2.browser().get("/readyz")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.JSONEq(t, `{"status":"ok","checks":{"database":"ok"}}`, res.body)

	// A panel built without a Checker still answers /healthz.
	p3 := setup(t)
	require.Equal(t, http.StatusOK, p3.browser().get("/healthz").status)
	require.Equal(t, http.StatusNotFound, p3.browser().get("/readyz").status)
}

func TestOperatorsOnlyReachMetricsAndJobs(t *testing.T) {
	t.Parallel()
	m := metrics.New(prometheus.NewRegistry())
	p := setup(t, panelOpts{metrics: m})
	m.CollectJobs(p.pool, 0)
	m.MailboxEnded(store.MailboxFailed)
	m.MailboxFailure("auth")
	ta, emailA := p.tenant("acme", "acme.test")
	opEmail := p.operator()

	cust := p.browser()
	cust.login(emailA)
	_, runs := p.scheduleMigration(cust, ta, migrationForm())
	anon := p.browser()
	for _, path := range []string{"/metrics", "/admin/river", "/admin/river?state=scheduled"} {
		require.Equal(t, http.StatusSeeOther, anon.get(path).status, "signed out: %s", path)
		res := cust.get(path)
		require.Equal(t, http.StatusNotFound, res.status, "customer: %s", path)
		require.NotContains(t, res.body, "trasloco_")
		require.NotContains(t, res.body, "migration_run")
	}
	jobsBefore := p.tableText("river_job")
	for _, path := range []string{"/admin/river/jobs/" + itoa(runs[0].RiverJobID) + "/retry", "/admin/river/jobs/" + itoa(runs[0].RiverJobID) + "/cancel"} {
		require.Equal(t, http.StatusNotFound, cust.post(path, url.Values{}).status, "customer: %s", path)
	}
	require.Equal(t, jobsBefore, p.tableText("river_job"), "a customer changed no job")
	require.NotContains(t, cust.get("/migrations").body, `data-testid="nav-jobs"`)

	op := p.browser()
	op.login(opEmail)
	res := op.get("/metrics")
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.body, `trasloco_river_jobs{kind="migration_run",state="scheduled"} 2`)
	require.Contains(t, res.body, `trasloco_river_jobs{kind="migration_run",state="running"} 0`)
	require.Contains(t, res.body, `trasloco_mailboxes_ended_total{outcome="failed"} 1`)
	require.Contains(t, res.body, `trasloco_mailbox_failures_total{reason="auth"} 1`)

	res = op.get("/admin/river?state=scheduled")
	require.Equal(t, http.StatusOK, res.status, res.body)
	doc := res.doc(t)
	require.Equal(t, "2", doc.Find(`[data-testid="job-kind"][data-kind="migration_run"] [data-state="scheduled"]`).Text())
	require.Equal(t, 2, doc.Find(`[data-testid="job-row"]`).Length())
	require.Contains(t, doc.Find(`[data-testid="job-args"]`).First().Text(), `"tenant_id": `+itoa(ta.ID))
	require.Equal(t, 1, doc.Find(`[data-testid="nav-jobs"]`).Length())

	// Retry makes a scheduled run due now; cancel cancels the other.
	res = op.post("/admin/river/jobs/"+itoa(runs[0].RiverJobID)+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, "/admin/river?state=available", res.header.Get("Location"))
	res = op.post("/admin/river/jobs/"+itoa(runs[1].RiverJobID)+"/cancel", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	states := map[int64]string{}
	for _, r := range runs {
		var st string
		require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT state::text FROM river_job WHERE id = $1`, r.RiverJobID).Scan(&st))
		states[r.RiverJobID] = st
	}
	require.Equal(t, map[int64]string{runs[0].RiverJobID: "available", runs[1].RiverJobID: "cancelled"}, states)
	res = op.post("/admin/river/jobs/999999999/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, op.get("/admin/river").body, "999999999")
}

func TestOperatorsSeeEveryTenantsMigrations(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ta, emailA := p.tenant("acme", "acme.test")
	_, emailB := p.tenant("globex", "globex.test")
	opEmail := p.operator()
	a, b := p.browser(), p.browser()
	a.login(emailA)
	b.login(emailB)
	idA := a.createMigration(migrationForm(), goodCSV())
	formB := migrationForm()
	formB.Set("name", "Sede Globex")
	idB := b.createMigration(formB, strings.ReplaceAll(goodCSV(), "acme.test", "globex.test"))

	op := p.browser()
	op.login(opEmail)
	doc := op.get("/migrations").doc(t)
	rows := doc.Find(`[data-testid="migration-row"]`)
	require.Equal(t, 2, rows.Length())
	require.Equal(t, "globex", rows.Eq(0).Find(`[data-testid="migration-tenant"]`).Text())
	require.Equal(t, "Sede Globex", rows.Eq(0).Find(`[data-testid="migration-name"]`).Text())
	require.Equal(t, "acme", rows.Eq(1).Find(`[data-testid="migration-tenant"]`).Text())

	// The operator opens either tenant's migration as its tenant would.
	for _, id := range []int64{idA, idB} {
		res := op.get("/migrations/" + itoa(id))
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, http.StatusOK, op.get("/migrations/"+itoa(id)+"/status.json").status)
	}
	require.Contains(t, op.get("/migrations/"+itoa(idB)).body, "Sede Globex")
	require.Equal(t, http.StatusNotFound, op.get("/migrations/999999999").status)

	// Customers still see only their own, with no tenant column, and get
	// 404 for the other's.
	docA := a.get("/migrations").doc(t)
	require.Equal(t, 1, docA.Find(`[data-testid="migration-row"]`).Length())
	require.Equal(t, 0, docA.Find(`[data-testid="migration-tenant"]`).Length())
	require.Equal(t, http.StatusNotFound, a.get("/migrations/"+itoa(idB)).status)
	require.Equal(t, http.StatusNotFound, b.get("/migrations/"+itoa(idA)+"/resources").status)
	require.Equal(t, http.StatusNotFound, b.post("/migrations/"+itoa(idA)+"/cancel", url.Values{}).status)
	mA, err := store.GetMigration(context.Background(), p.pool, ta.ID, idA)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, mA.Status)
}
