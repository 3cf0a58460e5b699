package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLifeRoutesIsolation signs in as tenant B and tries every page and
// action of a migration's life (confirmation pages, change, start, stop,
// resume, delete, add and remove mailboxes, cancel) on tenant A's
// scheduled migration: each answers 404, shows nothing of A's and
// changes nothing.
func TestLifeRoutesIsolation(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ta, emailA := p.tenant("acme", "acme.test")
	_, emailB := p.tenant("globex", "globex.test")

	a := p.browser()
	a.login(emailA)
	idA, runs := p.scheduleMigration(a, ta, migrationForm())
	require.NotEmpty(t, runs)

	snapshot := func() string {
		var b strings.Builder
		for _, table := range []string{"migrations", "runs", "mailbox_runs", "migration_lines", "migration_events", "river_job"} {
			b.WriteString(p.tableText(table))
		}
		return b.String()
	}
	before := snapshot()

	b := p.browser()
	b.login(emailB)
	base := "/migrations/" + itoa(idA)
	confirm := url.Values{"confirm": {"1"}}
	for name, res := range map[string]response{
		"cancel page":    b.get(base + "/cancel"),
		"edit page":      b.get(base + "/edit"),
		"edit":           b.post(base+"/edit", editForm("Rubata", "2030-03-01T22:00", "")),
		"start":          b.post(base+"/start", nil),
		"stop page":      b.get(base + "/stop"),
		"stop":           b.post(base+"/stop", confirm),
		"resume":         b.post(base+"/resume", nil),
		"delete page":    b.get(base + "/delete"),
		"delete":         b.post(base+"/delete", confirm),
		"add lines":      b.postFile(base+"/lines/add", nil, "luca@acme.test;mail.old.test;luca;pw\n"),
		"remove line":    b.post(base+"/lines/1/delete", nil),
		"cancel":         b.post(base+"/cancel", confirm),
		"corrected CSV":  b.postFile(base+"/lines", nil, goodCSV()),
		"retry run":      b.post(base+"/runs/1/retry", nil),
		"add run":        b.postFile(base+"/runs/add", url.Values{"run_at": {"2030-03-01T22:00"}}, goodCSV()),
		"report":         b.get(base + "/report/mailboxes.csv"),
		"report, a run":  b.get(base + "/report/mailboxes.csv?run=1"),
		"messages":       b.get(base + "/report/messages.csv"),
		"unknown id":     b.get("/migrations/999999999/edit"),
		"malformed id":   b.post("/migrations/x/start", nil),
		"malformed line": b.post(base+"/lines/x/delete", nil),
	} {
		require.Equal(t, http.StatusNotFound, res.status, name)
		require.NotContains(t, res.body, "Ufficio Milano", name)
		require.NotContains(t, res.body, "anna@acme.test", name)
	}
	require.Equal(t, before, snapshot(), "nothing changed")

	// A still opens its own.
	require.Equal(t, http.StatusOK, a.get(base+"/edit").status)
	require.Equal(t, http.StatusOK, a.get(base+"/cancel").status)
}
