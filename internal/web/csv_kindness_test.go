package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// TestUploadDocumentationHeaderAndNonText: the format line of the
// provider's documentation, copied as the first line, is skipped with a
// note; a file saved in Latin-1 is refused naming the line where it stops
// being text.
func TestUploadDocumentationHeaderAndNonText(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	id := b.createMigration(migrationForm(), "utente-locale@dominio;server-IMAP-remoto;utente-remoto@dominio;password-remota\r\n"+goodCSV())
	m := p.migration(tn.ID, id)
	require.Equal(t, 2, m.LineCount)
	require.Zero(t, m.FailedCount)
	lines, err := store.ListLines(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, "anna@acme.test", lines[0].LocalUser)
	require.Contains(t, b.get("/migrations/"+itoa(id)).doc(t).Find(`[data-testid="flash"]`).Text(), "Riga 1: intestazione riconosciuta e ignorata")

	res := b.postFile("/migrations", migrationForm(), goodCSV()+"luca@acme.test;mail.old.test;luca;Perch\xe9\r\n")
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.doc(t).Find(`[data-testid="file-problem"]`).Text(), "Riga 3: qui il file smette di essere testo")
}
