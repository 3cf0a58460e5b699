package jobs_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// echoServer is a hostile IMAP server: it answers every login with a NO
// (or, with unavailable, a NO [UNAVAILABLE], a passing failure) that
// repeats what it was sent, password included.
func echoServer(t *testing.T, unavailable bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	code := "[AUTHENTICATIONFAILED]"
	if unavailable {
		code = "[UNAVAILABLE]"
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				r := bufio.NewReader(c)
				fmt.Fprintf(c, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] echo ready\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					tag, cmd, _ := strings.Cut(line, " ")
					switch verb, _, _ := strings.Cut(strings.ToUpper(cmd), " "); verb {
					case "CAPABILITY":
						fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n", tag)
					case "AUTHENTICATE":
						fmt.Fprintf(c, "+ \r\n")
						resp, _ := r.ReadString('\n')
						fmt.Fprintf(c, "%s NO %s you sent %s\r\n", tag, code, strings.TrimSpace(resp))
					case "LOGIN":
						fmt.Fprintf(c, "%s NO %s you sent %s\r\n", tag, code, cmd)
					case "LOGOUT":
						fmt.Fprintf(c, "* BYE\r\n%s OK bye\r\n", tag)
						return
					default:
						fmt.Fprintf(c, "%s BAD what\r\n", tag)
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// secretForms are a password as it may come back from a server: as
// written and in base64 (alone and in AUTHENTICATE PLAIN).
func secretForms(user, pw string) []string {
	b := base64.StdEncoding.EncodeToString
	return []string{pw, b([]byte(pw)), b([]byte("\x00" + user + "\x00" + pw))}
}

// A server that echoes the password in its answers: the password reaches
// no log, no stored text, no River error.
func TestServerTextsScrubbed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	const pw = "pw-Echo-S3cret"

	// Validation: the echoed LOGIN goes to the log, scrubbed.
	anna := f.user(t, pw, true)
	echo := echoServer(t, false)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;%s", anna, echo, anna, pw), migrationOpts{insecureTLS: true})
	_, err := f.pool.Exec(f.ctx, `UPDATE migrations SET preset = 'standard-nossl' WHERE id = $1`, m.ID)
	require.NoError(t, err)
	f.work(t, m)
	require.Len(t, f.lineErrors(t, m), 1)
	require.Contains(t, f.logs.String(), "you sent", "the server's words are logged…")
	require.Contains(t, f.logs.String(), "[redacted]", "…without the password")

	// A run whose server turns hostile after the validation: every
	// attempt's error (River's errors, the mailbox's log and text) is
	// scrubbed.
	rc := f.client(t, 1)
	bob := f.user(t, pw, true)
	mb := f.migration(t, fmt.Sprintf("%s;%s;%s;%s", bob, f.src.PlainAddr(), bob, pw), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	_, err = f.pool.Exec(f.ctx, `UPDATE migrations SET preset = 'standard-nossl' WHERE id = $1`, mb.ID)
	require.NoError(t, err)
	runs := f.validate(t, rc, mb)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, mb.ID)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE migration_lines SET pinned_addr = $1 WHERE id = $2`, echoServer(t, true), lines[0].ID)
	require.NoError(t, err)
	f.startNow(t, rc, runs[0])
	waitFor(t, time.Minute, "an attempt failed", func() (bool, string) {
		var n int
		require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM river_job WHERE kind = 'mailbox_copy' AND cardinality(errors) > 0`).Scan(&n))
		return n > 0, "no error yet"
	})

	var texts strings.Builder
	for _, q := range []string{
		`SELECT COALESCE(string_agg(errors::text, ' '), '') FROM river_job`,
		// The log and the reasons are stored as codes with arguments
		// (the server's words among them), the text columns only for
		// rows written before.
		`SELECT COALESCE(string_agg(COALESCE(message, '') || ' ' || COALESCE(args::text, ''), ' '), '') FROM mailbox_logs`,
		`SELECT COALESCE(string_agg(COALESCE(error_text, '') || ' ' || COALESCE(error_args::text, ''), ' '), '') FROM mailbox_runs`,
		`SELECT COALESCE(string_agg(COALESCE(error_text, '') || ' ' || COALESCE(error_args::text, ''), ' '), '') FROM migration_lines`,
	} {
		var s string
		require.NoError(t, f.pool.QueryRow(f.ctx, q).Scan(&s), q)
		texts.WriteString(s + "\n")
	}
	require.Contains(t, texts.String(), "you sent", "the server's words reach River's errors")
	var lineArgs string
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT COALESCE(string_agg(error_args::text, ' '), '') FROM migration_lines WHERE migration_id = $1`, m.ID).Scan(&lineArgs))
	require.Contains(t, lineArgs, "you sent", "the server's words reach the line's stored reason…")
	require.Contains(t, lineArgs, "[redacted]", "…without the password")
	for _, where := range []string{texts.String(), f.logs.String()} {
		for _, u := range []string{anna, bob} {
			for _, s := range secretForms(u, pw) {
				require.NotContains(t, where, s)
			}
		}
	}
}

// Standard-no-SSL logs in in plain text to a server without STARTTLS,
// unless the operator forbids it: then the line is refused, saying why,
// and no password was sent.
func TestForbidPlainLogin(t *testing.T) {
	t.Parallel()
	for _, forbid := range []bool{false, true} {
		f := setup(t)
		f.deps.ForbidPlainLogin = forbid
		anna := f.user(t, "pw-plain", true)
		echo := echoServer(t, false)
		m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-plain", anna, echo, anna), migrationOpts{})
		_, err := f.pool.Exec(f.ctx, `UPDATE migrations SET preset = 'standard-nossl' WHERE id = $1`, m.ID)
		require.NoError(t, err)
		f.work(t, m)
		// The server's own words are kept, without the password.
		want := "Riga 1: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato; il server ha risposto: «you sent LOGIN \"" + anna + "\" \"[redacted]\"»"
		if forbid {
			want = "Riga 1: test di migrazione fallito — " + echo + " non offre STARTTLS e non consentiamo accessi con la password in chiaro: usa la porta 993 con «Standard-SSL», se il server la offre"
		}
		require.Equal(t, map[int]string{1: want}, f.lineErrors(t, m), "forbid=%v", forbid)
		require.Equal(t, !forbid, strings.Contains(f.logs.String(), "you sent LOGIN"), "forbid=%v: the password was sent", forbid)
	}
}

// A server whose folder names echo the password (its \All folder, which
// the folder rules name as their reason): the rules kept on the line's
// preview and on the mailbox run, which the panel shows, are scrubbed as
// the mailbox's log is.
func TestRulesFolderNameScrubbed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 1)
	const pw = "pw-Folder-S3cret"
	u := f.user(t, "x", true)
	srv := testenv.StartHostile(t, testenv.HostileOptions{User: u, Password: pw, TLS: true},
		testenv.HostileFolder{Name: "INBOX", Messages: testenv.HostileMessages(testenv.BuildMessage(960, 0, 2000))},
		testenv.HostileFolder{Name: "Tutta " + pw, Attrs: []string{`\All`}, Messages: testenv.HostileMessages(testenv.BuildMessage(960, 0, 2000))})
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;%s", u, srv.Addr(), u, pw), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	run := f.validate(t, rc, m)[0]
	f.startNow(t, rc, run)
	f.waitRun(t, run.ID, time.Minute)

	var preview, rules string
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT COALESCE(preview::text, '') FROM migration_lines WHERE migration_id = $1`, m.ID).Scan(&preview))
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT COALESCE(rules::text, '') FROM mailbox_runs WHERE run_id = $1`, run.ID).Scan(&rules))
	for what, s := range map[string]string{"the line's preview": preview, "the mailbox run's rules": rules} {
		require.Contains(t, s, "all_folder", "%s: the \\All folder decided the rules", what)
		require.Contains(t, s, "Tutta [redacted]", what)
		require.NotContains(t, s, pw, what)
	}
}
