package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// otherTenant is a second tenant in the fixture's database, with the
// fixture's servers: the same helpers work for it.
func (f *fixture) otherTenant(t *testing.T, name, domain string) *fixture {
	t.Helper()
	g := *f
	tn, err := store.CreateTenant(f.ctx, f.pool, store.NewTenant{Name: name, NotifyEmail: "it@" + domain, Domains: []string{domain}})
	require.NoError(t, err)
	g.tenant = tn
	return &g
}

func (f *fixture) userIn(t *testing.T, domain, pw string) string {
	t.Helper()
	u := testenv.UniqueUser(t, domain)
	require.NoError(t, f.src.AddUser(u, pw))
	require.NoError(t, f.dst.AddUser(u, "dest-"+pw))
	return u
}

// One tenant's many mailboxes do not take every copy slot: with a
// per-tenant limit of 1 and two workers, tenant B's mailbox starts while
// tenant A's first is still copying, and A's copy one at a time.
func TestPerTenantLimitLetsAnotherTenantIn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.PerTenantLimit = 1
	rc := f.client(t, 2)
	slow := slowProxy(t, f.src.TLSAddr(), 60<<10)

	var users []string
	var csv strings.Builder
	for i := range 3 {
		u := f.user(t, "pw", true)
		users = append(users, u)
		testenv.Append(t, f.src.Dial(t, u, "pw"), "INBOX", msgList(int64(100+i), 0, 30, 8000)...)
		fmt.Fprintf(&csv, "%s;%s;%s;pw\n", u, slow, u)
	}
	ma := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runsA := f.validate(t, rc, ma)
	f.startNow(t, rc, runsA[0])
	waitFor(t, 30*time.Second, "tenant A copying", func() (bool, string) {
		for _, mb := range f.mailboxes(t, runsA[0].ID) {
			if mb.Status == store.MailboxRunning {
				return true, ""
			}
		}
		return false, "no mailbox running"
	})

	g := f.otherTenant(t, "Beta", "beta.test")
	bea := g.userIn(t, "beta.test", "pw-b")
	mb := g.migration(t, fmt.Sprintf("%s;%s;%s;pw-b", bea, f.src.TLSAddr(), bea), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runsB := g.validate(t, rc, mb)
	g.startNow(t, rc, runsB[0])
	g.waitRun(t, runsB[0].ID, 2*time.Minute)
	f.waitRun(t, runsA[0].ID, 3*time.Minute)

	type span struct{ from, to time.Time }
	var spans []span
	firstEnd := time.Time{}
	for _, u := range users {
		m := f.mailboxes(t, runsA[0].ID)[u]
		require.Equal(t, store.MailboxCompleted, m.Status)
		spans = append(spans, span{*m.StartedAt, *m.EndedAt})
		if firstEnd.IsZero() || m.EndedAt.Before(firstEnd) {
			firstEnd = *m.EndedAt
		}
	}
	require.Equal(t, 1, maxOverlap(spans), "tenant A copied more than one mailbox at once")
	b := g.mailboxes(t, runsB[0].ID)[bea]
	require.Equal(t, store.MailboxCompleted, b.Status)
	require.True(t, b.StartedAt.Before(firstEnd), "tenant B started at %s, after tenant A's first mailbox ended at %s", b.StartedAt, firstEnd)
}

// A tenant's validations run one at a time across processes (two
// clients here), so its slow ones leave the other slots to others.
func TestPerTenantValidationLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.CheckTimeout = 2 * time.Second
	for range 2 {
		rc, err := jobs.NewClient(f.deps, jobs.ClientOptions{Workers: 1, ValidateWorkers: 2, FetchPollInterval: 100 * time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, rc.Start(f.ctx))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = rc.StopAndCancel(ctx)
		})
	}
	ins := f.client(t, 1) // also works; the limit holds across all three
	slow := newSilentServer(t)
	var ms []store.Migration
	for range 3 {
		u := f.user(t, "pw", true)
		m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw", u, slow.addr, u), migrationOpts{insecureTLS: true})
		_, err := ins.Insert(f.ctx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: m.ID}, nil)
		require.NoError(t, err)
		ms = append(ms, m)
	}
	for _, m := range ms {
		waitFor(t, 2*time.Minute, "validation ended", func() (bool, string) {
			got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
			require.NoError(t, err)
			return got.Status == store.MigrationRed, string(got.Status)
		})
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	require.Equal(t, 1, slow.max, "the tenant's validations ran at once")
}
