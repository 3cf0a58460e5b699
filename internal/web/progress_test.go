package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

func TestProgressFigures(t *testing.T) {
	t.Parallel()
	it := i18n.Italian
	for _, tc := range []struct {
		name                              string
		run, done, total                  int
		atLeast                           bool
		copied, already, tooLarge, failed int
		bytes                             int64
		elapsed                           time.Duration
		running                           bool
		count, detail, rate               string
		wantTotal, wantPercent            int
	}{
		// The engine's total trails what is done: never shown below it, never 100% before the end.
		{name: "total below done", run: 1, done: 60, total: 40, atLeast: true, copied: 60, bytes: 3 << 20, elapsed: 30 * time.Second, running: true,
			count: "60 di almeno 60 · 99%", detail: "60 copiati · 3 MB", rate: "102 KB/s", wantTotal: 60, wantPercent: 99},
		{name: "running", run: 1, done: 50, total: 200, atLeast: true, copied: 45, already: 5, bytes: 10 << 20, elapsed: 10 * time.Second, running: true,
			count: "50 di almeno 200 · 25%", detail: "45 copiati · 5 già presenti · 10 MB", rate: "1 MB/s · ancora almeno 30 s", wantTotal: 200, wantPercent: 25},
		{name: "ended", run: 1, done: 1200, total: 1200, copied: 1199, tooLarge: 1, bytes: 1 << 30, elapsed: time.Hour,
			count: "1.200 di 1.200 · 100%", detail: "1.199 copiati · 1 oltre 30 MB · 1 GB", wantTotal: 1200, wantPercent: 100},
		{name: "run 2, nothing new", run: 2, done: 183, total: 183, already: 183, elapsed: 2 * time.Second,
			count: "183 di 183 · 100%", detail: "nessun messaggio nuovo · 183 già presenti", wantTotal: 183, wantPercent: 100},
		{name: "run 2, some new", run: 2, done: 183, total: 183, copied: 3, already: 180, bytes: 4096, elapsed: 2 * time.Second,
			count: "183 di 183 · 100%", detail: "3 nuovi · 180 già presenti · 4 KB", wantTotal: 183, wantPercent: 100},
		{name: "waiting", run: 1, atLeast: true, count: "conteggio in corso…"},
		{name: "empty mailbox", run: 1, elapsed: time.Second, count: "nessun messaggio da copiare", detail: "0 copiati", wantPercent: 100},
		{name: "failures", run: 1, done: 10, total: 10, copied: 7, failed: 3, elapsed: time.Second,
			count: "10 di 10 · 100%", detail: "7 copiati · 3 non riusciti", wantTotal: 10, wantPercent: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := progressFigures(it, tc.run, tc.done, tc.total, tc.atLeast, tc.copied, tc.already, tc.tooLarge, tc.failed, tc.bytes, tc.elapsed, tc.running)
			require.Equal(t, tc.count, f.Count)
			require.Equal(t, tc.detail, f.Detail)
			require.Equal(t, tc.rate, f.Rate)
			require.Equal(t, tc.wantTotal, f.Total)
			require.Equal(t, tc.wantPercent, f.Percent)
			require.GreaterOrEqual(t, f.Total, f.Done)
		})
	}
	en := progressFigures(i18n.English, 1, 5, 10, true, 5, 0, 0, 0, 0, 0, true)
	require.Equal(t, "5 of at least 10 · 50%", en.Count)
}

func TestDisplayFolder(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"INBOX":                     "INBOX",
		"INBOX.Lavoro.Fatture 2023": "Lavoro/Fatture 2023",
		"INBOX.Sent":                "Sent",
		"Lavoro/Fatture 2023":       "Lavoro/Fatture 2023",
		"Archivio":                  "Archivio",
		"":                          "",
	} {
		require.Equal(t, want, displayFolder(in), in)
	}
}

// After run 1, before run 2: the page, the list and status.json say
// "between the runs", with run 2's time and the MX reminder; the page says
// who receives the email.
func TestBetweenRuns(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	id, runs := p.scheduleMigration(b, tn, migrationForm())
	require.Len(t, runs, 2)
	base := "/migrations/" + itoa(id)

	doc := b.get(base).doc(t)
	require.Equal(t, "scheduled", doc.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Contains(t, doc.Find(`[data-testid="status-detail"]`).Text(), "esecuzione 1 il 01/02/2030 22:00")
	require.Equal(t, 0, doc.Find(`[data-testid="between-runs"]`).Length())
	require.Equal(t, "a "+tn.NotifyEmail, doc.Find(`[data-testid="detail-notify"]`).Text())

	p.endFirstRun(tn.ID, runs[0])

	doc = b.get(base).doc(t)
	st := doc.Find(`[data-testid="status"]`)
	require.Equal(t, "between_runs", st.AttrOr("data-status", ""))
	require.Contains(t, st.Text(), "Tra le due esecuzioni")
	require.Contains(t, st.Text(), "esecuzione 1: completata con errori · la 2 il 02/02/2030 06:00")
	between := doc.Find(`[data-testid="between-runs"]`)
	require.Equal(t, 1, between.Length())
	require.Contains(t, between.Find(`[data-testid="between-when"]`).Text(), "02/02/2030 06:00 (ora italiana)")
	require.Contains(t, between.Find(`[data-testid="mx-reminder"]`).Text(), "cambia i record MX")
	require.Equal(t, base+"/status.json", doc.Find(`[data-testid="migration"]`).AttrOr("data-status-url", ""), "still followed: run 2 is to come")
	require.Equal(t, 1, doc.Find(`[data-testid="resources-link"]`).Length())
	require.Regexp(t, `^\(\d+ s\)$`, doc.Find(`[data-testid="run-row"][data-run="1"] [data-testid="run-duration"]`).Text(), "an ended run says how long it took")
	require.Equal(t, 0, doc.Find(`[data-testid="run-row"][data-run="2"] [data-testid="run-duration"]`).Length())

	row := b.get("/migrations").doc(t).Find(`[data-testid="migration-row"]`)
	require.Equal(t, "between_runs", row.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Contains(t, row.Find(`[data-testid="status-detail"]`).Text(), "la 2 il 02/02/2030 06:00")
	require.Equal(t, base+"/resources", row.Find(`[data-testid="migration-resources"]`).AttrOr("href", ""))

	res := b.get(base + "/status.json")
	require.Equal(t, http.StatusOK, res.status)
	var js migrationStatusJSON
	require.NoError(t, json.Unmarshal([]byte(res.body), &js))
	require.Equal(t, "between_runs", js.Status)
	require.True(t, strings.HasPrefix(js.Detail, "esecuzione 1:"), js.Detail)

	en := b.get(base + "?lang=en").doc(t)
	require.Contains(t, en.Find(`[data-testid="mx-reminder"]`).Text(), "switch the domain's MX records")
	require.Contains(t, en.Find(`[data-testid="between-when"]`).Text(), "(Italian time)")
}
