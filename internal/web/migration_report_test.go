package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// parseReport checks a report download's envelope (status, type, file
// name, byte-order mark) and parses it back as Excel would read it:
// ';'-separated, CRLF.
func parseReport(t *testing.T, res response, name string) [][]string {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
	require.Equal(t, `attachment; filename=`+name, res.header.Get("Content-Disposition"))
	require.True(t, strings.HasPrefix(res.body, "\ufeff"), "UTF-8 byte-order mark first")
	require.Contains(t, res.body, "\r\n")
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	return rows
}

// TestReportsCSV downloads a migration's two reports, in both languages,
// for every run and for one: a migration of 1,203 mailboxes in two runs
// and 702 messages not copied (more rows than one page of the store's
// reads), one with an old server's hostile sender, subject and folder.
func TestReportsCSV(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ctx := context.Background()
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("globex", "globex.test")
	b := p.browser()
	b.login(email)
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	require.Len(t, runs, 2)
	// 1,201 more valid mailboxes, then both runs start.
	_, err := p.pool.Exec(ctx, `INSERT INTO migration_lines (migration_id, tenant_id, line_no, local_user, remote_host, remote_user, status)
		SELECT $1, $2, n, 'box' || n || '@acme.test', 'mail.old.test', 'old' || n, 'ok' FROM generate_series(3, 1203) n`, id, tn.ID)
	require.NoError(t, err)
	p.startRun(tn.ID, runs[0])
	p.startRun(tn.ID, runs[1])
	started := time.Date(2030, 2, 1, 21, 0, 5, 0, time.UTC) // 22:00:05 in Rome
	ended := started.Add(90 * time.Minute)
	_, err = p.pool.Exec(ctx, `UPDATE mailbox_runs b SET
			status = CASE WHEN l.line_no = 2 AND r.run_no = 1 THEN 'failed' ELSE 'completed' END,
			error_text = CASE WHEN l.line_no = 2 AND r.run_no = 1 THEN 'Il vecchio server rifiuta l''accesso' END,
			folders = 4, found = 10 + l.line_no, copied = CASE WHEN r.run_no = 1 THEN l.line_no ELSE 1 END,
			already_there = 3, too_large = 1, excluded_folders = 2, failed = 0, bytes = 1000 * l.line_no,
			started_at = $2, ended_at = $3
		FROM runs r, migration_lines l WHERE r.id = b.run_id AND l.id = b.line_id AND r.migration_id = $1`, id, started, ended)
	require.NoError(t, err)
	var anna int64 // line 1, run 1
	require.NoError(t, p.pool.QueryRow(ctx, `SELECT b.id FROM mailbox_runs b JOIN migration_lines l ON l.id = b.line_id
		WHERE b.run_id = $1 AND l.line_no = 1`, runs[0].ID).Scan(&anna))
	// Anna's run 1 verified: 11 present (the others not verified yet).
	_, err = p.pool.Exec(ctx, `UPDATE mailbox_runs SET verified = 11 WHERE id = $1`, anna)
	require.NoError(t, err)
	_, err = p.pool.Exec(ctx, `INSERT INTO skipped_messages (mailbox_run_id, tenant_id, folder, uid, size, date, sender, subject, reason)
		SELECT $1, $2, 'INBOX', n, 40000000 + n, $3, 'Studio Bianchi <info@bianchi.test>', 'Tavole ' || n, 'too_large'
		FROM generate_series(1, 700) n`, anna, tn.ID, started)
	require.NoError(t, err)
	_, err = p.pool.Exec(ctx, `INSERT INTO skipped_messages (mailbox_run_id, tenant_id, folder, uid, size, date, sender, subject, reason, detail)
		VALUES ($1, $2, '=Cartella', 9000, 5000, NULL, '@evil <e@evil.test>', '=HYPERLINK("http://evil.test","clic")', 'refused_by_destination', 'NO quota'),
		       ($1, $2, 'Posta; "vecchia"', 9001, 6000, NULL, '+39 02 1234', '-2+3', 'not_delivered', '')`, anna, tn.ID)
	require.NoError(t, err)
	base := fmt.Sprintf("/migrations/%d/report/", id)

	// Risorse links them all.
	links := b.get(fmt.Sprintf("/migrations/%d/resources", id)).doc(t).Find(`[data-testid="report-link"]`)
	var hrefs []string
	for i := range links.Length() {
		hrefs = append(hrefs, links.Eq(i).AttrOr("href", ""))
	}
	require.Equal(t, []string{base + "mailboxes.csv", base + "messages.csv", base + "mailboxes.csv?run=1",
		base + "messages.csv?run=1", base + "mailboxes.csv?run=2", base + "messages.csv?run=2"}, hrefs)

	// The mailboxes, in Italian: a row per mailbox and run, by line.
	rows := parseReport(t, b.get(base+"mailboxes.csv"), fmt.Sprintf("trasloco-%d-mailboxes.csv", id))
	require.Equal(t, []string{"casella locale", "utente remoto", "esecuzione", "stato", "cartelle", "trovati", "copiati",
		"già presenti", "oltre 30 MB", "cartelle escluse", "non riusciti", "verificati", "byte copiati",
		"inizio (Europe/Rome)", "fine (Europe/Rome)", "motivo"}, rows[0])
	require.Len(t, rows, 1+1203*2)
	require.Equal(t, []string{"anna@acme.test", "anna@old.test", "1", "Completata", "4", "11", "1", "3", "1", "2", "0", "11",
		"1000", "2030-02-01 22:00:05", "2030-02-01 23:30:05", ""}, rows[1])
	require.Equal(t, []string{"anna@acme.test", "anna@old.test", "2", "Completata", "4", "11", "1", "3", "1", "2", "0", "",
		"1000", "2030-02-01 22:00:05", "2030-02-01 23:30:05", ""}, rows[2])
	require.Equal(t, []string{"marco@acme.test", "marco.rossi", "1", "Non riuscita", "4", "12", "2", "3", "1", "2", "0", "",
		"2000", "2030-02-01 22:00:05", "2030-02-01 23:30:05", "Il vecchio server rifiuta l'accesso"}, rows[3])
	for i, row := range rows[1:] {
		require.Len(t, row, 16)
		require.Equal(t, fmt.Sprint(1000*(i/2+1)), row[12], "row %d: lines in order, two runs each", i+1)
		require.Equal(t, fmt.Sprint(i%2+1), row[2], "row %d", i+1)
	}
	require.Equal(t, "box1203@acme.test", rows[len(rows)-1][0])
	require.Equal(t, "1203000", rows[len(rows)-1][12])

	// One run, in English.
	rows = parseReport(t, b.get(base+"mailboxes.csv?run=1&lang=en"), fmt.Sprintf("trasloco-%d-run1-mailboxes.csv", id))
	require.Equal(t, []string{"local mailbox", "remote user", "run", "status", "folders", "found", "copied",
		"already there", "over 30 MB", "excluded folders", "failed", "verified", "bytes copied",
		"started (Europe/Rome)", "ended (Europe/Rome)", "reason"}, rows[0])
	require.Len(t, rows, 1+1203)
	require.Equal(t, "Failed", rows[2][3])
	for _, row := range rows[1:] {
		require.Equal(t, "1", row[2])
	}

	// The messages not copied, in English (the session remembers it), the
	// old server's words defused.
	rows = parseReport(t, b.get(base+"messages.csv"), fmt.Sprintf("trasloco-%d-messages.csv", id))
	require.Equal(t, []string{"local mailbox", "run", "folder", "UID", "date (Europe/Rome)", "sender", "subject", "size (bytes)", "reason"}, rows[0])
	require.Len(t, rows, 1+702)
	require.Equal(t, []string{"anna@acme.test", "1", "'=Cartella", "9000", "", "'@evil <e@evil.test>",
		`'=HYPERLINK("http://evil.test","clic")`, "5000", "the new mailbox refused the message (NO quota)"}, rows[1])
	require.Equal(t, []string{"anna@acme.test", "1", "INBOX", "1", "2030-02-01 22:00:05", "Studio Bianchi <info@bianchi.test>",
		"Tavole 1", "40000001", "over 30 MB"}, rows[2])
	require.Equal(t, "700", rows[701][3], "UIDs in order across the store's pages")
	require.Equal(t, []string{"anna@acme.test", "1", `Posta; "vecchia"`, "9001", "", "'+39 02 1234", "'-2+3", "6000",
		"the old server did not deliver the message"}, rows[702])
	rows = parseReport(t, b.get(base+"messages.csv?run=2&lang=it"), fmt.Sprintf("trasloco-%d-run2-messages.csv", id))
	require.Len(t, rows, 1, "run 2 skipped nothing: the header alone")
	require.Equal(t, "mittente", rows[0][5])

	// A run the migration does not have, or no number: 404.
	for _, q := range []string{"?run=3", "?run=0", "?run=x"} {
		require.Equal(t, http.StatusNotFound, b.get(base+"mailboxes.csv"+q).status, q)
		require.Equal(t, http.StatusNotFound, b.get(base+"messages.csv"+q).status, q)
	}

	// Another tenant: 404 on both, with or without a run, and nothing of
	// acme's in the answer.
	o := p.browser()
	o.login(otherEmail)
	for _, path := range []string{base + "mailboxes.csv", base + "messages.csv", base + "mailboxes.csv?run=1", base + "messages.csv?run=1"} {
		res := o.get(path)
		require.Equal(t, http.StatusNotFound, res.status, path)
		require.NotContains(t, res.body, "anna@acme.test")
	}
	require.Equal(t, http.StatusNotFound, o.get("/migrations/999999999/report/mailboxes.csv").status)
}
