package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// seedMigrations stores n migrations of the tenant through the store, the
// i-th (0-based) named "Sede i" with mailboxes userI-a and userI-b of
// domain, created a minute apart (the last is the newest); every fifth is
// red with its second line failed.
func (p *panel) seedMigrations(tenantID int64, domain string, n int) []int64 {
	p.t.Helper()
	ctx := context.Background()
	ids := make([]int64, n)
	for i := range n {
		st := store.MigrationScheduled
		lines := []store.NewLine{
			{LineNo: 1, LocalUser: fmt.Sprintf("user%d-a@%s", i, domain), RemoteHost: "mail.old.test", RemoteUser: fmt.Sprintf("old%d-a", i)},
			{LineNo: 2, LocalUser: fmt.Sprintf("user%d-b@%s", i, domain), RemoteHost: "mail.old.test", RemoteUser: fmt.Sprintf("old%d-b", i)},
		}
		if i%5 == 0 {
			st = store.MigrationRed
			lines[1].Status, lines[1].Error = store.LineFailed, i18n.New("log.text", fmt.Sprintf("Riga 2: problema della sede %d", i))
		}
		m, err := store.CreateMigration(ctx, p.pool, tenantID, store.NewMigration{
			Name: fmt.Sprintf("Sede %d", i), Preset: "standard-ssl", Status: st,
			FirstRunAt: testNow.Add(24 * time.Hour), Lines: lines,
		})
		require.NoError(p.t, err)
		_, err = p.pool.Exec(ctx, `UPDATE migrations SET created_at = $2 WHERE id = $1`, m.ID, testNow.Add(time.Duration(i)*time.Minute))
		require.NoError(p.t, err)
		ids[i] = m.ID
	}
	return ids
}

func rowNames(t *testing.T, res response) []string {
	t.Helper()
	var names []string
	res.doc(t).Find(`[data-testid="migration-name"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
	return names
}

func TestMigrationListPaged(t *testing.T) {
	t.Parallel()
	p := setup(t)
	acme, email := p.tenant("acme", "acme.test")
	other, _ := p.tenant("other", "other.test")
	p.seedMigrations(acme.ID, "acme.test", 120)
	p.seedMigrations(other.ID, "other.test", 3)
	b := p.browser()
	b.login(email)

	// Page 1: the 50 newest, newest first, and a link to page 2 only.
	res := b.get("/migrations")
	require.Equal(t, http.StatusOK, res.status)
	names := rowNames(t, res)
	require.Len(t, names, migrationsPerPage)
	require.Equal(t, "Sede 119", names[0])
	require.Equal(t, "Sede 70", names[49])
	doc := res.doc(t)
	require.Equal(t, 0, doc.Find(`[data-testid="migrations-pager-prev"]`).Length())
	next := doc.Find(`[data-testid="migrations-pager-next"]`).AttrOr("href", "")
	require.Equal(t, "/migrations?page=2", next)
	// A red row lists its reason, found in one query for the page.
	red := doc.Find(`[data-testid="migration-row"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find(`[data-testid="migration-name"]`).Text() == "Sede 115"
	})
	require.Equal(t, "Riga 2: problema della sede 115", red.Find(`[data-testid="migration-problem"]`).Text())

	// Page 3: the last 20, a link back, none forward.
	res = b.get("/migrations?page=3")
	names = rowNames(t, res)
	require.Len(t, names, 20)
	require.Equal(t, "Sede 19", names[0])
	require.Equal(t, "Sede 0", names[19])
	doc = res.doc(t)
	require.Equal(t, "/migrations?page=2", doc.Find(`[data-testid="migrations-pager-prev"]`).AttrOr("href", ""))
	require.Equal(t, 0, doc.Find(`[data-testid="migrations-pager-next"]`).Length())

	// Search by name, and by a mailbox's local or remote address.
	require.Equal(t, []string{"Sede 117"}, rowNames(t, b.get("/migrations?q="+url.QueryEscape("sede 117"))))
	require.Equal(t, []string{"Sede 42"}, rowNames(t, b.get("/migrations?q="+url.QueryEscape("USER42-B@acme"))))
	require.Equal(t, []string{"Sede 7"}, rowNames(t, b.get("/migrations?q=old7-a")))
	// LIKE's wildcards are text.
	res = b.get("/migrations?q=" + url.QueryEscape("%"))
	require.Empty(t, rowNames(t, res))
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="no-matches"]`).Length())
	// Another tenant's migrations are never found.
	require.Empty(t, rowNames(t, b.get("/migrations?q=other.test")))

	// Filter by status, with the search kept in the pager's links.
	res = b.get("/migrations?status=red")
	names = rowNames(t, res)
	require.Len(t, names, 24)
	for _, n := range names {
		i, err := strconv.Atoi(strings.TrimPrefix(n, "Sede "))
		require.NoError(t, err)
		require.Zero(t, i%5, n)
	}
	require.Equal(t, "red", res.doc(t).Find(`[data-testid="migration-filter-status"] option[selected]`).AttrOr("value", ""))
	res = b.get("/migrations?status=scheduled&q=sede")
	require.Len(t, rowNames(t, res), 50)
	require.Equal(t, "/migrations?page=2&q=sede&status=scheduled", res.doc(t).Find(`[data-testid="migrations-pager-next"]`).AttrOr("href", ""))
	// An unknown status is ignored, not an error.
	require.Len(t, rowNames(t, b.get("/migrations?status=nonsense")), 50)
	// A customer cannot pick another tenant.
	names = rowNames(t, b.get("/migrations?tenant="+itoa(other.ID)))
	require.Equal(t, "Sede 119", names[0])
}

func TestMigrationListPagedOperator(t *testing.T) {
	t.Parallel()
	p := setup(t)
	acme, _ := p.tenant("acme", "acme.test")
	other, _ := p.tenant("other", "other.test")
	p.seedMigrations(acme.ID, "acme.test", 60)
	p.seedMigrations(other.ID, "other.test", 3)
	b := p.browser()
	b.login(p.operator())

	res := b.get("/migrations")
	require.Len(t, rowNames(t, res), migrationsPerPage)
	doc := res.doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="migration-filter-tenant"] option[value="`+itoa(other.ID)+`"]`).Length())

	res = b.get("/migrations?tenant=" + itoa(other.ID))
	require.Equal(t, []string{"Sede 2", "Sede 1", "Sede 0"}, rowNames(t, res))
	res.doc(t).Find(`[data-testid="migration-tenant"]`).Each(func(_ int, s *goquery.Selection) { require.Equal(t, "other", s.Text()) })
	res = b.get("/migrations?tenant=" + itoa(acme.ID) + "&q=user5-a@")
	require.Equal(t, []string{"Sede 5"}, rowNames(t, res))
}

// seedBigMigration stores a scheduled migration of n mailboxes whose run 1
// has started, every mailbox with 10 messages done of 20 and 1 KiB copied;
// mailbox i%50 == 0 failed. It returns the migration and the run.
func (p *panel) seedBigMigration(tenantID int64, domain string, n int) (int64, store.Run) {
	p.t.Helper()
	ctx := context.Background()
	lines := make([]store.NewLine, n)
	for i := range n {
		lines[i] = store.NewLine{LineNo: i + 1, LocalUser: fmt.Sprintf("box%04d@%s", i+1, domain), RemoteHost: "mail.old.test", RemoteUser: fmt.Sprintf("old%04d", i+1)}
	}
	m, err := store.CreateMigration(ctx, p.pool, tenantID, store.NewMigration{Name: "Grande", Preset: "standard-ssl",
		Status: store.MigrationScheduled, FirstRunAt: testNow.Add(time.Hour), Lines: lines})
	require.NoError(p.t, err)
	_, err = p.pool.Exec(ctx, `UPDATE migration_lines SET status = 'ok' WHERE migration_id = $1`, m.ID)
	require.NoError(p.t, err)
	run, err := store.CreateRun(ctx, p.pool, tenantID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: testNow.Add(time.Hour)})
	require.NoError(p.t, err)
	p.startRun(tenantID, run)
	_, err = p.pool.Exec(ctx, `UPDATE mailbox_runs b SET status = CASE WHEN l.line_no % 50 = 0 THEN 'failed' ELSE 'running' END,
		done = 10, total = 20, copied = 10, bytes = 1024, started_at = now()
		FROM migration_lines l WHERE l.id = b.line_id AND b.run_id = $1`, run.ID)
	require.NoError(p.t, err)
	return m.ID, run
}

func TestMigrationPagePaged(t *testing.T) {
	t.Parallel()
	p := setup(t)
	acme, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	id, _ := p.seedBigMigration(acme.ID, "acme.test", 250)
	b := p.browser()
	b.login(email)
	path := "/migrations/" + itoa(id)

	res := b.get(path)
	require.Equal(t, http.StatusOK, res.status)
	doc := res.doc(t)
	require.Equal(t, mailboxesPerPage, doc.Find(`[data-testid="line-row"]`).Length())
	require.Equal(t, mailboxesPerPage, doc.Find(`[data-testid="progress-row"]`).Length())
	require.Equal(t, "box0001@acme.test", doc.Find(`[data-testid="progress-local"]`).First().Text())
	// The totals are every mailbox's, not the page's.
	require.Equal(t, "2.500 di almeno 5.000 · 50%", doc.Find(`[data-testid="progress-total"] [data-testid="progress-count"]`).Text())
	require.Contains(t, doc.Find(`[data-testid="progress-summary"]`).Text(), "5")
	require.Contains(t, doc.Find(`[data-testid="progress-summary"]`).Text(), "250")
	require.Equal(t, path+"?page=2#lines", doc.Find(`[data-testid="lines-pager-next"]`).AttrOr("href", ""))
	require.Equal(t, path+"/status.json", doc.Find(`[data-status-url]`).AttrOr("data-status-url", ""))

	res = b.get(path + "?page=3")
	doc = res.doc(t)
	require.Equal(t, 50, doc.Find(`[data-testid="line-row"]`).Length())
	require.Equal(t, "201", doc.Find(`[data-testid="line-row"]`).First().AttrOr("data-line", ""))
	require.Equal(t, path+"/status.json?page=3", doc.Find(`[data-status-url]`).AttrOr("data-status-url", ""))

	res = b.get(path + "?q=box0150")
	doc = res.doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="line-row"]`).Length())
	require.Equal(t, "box0150@acme.test", doc.Find(`[data-testid="progress-local"]`).Text())
	require.Equal(t, "failed", doc.Find(`[data-testid="progress-row"]`).AttrOr("data-status", ""))

	// status.json: the totals of all, the mailboxes of the page asked for.
	var st migrationStatusJSON
	res = b.get(path + "/status.json?page=2")
	require.Equal(t, http.StatusOK, res.status)
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	require.Len(t, st.Mailboxes, mailboxesPerPage)
	require.Equal(t, 101, st.Mailboxes[0].LineNo)
	require.Equal(t, 250, st.Totals.Mailboxes)
	require.Equal(t, 5, st.Totals.Failed)
	require.Equal(t, 2500, st.Totals.Done)
	require.Equal(t, int64(250*1024), st.Totals.Bytes)
	res = b.get(path + "/status.json?q=box0007")
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	require.Len(t, st.Mailboxes, 1)
	require.Equal(t, "box0007@acme.test", st.Mailboxes[0].LocalUser)

	// Risorse: paged, searchable, with totals of every mailbox.
	res = b.get(path + "/resources")
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, mailboxesPerPage, doc.Find(`[data-testid="resource-mailbox"]`).Length())
	require.Equal(t, "250", doc.Find(`[data-testid="resource-total"][data-run="1"] [data-testid="total-mailboxes"]`).Text())
	require.Equal(t, "2500", doc.Find(`[data-testid="resource-total"][data-run="1"] [data-testid="total-copied"]`).Text())
	require.Equal(t, path+"/resources?page=2", doc.Find(`[data-testid="resources-pager-next"]`).AttrOr("href", ""))
	res = b.get(path + "/resources?q=box0249")
	doc = res.doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="resource-mailbox"]`).Length())
	require.Equal(t, "249", doc.Find(`[data-testid="resource-mailbox"]`).AttrOr("data-line", ""))

	// Another tenant: 404 with or without the paging parameters.
	ob := p.browser()
	ob.login(otherEmail)
	for _, u := range []string{path + "?page=2", path + "/status.json?page=2", path + "/resources?q=box"} {
		require.Equal(t, http.StatusNotFound, ob.get(u).status, u)
	}
}

func TestMigrationPageRedReasonsCapped(t *testing.T) {
	t.Parallel()
	p := setup(t)
	acme, email := p.tenant("acme", "acme.test")
	ctx := context.Background()
	// More failed lines than one page shows: the first reasons are listed
	// above the table too, so none hides on a later page.
	lines := make([]store.NewLine, mailboxesPerPage+30)
	for i := range lines {
		lines[i] = store.NewLine{LineNo: i + 1, Status: store.LineFailed, Error: i18n.New("log.text", fmt.Sprintf("Riga %d: non va", i+1))}
	}
	m, err := store.CreateMigration(ctx, p.pool, acme.ID, store.NewMigration{Name: "Rossa", Preset: "standard-ssl",
		Status: store.MigrationRed, FirstRunAt: testNow.Add(time.Hour), Lines: lines})
	require.NoError(t, err)
	b := p.browser()
	b.login(email)
	doc := b.get("/migrations/" + itoa(m.ID)).doc(t)
	require.Equal(t, maxShownReasons, doc.Find(`[data-testid="red-reason"]`).Length())
	require.Equal(t, "Riga 1: non va", doc.Find(`[data-testid="red-reason"]`).First().Text())
	require.Contains(t, doc.Find(`[data-testid="more-reasons"]`).Text(), itoa(mailboxesPerPage+30-maxShownReasons))
	// The list: the first ten, and how many more.
	doc = b.get("/migrations").doc(t)
	require.Equal(t, maxListedProblems, doc.Find(`[data-testid="migration-problem"]`).Length())
}
