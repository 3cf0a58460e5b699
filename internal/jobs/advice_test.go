package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// refusingServer is an old server that answers every login with words.
func refusingServer(t *testing.T, words string, caps ...string) *testenv.Hostile {
	t.Helper()
	return testenv.StartHostile(t, testenv.HostileOptions{User: "nobody", Password: "x", TLS: true, Capabilities: caps,
		Hook: func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
			if cmd.Name == "LOGIN" || cmd.Name == "AUTHENTICATE" {
				c.Printf("%s NO %s\r\n", cmd.Tag, words)
				return true
			}
			return false
		}}, testenv.HostileFolder{Name: "INBOX"})
}

// Issue 10, "Help and errors a customer can act on": the old server's own
// words are kept on the line's red result, scrubbed of the password, and
// the providers' known ones bring the advice that fits — Gmail's
// "Application-specific password required" and "Please log in via your
// web browser" (and its WEBALERT), Exchange's "User is authenticated but
// not connected", Office 365's bare refusal from a server that offers
// OAuth2 (basic authentication off).
func TestValidateMapsProviderWordsToAdvice(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		words  string
		caps   []string
		said   string // the words on the line (go-imap keeps the response code apart)
		advice string
	}{
		{words: "[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure) for pw-line-1",
			said: "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure) for [redacted]", advice: "advice.gmail_app_password"},
		{words: "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
			said: "Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)", advice: "advice.gmail_web_login"},
		{words: "[WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1] Web login required.",
			said: "Web login required.", advice: "advice.gmail_web_login"},
		{words: "[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
			said: "Your account is not enabled for IMAP use.", advice: "advice.gmail_imap_off"},
		{words: "User is authenticated but not connected.", said: "User is authenticated but not connected.", advice: "advice.exchange_not_connected"},
		{words: "AUTHENTICATE failed.", caps: []string{"AUTH=XOAUTH2"}, said: "AUTHENTICATE failed.", advice: "advice.o365_basic_auth"},
		{words: "[AUTHENTICATIONFAILED] Authentication failed."}, // a plain refusal: no words to add, no advice
	}
	var lines []string
	for i, c := range cases {
		srv := refusingServer(t, c.words, c.caps...)
		u := f.user(t, "pw", true)
		lines = append(lines, fmt.Sprintf("%s;%s;%s;pw-line-%d", u, srv.Addr(), u, i+1))
	}
	m := f.migration(t, strings.Join(lines, "\n"), migrationOpts{insecureTLS: true})
	f.work(t, m)
	errs := f.lineErrors(t, m)
	require.Len(t, errs, len(cases))
	for i, c := range cases {
		text := errs[i+1]
		require.NotContains(t, text, "pw-line-", "line %d: the password is scrubbed", i+1)
		if c.advice == "" {
			require.Equal(t, fmt.Sprintf("Riga %d: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato", i+1), text)
			continue
		}
		require.Contains(t, text, "il server ha risposto: «"+c.said, "line %d", i+1)
		require.Contains(t, text, i18n.T(i18n.Italian, c.advice), "line %d", i18n.T(i18n.Italian, c.advice))
	}
}

// A test login the old server throttles is not a wrong password: the line
// stays to be checked at the validation's next attempt, and on the last
// one it fails with the throttling reason and the server's words.
func TestValidateThrottledLogin(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.ThrottleMax = time.Second
	srv := refusingServer(t, "Request is throttled. Suggested Backoff Time: 100 milliseconds")
	u := f.user(t, "pw", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw", u, srv.Addr(), u), migrationOpts{insecureTLS: true})
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewValidateWorker(f.deps))
	work := func(maxAttempts int) {
		tx, err := f.pool.Begin(f.ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(f.ctx) }()
		_, _ = w.Work(f.ctx, t, tx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: m.ID}, &river.InsertOpts{MaxAttempts: maxAttempts})
	}
	work(5)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.LinePending, lines[0].Status, "checked again later, not refused: %q", lines[0].Reason(i18n.Italian))

	work(1)
	errs := f.lineErrors(t, m)
	require.Equal(t, fmt.Sprintf("Riga 1: test di migrazione fallito — %s chiede di rallentare (troppe connessioni o troppo traffico per questo account): riprova più tardi, e chiudi i programmi di posta che la usano; il server ha risposto: «Request is throttled. Suggested Backoff Time: 100 milliseconds»", srv.Addr()), errs[1])
}

// The same advice ends a copy whose login the old server refuses with
// known words after the validation passed (the password was changed for
// an app password's sake): the mailbox's failure on Risorse and its log
// carry the server's words and the advice, and no retry is wasted on it.
func TestCopyRefusedWithKnownWordsGetsAdvice(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 1)
	u := f.user(t, "x", true)
	srv := newThrottlingServer(t, u)
	srv.loginSaid = "[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;%s", u, srv.Addr(), u, srv.Password()), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	run := f.validate(t, rc, m)[0]
	srv.armed.Store(true)
	f.startNow(t, rc, run)
	f.waitRun(t, run.ID, 2*time.Minute)
	mb := f.mailboxes(t, run.ID)[u]
	require.Equal(t, store.MailboxFailed, mb.Status)
	advice := i18n.T(i18n.Italian, "advice.gmail_app_password")
	require.Contains(t, mb.Reason(i18n.Italian), "il server ha risposto: «Application-specific password required")
	require.Contains(t, mb.Reason(i18n.Italian), advice)
	require.Contains(t, f.logText(t, mb.ID), advice)
	require.Equal(t, 1, mb.Attempts, "a lasting refusal is not retried")
}

// A reader of English reads the server's words and the advice in English
// (the stored reason is a code, rendered in the reader's language).
func TestValidateAdviceInEnglish(t *testing.T) {
	t.Parallel()
	f := setup(t)
	srv := refusingServer(t, "User is authenticated but not connected.")
	u := f.user(t, "pw", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw", u, srv.Addr(), u), migrationOpts{insecureTLS: true})
	f.work(t, m)
	require.Equal(t, "Line 1: migration test failed — wrong user or password, or IMAP access not enabled; the server said: “User is authenticated but not connected.”. "+
		i18n.T(i18n.English, "advice.exchange_not_connected"), f.lineErrorsIn(t, m, i18n.English)[1])
	require.Contains(t, i18n.T(i18n.English, "advice.exchange_not_connected"), "Set-CASMailbox")
}
