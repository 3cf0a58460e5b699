package e2e

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// readReport downloads a CSV report as the customer and parses it back as
// a spreadsheet would: byte-order mark, ';', CRLF.
func readReport(t *testing.T, u *customer, path string) [][]string {
	t.Helper()
	status, hdr, body := u.get(path)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "text/csv; charset=utf-8", hdr.Get("Content-Type"))
	require.Contains(t, hdr.Get("Content-Disposition"), "attachment")
	require.True(t, strings.HasPrefix(body, "\ufeff"))
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	require.NoError(t, err)
	return rows
}

// requireReports checks the reports Risorse (d) links against what the
// real runs stored: a row per mailbox and run with its figures and times,
// and the one message over the size limit, in Italian and in English.
func requireReports(t *testing.T, st *stack, u *customer, d *goquery.Document, migrationID int64) {
	t.Helper()
	href := func(kind, run string) string {
		s := d.Find(`[data-testid="report-link"][data-kind="` + kind + `"][data-run="` + run + `"]`)
		require.Equal(t, 1, s.Length(), "%s report of run %s linked", kind, run)
		return s.AttrOr("href", "")
	}
	inLang := func(path, l string) string {
		if strings.Contains(path, "?") {
			return path + "&lang=" + l
		}
		return path + "?lang=" + l
	}
	mbs, err := store.ListMigrationMailboxes(st.ctx, st.pool, st.tenant.ID, migrationID)
	require.NoError(t, err)
	require.Len(t, mbs, 6, "three mailboxes, two runs")
	rome, err := time.LoadLocation(st.tenant.Timezone)
	require.NoError(t, err)
	at := func(tm *time.Time) string {
		require.NotNil(t, tm)
		return tm.In(rome).Format("2006-01-02 15:04:05")
	}

	rows := readReport(t, u, href("mailboxes", "0"))
	require.Equal(t, "casella locale", rows[0][0])
	require.Equal(t, "inizio ("+st.tenant.Timezone+")", rows[0][13])
	require.Len(t, rows, 1+len(mbs))
	for i, mb := range mbs {
		require.NotNil(t, mb.Verdict.Verified, "every mailbox run is verified after its copy")
		require.Equal(t, []string{mb.LocalUser, mb.RemoteUser, strconv.Itoa(mb.RunNo), "Completata",
			strconv.Itoa(mb.Folders), strconv.Itoa(mb.Found), strconv.Itoa(mb.Copied), strconv.Itoa(mb.AlreadyThere),
			strconv.Itoa(mb.TooLarge), strconv.Itoa(mb.ExcludedFolders), strconv.Itoa(mb.Failed), strconv.Itoa(*mb.Verdict.Verified),
			strconv.FormatInt(mb.Bytes, 10), at(mb.StartedAt), at(mb.EndedAt), ""}, rows[1+i], "row %d", i+1)
	}
	// What the runs did, as the test knows it from its own seeding: 22
	// messages in run 1 for each mailbox, the big one left out.
	require.Equal(t, []string{st.boxes[0].user, "1", "22", "1", "22"}, []string{rows[1][0], rows[1][2], rows[1][6], rows[1][8], rows[1][11]})

	rows = readReport(t, u, inLang(href("mailboxes", "2"), "en"))
	require.Equal(t, "local mailbox", rows[0][0])
	require.Len(t, rows, 1+3)
	for _, row := range rows[1:] {
		require.Equal(t, "2", row[2])
		require.Equal(t, "Completed", row[3])
	}

	rows = readReport(t, u, inLang(href("messages", "0"), "en"))
	require.Equal(t, []string{"local mailbox", "run", "folder", "UID", "date (" + st.tenant.Timezone + ")", "sender", "subject", "size (bytes)", "reason"}, rows[0])
	skipped, err := store.ListSkippedMessages(st.ctx, st.pool, st.tenant.ID, mbs[0].ID)
	require.NoError(t, err)
	require.Len(t, skipped, 1)
	sk := skipped[0]
	require.NotEmpty(t, sk.Subject)
	require.NotNil(t, sk.Date)
	// Run 2 meets the big message again: it lists it for its own run too.
	require.GreaterOrEqual(t, len(rows), 2)
	require.Equal(t, []string{st.boxes[0].user, "1", "INBOX", strconv.FormatUint(uint64(sk.UID), 10), at(sk.Date),
		sk.Sender, sk.Subject, strconv.FormatInt(sk.Size, 10), "over 30 MB"}, rows[1])
	require.Greater(t, sk.Size, int64(128<<10))
	rows = readReport(t, u, inLang(href("messages", "1"), "it"))
	require.Len(t, rows, 2, "run 1: the big message alone")
	require.Equal(t, "oltre 30 MB", rows[1][8])
}
