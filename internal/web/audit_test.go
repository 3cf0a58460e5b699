package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type auditRow struct{ action, actor, tenant string }

func auditRows(t *testing.T, res response) []auditRow {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status, res.body)
	var rows []auditRow
	res.doc(t).Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, auditRow{
			action: s.AttrOr("data-action", ""),
			actor:  strings.Join(strings.Fields(s.Find(`[data-testid="audit-actor"]`).Text()), " "),
			tenant: strings.TrimSpace(s.Find(`[data-testid="audit-tenant"]`).Text()),
		})
	})
	return rows
}

// The audit trail: sign-ins (failed ones too), migrations created and
// cancelled, and an operator's actions on a tenant; each tenant sees its
// own, operators see all; every access-log line names the user.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	logs := &lockedLog{}
	p := setup(t, panelOpts{logs: logs})
	_, email := p.tenant("acme", "acme.test")
	_, betaEmail := p.tenant("beta", "beta.test")
	opEmail := p.operator()

	require.Equal(t, http.StatusUnauthorized, p.browser().post("/login", url.Values{"email": {email}, "password": {"wrong"}}).status)
	a := p.browser()
	a.login(email)
	id := a.createMigration(migrationForm(), goodCSV())
	require.Equal(t, http.StatusSeeOther, a.post(fmt.Sprintf("/migrations/%d/cancel", id), url.Values{"confirm": {"1"}}).status)
	other := a.createMigration(migrationForm(), goodCSV())

	b := p.browser()
	b.login(betaEmail)

	op := p.browser()
	op.login(opEmail)
	require.Equal(t, http.StatusSeeOther, op.post(fmt.Sprintf("/migrations/%d/cancel", other), url.Values{"confirm": {"1"}}).status)

	// The navigation leads each reader to its own trail.
	require.Equal(t, "/audit", a.get("/migrations").doc(t).Find(`[data-testid="nav-audit"]`).AttrOr("href", ""))
	got := auditRows(t, a.get("/audit"))
	var actions []string
	for _, r := range got {
		actions = append(actions, r.action+" "+r.actor)
	}
	require.Equal(t, []string{
		"migration_cancelled noc@provider.test (operatore)",
		"migration_created " + email,
		"migration_cancelled " + email,
		"migration_created " + email,
		"login " + email,
		"login_failed " + email,
	}, actions, "acme sees its own events, the operator's on its migration marked")

	// An operator's action whose handler records nothing itself (here a
	// start refused: the migration is still being checked) is recorded
	// with its path.
	third := a.createMigration(migrationForm(), goodCSV())
	require.Less(t, op.post(fmt.Sprintf("/migrations/%d/start", third), nil).status, 400)
	got = auditRows(t, a.get("/audit"))
	require.Equal(t, "operator_action", got[0].action)
	require.Equal(t, "noc@provider.test (operatore)", got[0].actor)
	require.Contains(t, a.get("/audit").body, fmt.Sprintf("POST /migrations/%d/start", third))

	require.Equal(t, "/admin/audit", op.get("/migrations").doc(t).Find(`[data-testid="nav-audit"]`).AttrOr("href", ""))
	all := auditRows(t, op.get("/admin/audit"))
	tenants := map[string]bool{}
	for _, r := range all {
		tenants[r.tenant] = true
	}
	require.True(t, tenants["acme"] && tenants["beta"] && tenants["Provider"], "%v", all)
	require.Len(t, all, 10)
	require.Equal(t, http.StatusNotFound, a.get("/admin/audit").status, "customers do not see the operators' page")
	for _, r := range auditRows(t, b.get("/audit")) {
		require.Equal(t, betaEmail, r.actor, "beta sees only its own")
	}

	// Every access-log line carries the user id: 0 signed out.
	seen := map[float64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] != "http request" {
			continue
		}
		uid, ok := rec["user_id"].(float64)
		require.True(t, ok, "access log line without user_id: %s", line)
		seen[uid] = true
	}
	require.True(t, seen[0], "signed-out requests")
	require.GreaterOrEqual(t, len(seen), 4, "the three users and nobody: %v", seen)
}

// requireAudited checks the audit trail of the tenant (every tenant for 0)
// holds each action at least once.
func (p *panel) requireAudited(tenantID int64, actions ...string) {
	p.t.Helper()
	rows, err := p.pool.Query(context.Background(), `SELECT DISTINCT action FROM audit_events WHERE $1 = 0 OR tenant_id = $1`, tenantID)
	require.NoError(p.t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(p.t, err)
	for _, a := range actions {
		require.Contains(p.t, got, a, "audit trail of tenant %d", tenantID)
	}
}
