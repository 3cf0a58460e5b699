package notify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/testenv"
)

// The completion email carries each mailbox's verdict, with the words of
// Risorse, in the tenant's language, through a real SMTP server.
func TestVerdictThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	m, err := notify.NewMailer(smtpConfig(t, mp))
	require.NoError(t, err)
	ctx := context.Background()
	n, nine := 4632, 9
	for lang, want := range map[string][2]string{
		"it": {"verificato: 4.632 di 4.632 presenti", "verifica: 9 di 10 presenti · 1 mancante nella nuova casella · 1 doppio nella nuova casella"},
		"en": {"verified: 4,632 of 4,632 present", "verification: 9 of 10 present · 1 missing from the new mailbox · 1 twice in the new mailbox"},
	} {
		to := testenv.UniqueUser(t, "cliente.test")
		r := report(t, lang)
		r.Mailboxes[0].Verdict = i18n.Verdict{Verified: &n, Expected: 4632}
		r.Mailboxes[1].Verdict = i18n.Verdict{Verified: &nine, Expected: 10, Missing: 1, Duplicates: 1}
		require.NoError(t, m.Send(ctx, to, r, "run-11-1-"+lang+"@trasloco"))
		got := mp.WaitMessages(ctx, t, "to:"+to, 1)
		require.Len(t, got, 1)
		msg := got[0]
		require.Contains(t, msg.Text, "- anna@acme.test: "+want[0])
		require.Contains(t, msg.Text, "- bruno@acme.test: "+want[1])
		rows := cells(t, msg.HTML)
		require.Contains(t, rows[0][2], want[0])
		require.Contains(t, rows[1][2], want[1])
		require.NotContains(t, rows[2][2], "verific", "carla failed: no verdict")
	}
}
