package web

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// The migration page says whether a run's email went out, and when a send
// failed says it is retried, without the mail server's own words.
func TestMigrationPageShowsTheRunEmail(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()
	id, runs := p.scheduleMigration(b, tn, migrationForm())
	p.endFirstRun(tn.ID, runs[0])
	path := "/migrations/" + itoa(id)

	res := b.get(path)
	require.Equal(t, http.StatusOK, res.status)
	d := res.doc(t)
	require.Zero(t, d.Find(`[data-testid="run-email-sent"]`).Length())
	require.Zero(t, d.Find(`[data-testid="run-email-failed"]`).Length())

	require.NoError(t, store.SetRunEmail(ctx, p.pool, tn.ID, runs[0].ID, errors.New("dial tcp 10.0.0.5:25: connection refused")))
	res = b.get(path)
	d = res.doc(t)
	require.Equal(t, 1, d.Find(`[data-testid="run-email-failed"]`).Length())
	require.NotContains(t, res.body, "10.0.0.5", "the SMTP error is for operators, not customers")

	require.NoError(t, store.SetRunEmail(ctx, p.pool, tn.ID, runs[0].ID, nil))
	d = b.get(path).doc(t)
	require.Zero(t, d.Find(`[data-testid="run-email-failed"]`).Length())
	sent := d.Find(`[data-run="1"] [data-testid="run-email-sent"]`)
	require.Equal(t, 1, sent.Length())
	require.Contains(t, sent.Text(), "Email di fine esecuzione inviata")
	require.Zero(t, d.Find(`[data-run="2"] [data-testid="run-email-sent"]`).Length())
}
