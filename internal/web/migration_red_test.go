package web

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// A red migration whose line failed on the secure connection of
// Standard-SSL suggests Standard-no-SSL; the red box says how many lines
// and sends to the table, where each reason is, once.
func TestRedSuggestsTheServerType(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id := b.createMigration(migrationForm(), goodCSV()) // standard-ssl
	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	reason := i18n.New("csv.line", 1, i18n.New("check.failed", i18n.New("check.reason.tls", "192.0.2.7:143")))
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[0].ID, store.LineResult{Status: store.LineFailed, Error: reason}))
	require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, lines[1].ID, store.LineResult{Status: store.LineOK}))
	require.NoError(t, store.SetMigrationStatus(ctx, p.pool, tn.ID, id, store.MigrationRed, store.MigrationValidating))

	doc := b.get("/migrations/" + itoa(id)).doc(t)
	require.Equal(t, "red", doc.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Contains(t, doc.Find(`[data-testid="status"]`).Text(), "Da correggere")
	require.Contains(t, doc.Find(`[data-testid="red-reasons"] h2`).Text(), "Una riga ha un problema")
	require.Contains(t, doc.Find(`[data-testid="server-type-hint"]`).Text(), "«Standard-no-SSL")
	require.Equal(t, "/migrations/"+itoa(id)+"/edit", doc.Find(`[data-testid="server-type-change"]`).AttrOr("href", ""), "the type can be changed from the red page")
	require.Contains(t, doc.Find(`[data-testid="line-row"][data-line="1"] [data-testid="line-error"]`).Text(), "connessione sicura a 192.0.2.7:143 non riuscita")

	en := b.get("/migrations/" + itoa(id) + "?lang=en").doc(t)
	require.Contains(t, en.Find(`[data-testid="server-type-hint"]`).Text(), "try “Standard-no-SSL")
	// The line's reason, stored once, reads in the reader's language too.
	require.Contains(t, en.Find(`[data-testid="line-row"][data-line="1"] [data-testid="line-error"]`).Text(), "secure connection to 192.0.2.7:143")
}
