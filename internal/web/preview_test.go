package web

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// What the tests measured shows per line and in total, with what stays on
// the old server and an estimated duration.
func TestMigrationPreview(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	id := b.createMigration(migrationForm(), goodCSV())
	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	previews := []transfer.Preview{
		{Folders: 3, Messages: 1200, Bytes: 80 << 20, TooLarge: 2, TooLargeBytes: 70 << 20, Excluded: []string{"INBOX.Trash", "INBOX.Spam"}},
		{Folders: 1, Messages: 10, Bytes: 40 << 10},
	}
	for i, ln := range lines {
		raw, err := json.Marshal(previews[i])
		require.NoError(t, err)
		require.NoError(t, store.SetLineResult(ctx, p.pool, tn.ID, ln.ID, store.LineResult{Status: store.LineOK, Preview: raw}))
	}

	doc := b.get("/migrations/" + itoa(id)).doc(t)
	total := doc.Find(`[data-testid="preview-total"]`)
	require.Equal(t, "1210", total.AttrOr("data-messages", ""))
	// 1210 messages at 20 ms and 80 MB at 4 MB/s: anna's 44 s is the longest;
	// the two together share the time.
	require.Equal(t, "4 cartelle · 1.210 messaggi · 80 MB · circa 44 s", total.Find(`[data-testid="preview-text"]`).Text())
	require.Equal(t, "2 messaggi oltre 30 MB (70 MB), elencati poi in Risorse", total.Find(`[data-testid="preview-left"]`).Text())
	rows := doc.Find(`[data-testid="line-row"]`)
	require.Equal(t, "3 cartelle · 1.200 messaggi · 80 MB · circa 44 s", rows.Eq(0).Find(`[data-testid="line-preview-text"]`).Text())
	require.Equal(t, "Restano sul vecchio server: le cartelle Trash, Spam; 2 messaggi oltre 30 MB (70 MB), elencati poi in Risorse.",
		rows.Eq(0).Find(`[data-testid="line-preview-left"]`).Text())
	require.Equal(t, "1 cartella · 10 messaggi · 40 KB · circa 1 s", rows.Eq(1).Find(`[data-testid="line-preview-text"]`).Text())
	require.Equal(t, 0, rows.Eq(1).Find(`[data-testid="line-preview-left"]`).Length())

	// Another tenant's migration stays not found, preview and all.
	_, other := p.tenant("beta", "beta.test")
	ob := p.browser()
	ob.login(other)
	require.Equal(t, 404, ob.get("/migrations/"+itoa(id)).status)
}
