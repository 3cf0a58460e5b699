package csvimport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

const good = "anna@acme.test;mail.example.com;anna@example.com;s3cret"

func messages(ps []Problem, l i18n.Lang) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Message(l))
	}
	return out
}

func TestParseLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		lim  Limits
		want []Line
	}{
		{"one", good, Limits{}, []Line{{1, "anna@acme.test", "mail.example.com", "anna@example.com", "s3cret"}}},
		{"password with semicolons and spaces inside", "a@acme.test;h.example;u;p;w; d;", Limits{}, []Line{{1, "a@acme.test", "h.example", "u", "p;w; d;"}}},
		{"port", "a@acme.test;mail.example.com:143;u;p", Limits{}, []Line{{1, "a@acme.test", "mail.example.com:143", "u", "p"}}},
		{"upper-case host and domain lower-cased", "Anna@ACME.Test;MAIL.Example.COM.;u;p", Limits{}, []Line{{1, "Anna@acme.test", "mail.example.com", "u", "p"}}},
		{"ipv4", "a@acme.test;192.0.2.10;u;p", Limits{}, []Line{{1, "a@acme.test", "192.0.2.10", "u", "p"}}},
		{"ipv4 port", "a@acme.test;192.0.2.10:993;u;p", Limits{}, []Line{{1, "a@acme.test", "192.0.2.10:993", "u", "p"}}},
		{"ipv6 bracketed with port", "a@acme.test;[2001:DB8::1]:993;u;p", Limits{}, []Line{{1, "a@acme.test", "[2001:db8::1]:993", "u", "p"}}},
		{"ipv6 bracketed without port", "a@acme.test;[2001:db8::1];u;p", Limits{}, []Line{{1, "a@acme.test", "2001:db8::1", "u", "p"}}},
		{"ipv6 bare", "a@acme.test;2001:db8::1;u;p", Limits{}, []Line{{1, "a@acme.test", "2001:db8::1", "u", "p"}}},
		{"windows user name", `a@acme.test;ex.example;ACME\admin\anna;p`, Limits{}, []Line{{1, "a@acme.test", "ex.example", `ACME\admin\anna`, "p"}}},
		{"empty password with master user", "a@acme.test;h.example;u;", Limits{AllowEmptyPassword: true}, []Line{{1, "a@acme.test", "h.example", "u", ""}}},
		{"unicode password", "a@acme.test;h.example;u;pässwörd€", Limits{}, []Line{{1, "a@acme.test", "h.example", "u", "pässwörd€"}}},
		{"trailing newline", good + "\n", Limits{}, []Line{{1, "anna@acme.test", "mail.example.com", "anna@example.com", "s3cret"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Parse(strings.NewReader(tc.in), tc.lim)
			require.NoError(t, err)
			require.Empty(t, res.Problems, messages(res.Problems, i18n.Italian))
			require.Equal(t, tc.want, res.Lines)
		})
	}
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    string
		lim   Limits
		it    []string
		en    []string
		lines int // lines accepted
	}{
		{"too few fields", good + "\nb@acme.test;host.example;secretpw", Limits{},
			[]string{"Riga 2: servono 4 campi separati da «;» (casella locale;server remoto;utente remoto;password), trovati 3"},
			[]string{"Line 2: 4 fields separated by “;” are needed (local mailbox;remote server;remote user;password), found 3"}, 1},
		{"commas", "a@acme.test,host.example,u,secretpw", Limits{},
			[]string{"Riga 1: i campi vanno separati da «;», non da «,» (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"tabs", "a@acme.test\thost.example\tu\tsecretpw", Limits{},
			[]string{"Riga 1: i campi vanno separati da «;», non da TAB (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"empty local", ";host.example;u;secretpw", Limits{},
			[]string{"Riga 1: manca la casella locale (primo campo)"}, []string{"Line 1: the local mailbox (first field) is missing"}, 0},
		{"local without domain", "anna;host.example;u;secretpw\n" + good, Limits{},
			[]string{"Riga 1: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)"}, nil, 1},
		{"local without dot in domain", "anna@localhost;host.example;u;secretpw", Limits{},
			[]string{"Riga 1: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"local with space", "an na@acme.test;host.example;u;secretpw", Limits{},
			[]string{"Riga 1: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"local double dot", "a..b@acme.test;host.example;u;secretpw", Limits{},
			[]string{"Riga 1: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"one-label host", "a@acme.test;mailserver;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		// A password typed in the wrong column is never quoted back.
		{"password in the first column", "pw-S3cret;host.example;user@old.example;x", Limits{},
			[]string{"Riga 1: " + "la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)"}, nil, 0},
		{"password in the second column", "a@acme.test;pw-S3cret;user@old.example;x", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		{"password with a colon in the second column", "a@acme.test;pw:S3cret;user@old.example;x", Limits{},
			[]string{"Riga 1: la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535"}, nil, 0},
		{"empty host", "a@acme.test;;u;secretpw", Limits{},
			[]string{"Riga 1: manca il server remoto (secondo campo)"}, nil, 0},
		{"bad host", "a@acme.test;mail_server!;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		{"bad ip", "a@acme.test;192.168.1;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		{"url", "a@acme.test;imaps://mail.example.com;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) va scritto senza protocollo né percorso (es. mail.example.com o mail.example.com:993)"}, nil, 0},
		{"port zero", "a@acme.test;mail.example.com:0;u;secretpw", Limits{},
			[]string{"Riga 1: la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535"},
			[]string{"Line 1: the port of the remote server (second field) is not valid: it must be a number from 1 to 65535"}, 0},
		{"port too big", "a@acme.test;mail.example.com:65536;u;secretpw", Limits{},
			[]string{"Riga 1: la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535"}, nil, 0},
		{"port not a number", "a@acme.test;mail.example.com:imap;u;secretpw", Limits{},
			[]string{"Riga 1: la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535"}, nil, 0},
		{"empty port", "a@acme.test;mail.example.com:;u;secretpw", Limits{},
			[]string{"Riga 1: la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535"}, nil, 0},
		{"ipv6 bad brackets", "a@acme.test;[2001:db8::1;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		{"ipv4 in brackets", "a@acme.test;[192.0.2.1]:993;u;secretpw", Limits{},
			[]string{"Riga 1: il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"}, nil, 0},
		{"empty remote user", "a@acme.test;host.example; ;secretpw", Limits{},
			[]string{"Riga 1: manca l'utente remoto (terzo campo)"}, []string{"Line 1: the remote user (third field) is missing"}, 0},
		{"empty password", "a@acme.test;host.example;u;", Limits{},
			[]string{"Riga 1: manca la password (quarto campo); può mancare solo se indichi un Master User"}, nil, 0},
		{"several problems on one line, in field order", "nobody;;;", Limits{},
			[]string{"Riga 1: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)", "Riga 1: manca il server remoto (secondo campo)",
				"Riga 1: manca l'utente remoto (terzo campo)", "Riga 1: manca la password (quarto campo); può mancare solo se indichi un Master User"}, nil, 0},
		{"duplicate on the second line only, any case", good + "\nb@acme.test;h.example;u;pw\nANNA@Acme.test;other.example;x;secretpw", Limits{},
			[]string{"Riga 3: la casella locale ANNA@acme.test compare già alla riga 1"},
			[]string{"Line 3: the local mailbox ANNA@acme.test already appears on line 1"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Parse(strings.NewReader(tc.in), tc.lim)
			require.NoError(t, err)
			require.Equal(t, tc.it, messages(res.Problems, i18n.Italian))
			if tc.en != nil {
				require.Equal(t, tc.en, messages(res.Problems, i18n.English))
			}
			require.Len(t, res.Lines, tc.lines)
			for _, m := range append(messages(res.Problems, i18n.Italian), messages(res.Problems, i18n.English)...) {
				require.NotContains(t, m, "secretpw")
			}
		})
	}
}

func TestParseNotes(t *testing.T) {
	t.Parallel()
	in := "\uFEFFLocal user;Remote host;Remote user;Password\r\n" +
		"\r\n" +
		"  anna@acme.test ; mail.example.com ;\tanna@example.com\t; pw with spaces \r\n" +
		"   \r\n" +
		"bob@acme.test;mail.example.com;bob@example.com;pw\r\n"
	res, err := Parse(strings.NewReader(in), Limits{})
	require.NoError(t, err)
	require.Empty(t, res.Problems)
	require.Equal(t, []Line{
		{3, "anna@acme.test", "mail.example.com", "anna@example.com", " pw with spaces "},
		{5, "bob@acme.test", "mail.example.com", "bob@example.com", "pw"},
	}, res.Lines)
	require.Equal(t, []string{
		"Il file inizia con un segno invisibile che Excel aggiunge (BOM): ignorato, va bene così.",
		"Il file va a capo alla maniera di Windows: va bene così.",
		"Riga 1: intestazione riconosciuta e ignorata",
		"Riga 3: la password inizia o finisce con uno spazio: è stata tenuta così com'è",
		"Righe vuote ignorate: 2, 4.",
		"Spazi attorno ai campi rimossi nelle righe: 3.",
	}, messages(res.Notes, i18n.Italian))
	require.Equal(t, "Line 1: header recognised and ignored", res.Notes[2].Message(i18n.English))
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"local_user;remote_host;remote_user;remote_password",
		"Casella locale;Server remoto;Utente remoto;Password",
		"email;host;user;password",
		"EMAIL",
		// The provider's documentation's line, copied into the file.
		"utente-locale@dominio;server-IMAP-remoto;utente-remoto@dominio;password-remota",
		" Utente-Locale@Dominio ; Server-IMAP-Remoto ; utente-remoto@dominio ; password-remota",
		"local-user@domain;remote-imap-host;remote-user@domain;remote-password",
	} {
		res, err := Parse(strings.NewReader(h+"\n"+good), Limits{})
		require.NoError(t, err, h)
		require.Len(t, res.Lines, 1, h)
		require.Empty(t, res.Problems, h)
		require.Equal(t, 1, res.Notes[0].Line, h)
		require.Equal(t, "csv.note.header", res.Notes[0].Code, h)
	}
	// Only the first line may be a header.
	res, err := Parse(strings.NewReader(good+"\nemail;host;user;password"), Limits{})
	require.NoError(t, err)
	require.NotEmpty(t, res.Problems)
	for _, p := range res.Problems {
		require.Equal(t, 2, p.Line)
	}
}

func TestParseCROnly(t *testing.T) {
	t.Parallel()
	res, err := Parse(strings.NewReader(good+"\rb@acme.test;h.example;u;p\r"), Limits{})
	require.NoError(t, err)
	require.Len(t, res.Lines, 2)
	require.Equal(t, "csv.note.cr", res.Notes[0].Code)
}

func TestParseFileErrors(t *testing.T) {
	t.Parallel()
	many := strings.Repeat(good+"\n", 3)
	for _, tc := range []struct {
		name string
		in   string
		lim  Limits
		code string
		it   string
		en   string
	}{
		{"too large", strings.Repeat("x", 2049), Limits{MaxBytes: 2048}, CodeTooLarge,
			"Il file è troppo grande: al massimo 2 KB. Dividi le caselle in più migrazioni.",
			"The file is too large: 2 KB at most. Split the mailboxes over several migrations."},
		{"default limit 1 MB", strings.Repeat("x", 1<<20+1), Limits{}, CodeTooLarge,
			"Il file è troppo grande: al massimo 1 MB. Dividi le caselle in più migrazioni.", ""},
		{"too many lines", many, Limits{MaxLines: 2}, CodeTooManyLines,
			"Il file ha troppe righe: al massimo 2 caselle per migrazione. Dividile in più migrazioni.",
			"The file has too many lines: at most 2 mailboxes per migration. Split them over several migrations."},
		{"nul", good + "\x00", Limits{}, CodeNotText,
			"Riga 1: qui il file smette di essere testo (un carattere binario o non UTF-8, come una «é» salvata da Excel in ANSI): esportalo come «CSV UTF-8» o testo semplice.", ""},
		{"latin-1 on line 3", good + "\r\n" + good + "\r\n" + "luca@acme.test;h.example;u;Perch\xe9\r\n" + good, Limits{}, CodeNotText,
			"Riga 3: qui il file smette di essere testo (un carattere binario o non UTF-8, come una «é» salvata da Excel in ANSI): esportalo come «CSV UTF-8» o testo semplice.",
			"Line 3: here the file stops being text (a binary or non-UTF-8 character, like an “é” saved by Excel as ANSI): export it as “CSV UTF-8” or plain text."},
		{"control character after lone CRs", "a\rb\rc\x01", Limits{}, CodeNotText, "Riga 3: qui il file smette di essere testo (un carattere binario o non UTF-8, come una «é» salvata da Excel in ANSI): esportalo come «CSV UTF-8» o testo semplice.", ""},
		{"latin-1", "anna@acme.test;h.example;u;pass\xe9", Limits{}, CodeNotText, "", ""},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Limits{}, CodeNotText, "", ""},
		{"utf-16", "\xff\xfea\x00@\x00", Limits{}, CodeUTF16, "Il file è in UTF-16: esportalo come «CSV UTF-8» o testo semplice.", ""},
		{"empty", "", Limits{}, CodeEmpty, "Il file non contiene nessuna casella da migrare.", "The file holds no mailbox to migrate."},
		{"only blank lines", "\n \r\n\t\n", Limits{}, CodeEmpty, "", ""},
		{"only a header", "email;host;user;password\n", Limits{}, CodeEmpty, "", ""},
		{"only a BOM", "\uFEFF", Limits{}, CodeEmpty, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Parse(strings.NewReader(tc.in), tc.lim)
			require.Nil(t, res)
			fe, ok := AsFileError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.code, fe.Code)
			if tc.it != "" {
				require.Equal(t, tc.it, fe.Message(i18n.Italian))
			}
			if tc.en != "" {
				require.Equal(t, tc.en, fe.Message(i18n.English))
				require.Equal(t, tc.en, fe.Error())
			}
		})
	}
}

func TestParseReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	_, err := Parse(iotest.ErrReader(boom), Limits{})
	require.ErrorIs(t, err, boom)
	_, ok := AsFileError(err)
	require.False(t, ok)
}

func TestParseLimitExact(t *testing.T) {
	t.Parallel()
	in := good + "\n"
	res, err := Parse(strings.NewReader(in), Limits{MaxBytes: int64(len(in)), MaxLines: 1})
	require.NoError(t, err)
	require.Len(t, res.Lines, 1)
}

func TestManyNotesAreCompact(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for i := range 30 {
		b.WriteString("\n")
		b.WriteString(strings.Replace(good, "anna", "u"+strings.Repeat("x", i), 1))
		b.WriteString("\n")
	}
	res, err := Parse(&b, Limits{})
	require.NoError(t, err)
	require.Len(t, res.Lines, 30)
	require.Equal(t, "Righe vuote ignorate: 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, … (+20).", res.Notes[0].Message(i18n.Italian))
}
