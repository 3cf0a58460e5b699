package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// TestStoredTextInTheReadersLanguage: the mailbox log's events and the
// stored reasons (a mailbox's failure, a line's validation) are codes with
// arguments, so the same rows read in Italian and in English on Risorse,
// the log page, its download, status.json and the migration page, as the
// reader's language says; rows stored as text before codes are shown as
// stored in both.
func TestStoredTextInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id, runs := p.scheduleMigration(b, tn, migrationForm())
	base := "/migrations/" + itoa(id)
	mbs := p.startRun(tn.ID, runs[0])
	anna, marco := mbs[0], mbs[1]
	for _, mb := range mbs {
		_, err := store.StartMailboxRun(ctx, p.pool, tn.ID, mb.ID)
		require.NoError(t, err)
	}
	at := time.Date(2030, 2, 1, 21, 0, 5, 0, time.UTC)
	require.NoError(t, store.AppendMailboxLogs(ctx, p.pool, tn.ID, anna.ID, []store.LogLine{
		{At: at, Level: "info", Folder: "INBOX", Event: i18n.New("log.folder.done", "INBOX", 4632, 4630, 0, 1, 0, 1)},
		{At: at, Level: "warn", Folder: "INBOX", Event: i18n.New("log.message.too_large", uint32(7), i18n.Size(41<<20), i18n.Size(30<<20), "Anna <a@b.test>", "Preventivo", i18n.Day(at))},
	}))
	// A line of the log written before events: its text only.
	_, err := p.pool.Exec(ctx, `INSERT INTO mailbox_logs (mailbox_run_id, tenant_id, at, level, message) VALUES ($1, $2, $3, 'info', 'Riga scritta prima dei codici')`, anna.ID, tn.ID, at.Add(time.Second))
	require.NoError(t, err)
	require.NoError(t, store.FinishMailboxRun(ctx, p.pool, tn.ID, anna.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.New("run.dest_full", "anna@acme.test")))
	// marco failed before codes: its reason is a text.
	require.NoError(t, store.FinishMailboxRun(ctx, p.pool, tn.ID, marco.ID, store.MailboxFailed, store.MailboxCounters{}, i18n.Msg{}))
	_, err = p.pool.Exec(ctx, `UPDATE mailbox_runs SET error_text = 'Motivo scritto prima dei codici' WHERE id = $1`, marco.ID)
	require.NoError(t, err)

	want := map[i18n.Lang]struct{ full, done, large string }{
		i18n.Italian: {"è piena (quota superata)", `cartella copiata in "INBOX": 4.632 messaggi, 4.630 copiati`, "messaggio UID 7 non copiato: 41 MB supera il limite di 30 MB"},
		i18n.English: {"is full (over quota)", `folder done into "INBOX": 4,632 messages, 4,630 copied`, "message UID 7 not copied: 41 MB is over the 30 MB limit"},
	}
	logPath := base + "/resources/" + itoa(anna.ID) + "/log"
	for _, l := range []i18n.Lang{i18n.English, i18n.Italian, i18n.English} { // and back: switching changes the reasons too
		w := want[l]
		b.get(base + "/resources?lang=" + string(l))

		doc := b.get(base + "/resources").doc(t)
		errs := doc.Find(`[data-testid="resource-error"]`)
		require.Equal(t, 2, errs.Length())
		require.Contains(t, errs.Eq(0).Text(), w.full, l)
		require.Equal(t, "Motivo scritto prima dei codici", errs.Eq(1).Text(), l)
		require.Empty(t, i18n.ForeignSentences(doc.Find("body").Text(), l), "Risorse in %s", l)

		doc = b.get(logPath).doc(t)
		require.Contains(t, doc.Find(`[data-testid="log-error"]`).Text(), w.full, l)
		lines := doc.Find(`[data-testid="log-message"]`)
		require.Equal(t, 3, lines.Length())
		require.True(t, strings.HasPrefix(lines.Eq(0).Text(), w.done), "%s: %s", l, lines.Eq(0).Text())
		require.True(t, strings.HasPrefix(lines.Eq(1).Text(), w.large), "%s: %s", l, lines.Eq(1).Text())
		require.Equal(t, "Riga scritta prima dei codici", lines.Eq(2).Text())
		require.Empty(t, i18n.ForeignSentences(doc.Find("body").Text(), l), "the log in %s", l)

		res := b.get(logPath + ".txt")
		require.Equal(t, http.StatusOK, res.status)
		txt := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
		require.Len(t, txt, 3)
		require.Contains(t, txt[0], "\tINBOX\t"+w.done, l)
		require.Contains(t, txt[1], w.large, l)
		require.True(t, strings.HasSuffix(txt[2], "\t-\tRiga scritta prima dei codici"), txt[2])
		require.Empty(t, i18n.ForeignSentences(res.body, l), "the download in %s", l)

		res = b.get(base + "/status.json")
		var st migrationStatusJSON
		require.NoError(t, json.Unmarshal([]byte(res.body), &st), res.body)
		require.Len(t, st.Mailboxes, 2)
		require.Contains(t, st.Mailboxes[0].Error, w.full, l)
		require.Equal(t, "Motivo scritto prima dei codici", st.Mailboxes[1].Error)
	}
}

// TestLineReasonInTheReadersLanguage: a line's validation reason, stored
// once as a code, reads in Italian and in English on the migration page
// and the list; one stored as text before codes reads as stored.
func TestLineReasonInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id := b.createMigration(migrationForm(), goodCSV())
	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	reason := i18n.New("csv.line", 1, i18n.New("check.failed", i18n.New("check.reason.auth")))
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[0].ID, store.LineResult{Status: store.LineFailed, Error: reason}))
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[1].ID, store.LineResult{Status: store.LineFailed}))
	_, err = p.pool.Exec(ctx, `UPDATE migration_lines SET error_text = 'Riga 2: motivo scritto prima dei codici' WHERE id = $1`, lines[1].ID)
	require.NoError(t, err)
	require.NoError(t, store.SetMigrationStatus(ctx, p.pool, tn.ID, id, store.MigrationRed, store.MigrationValidating))

	for l, w := range map[i18n.Lang][2]string{
		i18n.Italian: {"test di migrazione fallito — utente o password errati", "Riga 1: test di migrazione fallito"},
		i18n.English: {"migration test failed — wrong user or password", "Line 1: migration test failed"},
	} {
		doc := b.get("/migrations/" + itoa(id) + "?lang=" + string(l)).doc(t)
		require.Contains(t, doc.Find(`[data-testid="line-row"][data-line="1"] [data-testid="line-error"]`).Text(), w[0], l)
		require.Equal(t, "motivo scritto prima dei codici", strings.TrimSpace(doc.Find(`[data-testid="line-row"][data-line="2"] [data-testid="line-error"]`).Text()), l)
		list := b.get("/migrations").body
		require.Contains(t, list, w[1], "the list's reasons in %s", l)
		require.Contains(t, list, "Riga 2: motivo scritto prima dei codici")
	}
}
