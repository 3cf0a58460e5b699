package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// TestFailureReasonInTheEmailsLanguage: a mailbox's failure is stored as
// a code, so the run's email of an English tenant says it in English, and
// the same stored row reads in Italian on an Italian panel.
func TestFailureReasonInTheEmailsLanguage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, store.SetTenantLanguage(f.ctx, f.pool, f.tenant.ID, store.LanguageEnglish))
	mailer := f.runDeps()
	rc := f.client(t, 2)
	anna := f.user(t, "pw-anna", true)
	f.seedMailbox(t, anna, "pw-anna", 5, false)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)
	require.NoError(t, f.src.SetPassword(anna, "changed-by-the-customer"))
	time.Sleep(1100 * time.Millisecond) // Dovecot re-reads a passwd file at most once a second
	f.startNow(t, rc, runs[0])
	f.waitRun(t, runs[0].ID, 2*time.Minute)

	mb := f.mailboxes(t, runs[0].ID)[anna]
	require.Equal(t, store.MailboxFailed, mb.Status)
	require.Empty(t, mb.ErrorText, "stored as a code")
	require.NotEmpty(t, mb.Error.Code)
	require.Contains(t, mb.Reason(i18n.Italian), "utente o password errati")

	waitFor(t, 30*time.Second, "email", func() (bool, string) { return len(mailer.all()) == 1, "" })
	rep := mailer.all()[0].report
	require.Equal(t, "en", rep.Lang)
	require.Len(t, rep.Mailboxes, 1)
	require.Contains(t, rep.Mailboxes[0].Error, "wrong user or password")
	require.Empty(t, i18n.ForeignSentences(rep.Mailboxes[0].Error, i18n.English))
	// The log's lines are events, none stored as a sentence.
	lines, err := store.ListMailboxLogs(f.ctx, f.pool, f.tenant.ID, mb.ID)
	require.NoError(t, err)
	require.NotEmpty(t, lines)
	for _, l := range lines {
		require.Empty(t, l.Message, "line %d is stored as text", l.ID)
		require.True(t, i18n.Has(l.Event.Code), l.Event.Code)
	}
}
