package notify_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const resourcesURL = "https://panel.example.test/migrations/42/resources"

// report is a run of three mailboxes: one clean, one with errors and
// messages over 30 MB, one failed.
func report(t *testing.T, lang string) notify.RunReport {
	t.Helper()
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	start := time.Date(2026, 3, 12, 21, 0, 0, 0, time.UTC) // 22:00 in Rome
	return notify.RunReport{
		Lang:          lang,
		TenantName:    "Acme S.r.l.",
		MigrationID:   42,
		MigrationName: "Ufficio Milano",
		RunNo:         1,
		StartedAt:     start,
		EndedAt:       start.Add(3*time.Hour + 14*time.Minute),
		Location:      rome,
		Status:        notify.StatusCompletedWithErrors,
		ResourcesURL:  resourcesURL,
		Mailboxes: []notify.MailboxOutcome{
			{LocalUser: "anna@acme.test", RemoteUser: "anna@old.test", Status: notify.StatusCompleted, Copied: 1234, AlreadyThere: 5, ExcludedFolders: 2, Bytes: 3 << 30},
			{LocalUser: "bruno@acme.test", RemoteUser: "bruno@old.test", Status: notify.StatusCompletedWithErrors, Copied: 77, AlreadyThere: 0, TooLarge: 3, Failed: 2, Error: "2 messaggi rifiutati dal server di destinazione"},
			{LocalUser: "carla@acme.test", RemoteUser: "carla@old.test", Status: notify.StatusFailed, Error: "accesso al vecchio server rifiutato: password errata"},
		},
	}
}

// cells returns the text of the cells of each mailbox row of the HTML body.
func cells(t *testing.T, html string) [][]string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	require.NoError(t, err)
	var rows [][]string
	doc.Find(`[data-testid="mailbox"]`).Each(func(_ int, tr *goquery.Selection) {
		var row []string
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { row = append(row, strings.TrimSpace(td.Text())) })
		row = append(row, strings.TrimSpace(tr.Next().Text()))
		rows = append(rows, row)
	})
	return rows
}

func TestComposeItalian(t *testing.T) {
	t.Parallel()
	subject, text, html := notify.Compose(report(t, "it"))

	require.Equal(t, "Trasloco: migrazione «Ufficio Milano», esecuzione 1 completata con errori", subject)
	for _, want := range []string{
		"Buongiorno,",
		"l'esecuzione 1 della migrazione «Ufficio Milano» è terminata, ma non tutto è andato a buon fine",
		"Iniziata: 12/03/2026 22:00 (ora italiana)",
		"Terminata: 13/03/2026 01:14 (ora italiana)",
		"Durata: 3 h 14 min",
		"Caselle: 3",
		"Dati copiati: 3 GB",
		"Casella", "Già presenti", "Oltre 30 MB", "Non riusciti", "Cartelle escluse",
		"1.234",
		"- bruno@acme.test: 2 messaggi rifiutati dal server di destinazione",
		"- carla@acme.test: accesso al vecchio server rifiutato: password errata",
		"3 messaggi non sono stati copiati perché superano i 30 MB",
		"elencati in Risorse",
		resourcesURL,
		"inviato automaticamente da Trasloco per Acme S.r.l.",
	} {
		require.Contains(t, text, want)
	}
	// The text table: one aligned line per mailbox.
	require.Regexp(t, `(?m)^anna@acme\.test +Completata +1\.234 +5 +0 +0 +2$`, text)
	require.Regexp(t, `(?m)^bruno@acme\.test +Completata con errori +77 +0 +3 +2 +0$`, text)
	require.Regexp(t, `(?m)^carla@acme\.test +Non riuscita +0 +0 +0 +0 +0$`, text)

	require.Equal(t, [][]string{
		{"anna@acme.test", "Completata", "1.234 copiati · 5 già presenti · 2 cartelle escluse"},
		{"bruno@acme.test", "Completata con errori", "77 copiati · 3 oltre 30 MB · 2 non riusciti2 messaggi rifiutati dal server di destinazione"},
		{"carla@acme.test", "Non riuscita", "0 copiatiaccesso al vecchio server rifiutato: password errata"},
	}, cells(t, html))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	require.NoError(t, err)
	href, _ := doc.Find(`[data-testid="resources"]`).Attr("href")
	require.Equal(t, resourcesURL, href)
	require.Contains(t, doc.Find(`[data-testid="too-large"]`).Text(), "3 messaggi non sono stati copiati")
	require.Contains(t, doc.Find(`[data-testid="facts"]`).Text(), "12/03/2026 22:00 (ora italiana)")
	require.Equal(t, "it", doc.Find("html").AttrOr("lang", ""))
}

func TestComposeEnglish(t *testing.T) {
	t.Parallel()
	r := report(t, "en")
	r.RunNo = 2
	subject, text, html := notify.Compose(r)

	require.Equal(t, "Trasloco: migration “Ufficio Milano”, run 2 completed with errors", subject)
	for _, want := range []string{
		"Hello,",
		"run 2 of the migration “Ufficio Milano” has ended, but not everything went well",
		"The second run copied 1,311 new messages, which reached the old server after the first.",
		"Started: 12 Mar 2026 22:00 (Italian time)",
		"1,234",
		"Already there", "Over 30 MB",
		"3 messages were not copied because they are over 30 MB",
		"listed in Resources",
		resourcesURL,
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "Buongiorno")
	require.Equal(t, "1,234 new · 5 already there · 2 folders left out", cells(t, html)[0][2])
	require.Contains(t, html, `lang="en"`)
}

func TestComposeStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang, status, subject string
	}{
		{"it", notify.StatusCompleted, "Trasloco: migrazione «M», esecuzione 1 completata"},
		{"it", notify.StatusCompletedWithErrors, "Trasloco: migrazione «M», esecuzione 1 completata con errori"},
		{"it", "bogus", "Trasloco: migrazione «M», esecuzione 1 completata con errori"},
		{"", notify.StatusCompleted, "Trasloco: migrazione «M», esecuzione 1 completata"},
		{"fr", notify.StatusCompleted, "Trasloco: migrazione «M», esecuzione 1 completata"},
		{"en", notify.StatusCompleted, "Trasloco: migration “M”, run 1 completed"},
		{"EN-gb", notify.StatusCompletedWithErrors, "Trasloco: migration “M”, run 1 completed with errors"},
	} {
		t.Run(tc.lang+"/"+tc.status, func(t *testing.T) {
			t.Parallel()
			subject, _, _ := notify.Compose(notify.RunReport{Lang: tc.lang, MigrationName: "M", RunNo: 1, Status: tc.status})
			require.Equal(t, tc.subject, subject)
		})
	}
}

func TestComposeOneTooLargeAndNone(t *testing.T) {
	t.Parallel()
	r := report(t, "it")
	r.Mailboxes[1].TooLarge = 1
	_, text, _ := notify.Compose(r)
	require.Contains(t, text, "1 messaggio non è stato copiato perché supera i 30 MB")

	r.Mailboxes[1].TooLarge = 0
	_, text, html := notify.Compose(r)
	require.NotContains(t, text, "30 MB:")
	require.NotContains(t, html, `data-testid="too-large"`)
}

func TestComposeCleanRun(t *testing.T) {
	t.Parallel()
	r := report(t, "it")
	r.Status = notify.StatusCompleted
	r.Mailboxes = r.Mailboxes[:1]
	subject, text, _ := notify.Compose(r)
	require.NotContains(t, subject, "errori")
	require.Contains(t, text, "è terminata e tutte le caselle sono state copiate")
	require.NotContains(t, text, "Errori:")

	// A message left behind (over 30 MB): the run is completed, but "every
	// mailbox copied" would not be true.
	r.Mailboxes[0].TooLarge = 1
	_, text, _ = notify.Compose(r)
	require.NotContains(t, text, "tutte le caselle sono state copiate")
	require.Contains(t, text, "qualche messaggio è rimasto sul vecchio server")
}

// Run 1 of a migration with a run 2 says when it starts and what to do
// meanwhile; run 2 with nothing new says so; the footer names who gets it.
func TestComposeRunsAndRecipient(t *testing.T) {
	t.Parallel()
	r := report(t, "it")
	next := r.StartedAt.Add(20 * time.Hour)
	r.NextRunAt = &next
	r.Recipient = "it@acme.test"
	_, text, html := notify.Compose(r)
	require.Contains(t, text, "La seconda esecuzione partirà il 13/03/2026 18:00 (ora italiana)")
	require.Contains(t, text, "cambia i record MX")
	require.Contains(t, text, "Inviata agli indirizzi per le notifiche di Acme S.r.l.: it@acme.test.")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	require.NoError(t, err)
	require.Contains(t, doc.Find(`[data-testid="next-run"]`).Text(), "cambia i record MX")
	require.Contains(t, doc.Find(`[data-testid="why"]`).Text(), "it@acme.test")

	r.RunNo = 2
	r.NextRunAt = nil
	for i := range r.Mailboxes {
		r.Mailboxes[i].AlreadyThere += r.Mailboxes[i].Copied
		r.Mailboxes[i].Copied = 0
	}
	_, text, html = notify.Compose(r)
	require.Contains(t, text, "Nessun messaggio nuovo")
	require.NotContains(t, text, "ha copiato")
	require.NotContains(t, text, "cambia i record MX", "run 2 has no run after it")
	require.Contains(t, cells(t, html)[0][2], "nessun messaggio nuovo · 1.239 già presenti")
}

func TestComposeEscapes(t *testing.T) {
	t.Parallel()
	r := report(t, "it")
	r.MigrationName = "<script>alert(1)</script>\r\nBcc: victim@example.test"
	r.TenantName = `"><img src=x onerror=alert(2)>`
	r.Mailboxes[0].LocalUser = "<b>anna</b>@acme.test"
	r.Mailboxes[2].Error = `<a href="https://evil.test">clicca qui</a>`
	r.ResourcesURL = "javascript:alert(3)"
	subject, text, html := notify.Compose(r)

	// The subject is one line: a name cannot add a header.
	require.NotContains(t, subject, "\n")
	require.NotContains(t, subject, "\r")
	require.Contains(t, subject, "«<script>alert(1)</script>  Bcc: victim@example.test»")
	// The text body is not HTML: the name stays as written.
	require.Contains(t, text, "<script>alert(1)</script>")

	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	require.NoError(t, err)
	require.Zero(t, doc.Find("script").Length(), html)
	require.Zero(t, doc.Find("img").Length(), html)
	require.Zero(t, doc.Find("b").Length(), html)
	require.Equal(t, 1, doc.Find("a").Length(), "only the Risorse link")
	require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, doc.Find("title").Text(), "<script>alert(1)</script>")
	require.Equal(t, "<b>anna</b>@acme.test", cells(t, html)[0][0])
	href, _ := doc.Find(`[data-testid="resources"]`).Attr("href")
	require.NotContains(t, href, "javascript")
}

// smtpConfig points at Mailpit, parsing its SMTPURL as TRASLOCO_SMTP_URL
// would be parsed.
func smtpConfig(t *testing.T, mp *testenv.Mailpit) config.SMTP {
	t.Helper()
	require.True(t, strings.HasPrefix(mp.SMTPURL(), "smtp://"), mp.SMTPURL())
	host, port, err := net.SplitHostPort(strings.TrimPrefix(mp.SMTPURL(), "smtp://"))
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return config.SMTP{Host: host, Port: p, TLS: config.TLSNone, From: "Trasloco <trasloco@provider.test>"}
}

func TestSendThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	m, err := notify.NewMailer(smtpConfig(t, mp))
	require.NoError(t, err)
	ctx := context.Background()
	to := testenv.UniqueUser(t, "cliente.test")
	r := report(t, "it")

	require.NoError(t, m.Send(ctx, to, r, "run-7-1-1773349200@trasloco"))

	got := mp.WaitMessages(ctx, t, "to:"+to, 1)
	require.Len(t, got, 1)
	msg := got[0]
	require.Equal(t, "Trasloco: migrazione «Ufficio Milano», esecuzione 1 completata con errori", msg.Subject)
	require.Len(t, msg.To, 1)
	require.Equal(t, to, msg.To[0].Address)
	require.Equal(t, "trasloco@provider.test", msg.From.Address)
	require.Equal(t, "Trasloco", msg.From.Name)
	require.Equal(t, "run-7-1-1773349200@trasloco", msg.MessageID)
	require.Equal(t, "<run-7-1-1773349200@trasloco>", msg.Headers.Get("Message-Id"))
	require.Equal(t, "auto-generated", msg.Headers.Get("Auto-Submitted"))
	require.NotEmpty(t, msg.Headers.Get("Date"))
	for _, body := range []string{msg.Text, msg.HTML} {
		require.Contains(t, body, "1.234")
		require.Contains(t, body, "77")
		require.Contains(t, body, "3 messaggi non sono stati copiati")
		require.Contains(t, body, resourcesURL)
		require.Contains(t, body, "Ufficio Milano")
	}
	require.Equal(t, [][]string{
		{"anna@acme.test", "Completata", "1.234 copiati · 5 già presenti · 2 cartelle escluse"},
		{"bruno@acme.test", "Completata con errori", "77 copiati · 3 oltre 30 MB · 2 non riusciti2 messaggi rifiutati dal server di destinazione"},
		{"carla@acme.test", "Non riuscita", "0 copiatiaccesso al vecchio server rifiutato: password errata"},
	}, cells(t, msg.HTML))
}

func TestSendAgainKeepsMessageID(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	m, err := notify.NewMailer(smtpConfig(t, mp))
	require.NoError(t, err)
	ctx := context.Background()
	to := testenv.UniqueUser(t, "cliente.test")

	// An id without a domain gets the sender's.
	require.NoError(t, m.Send(ctx, to, report(t, "en"), "run-8-2"))
	require.NoError(t, m.Send(ctx, to, report(t, "en"), "<run-8-2>"))

	got := mp.WaitMessages(ctx, t, "to:"+to, 2)
	require.Len(t, got, 2)
	for _, msg := range got {
		require.Equal(t, "<run-8-2@provider.test>", msg.Headers.Get("Message-Id"))
		require.Contains(t, msg.Subject, "run 1 completed with errors")
	}
}

func TestSendWithCredentials(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	cfg := smtpConfig(t, mp)
	cfg.Username, cfg.Password = "panel", "p4ss-w0rd"
	m, err := notify.NewMailer(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	to := testenv.UniqueUser(t, "cliente.test")

	require.NoError(t, m.Send(ctx, to, report(t, "it"), "run-9-1@trasloco"))

	got := mp.WaitMessages(ctx, t, "to:"+to, 1)
	require.Equal(t, "panel", got[0].Username)
}

func TestSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	m, err := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: 1, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	for _, tc := range []struct{ to, id, want string }{
		{"not an address", "x@y", "recipient"},
		{"a@b.test\r\nBcc: c@d.test", "x@y", "recipient"},
		{"a@b.test", "", "message id"},
		{"a@b.test", "two words@x", "message id"},
	} {
		err := m.Send(context.Background(), tc.to, report(t, "it"), tc.id)
		require.ErrorContains(t, err, "send run email: "+tc.want)
	}

	_, err = notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: 25, TLS: config.TLSNone, From: "nobody"})
	require.ErrorContains(t, err, "sender")
	_, err = notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: 25, TLS: "bogus", From: "a@b.test"})
	require.ErrorContains(t, err, "TLS mode")
}

const secret = "s3cret-Passw0rd"

func TestSendToDeadServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	require.NoError(t, ln.Close()) // nobody listens there now

	for _, mode := range []config.TLSMode{config.TLSNone, config.TLSStartTLS, config.TLSImplicit} {
		m, err := notify.NewMailer(config.SMTP{
			Host: "127.0.0.1", Port: addr.Port, TLS: mode,
			Username: "panel", Password: secret, From: "trasloco@provider.test",
		})
		require.NoError(t, err)
		start := time.Now()
		err = m.Send(context.Background(), "anna@acme.test", report(t, "it"), "run-1-1@trasloco")
		require.Error(t, err, mode)
		require.Less(t, time.Since(start), 5*time.Second)
		require.ErrorContains(t, err, "send run email to anna@acme.test via "+addr.String())
		require.ErrorContains(t, err, "connection refused")
		require.NotContains(t, err.Error(), secret)
	}
}

// fakeSMTP serves one connection with the given script: after the greeting,
// for each line read it writes the next answer.
func fakeSMTP(t *testing.T, greeting string, answers ...string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if greeting == "" {
			_, _ = bufio.NewReader(conn).ReadString('\n') // hang: never greet
			return
		}
		_, _ = conn.Write([]byte(greeting))
		br := bufio.NewReader(conn)
		for _, a := range answers {
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			_, _ = conn.Write([]byte(a))
		}
		_, _ = br.ReadString('\n')
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestSendErrorNeverShowsPassword(t *testing.T) {
	t.Parallel()
	// A server that echoes the credentials in its refusal.
	port := fakeSMTP(t, "220 fake ESMTP\r\n",
		"250-fake\r\n250 AUTH PLAIN LOGIN\r\n",
		"535 5.7.8 authentication failed for panel/"+secret+"\r\n",
	)
	m, err := notify.NewMailer(config.SMTP{
		Host: "127.0.0.1", Port: port, TLS: config.TLSNone,
		Username: "panel", Password: secret, From: "trasloco@provider.test",
	})
	require.NoError(t, err)
	err = m.Send(context.Background(), "anna@acme.test", report(t, "it"), "run-1-1@trasloco")
	require.ErrorContains(t, err, "send run email")
	require.ErrorContains(t, err, "535")
	require.NotContains(t, err.Error(), secret)
	require.Contains(t, err.Error(), "[password]")
}

func TestSendTimesOut(t *testing.T) {
	t.Parallel()
	port := fakeSMTP(t, "") // accepts, never greets
	m, err := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: port, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	m.Timeout = 300 * time.Millisecond
	start := time.Now()
	err = m.Send(context.Background(), "anna@acme.test", report(t, "it"), "run-1-1@trasloco")
	require.ErrorContains(t, err, "send run email")
	require.Less(t, time.Since(start), 3*time.Second)
}
