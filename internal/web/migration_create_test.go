package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

const (
	remotePW1 = "Pw-Anna;con;punti-e-virgola"
	remotePW2 = "S3greto!Marco"
	masterPW  = "M4ster-Segreto#"
)

func goodCSV() string {
	return "anna@acme.test;mail.old.test;anna@old.test;" + remotePW1 + "\r\n" +
		"marco@acme.test;mail.old.test:993;marco.rossi;" + remotePW2 + "\r\n"
}

func TestMigrationCreate(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	ctx := context.Background()

	res := b.get("/migrations/new")
	require.Equal(t, http.StatusOK, res.status)
	doc := res.doc(t)
	require.Equal(t, 5, doc.Find(`select[name="preset"] option`).Length())
	require.Contains(t, doc.Find(`option[value="standard-ssl"]`).Text(), "consigliato")
	require.Equal(t, 1, doc.Find(`input[type="file"][name="csv"]`).Length())
	require.Equal(t, 2, doc.Find(`input[type="datetime-local"]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid="example-csv"]`).Length())

	for _, ext := range []string{"csv", "txt"} {
		res := b.get("/migrations/example." + ext)
		require.Equal(t, http.StatusOK, res.status)
		require.Contains(t, res.header.Get("Content-Disposition"), "attachment")
		require.Equal(t, 3, strings.Count(res.body, "\n"))
	}

	form := migrationForm()
	form.Set("insecure_tls", "1")
	id := b.createMigration(form, goodCSV())

	m, err := store.GetMigration(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, store.MigrationValidating, m.Status)
	require.Equal(t, "Ufficio Milano", m.Name)
	require.Equal(t, "standard-ssl", m.Preset)
	require.True(t, m.InsecureTLS)
	require.Equal(t, 2, m.LineCount)
	// 22:00 and 06:00 in Rome, winter: UTC+1.
	require.Equal(t, time.Date(2030, 2, 1, 21, 0, 0, 0, time.UTC), m.FirstRunAt.UTC())
	require.Equal(t, time.Date(2030, 2, 2, 5, 0, 0, 0, time.UTC), m.SecondRunAt.UTC())
	require.Equal(t, 1, p.validateJobs(id), "one validate job in the same transaction")

	lines, err := store.ListLines(ctx, p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	pw, err := p.box.Open(lines[0].RemotePasswordEnc, jobs.LineSecretAD(tn.ID, lines[0].LocalUser, lines[0].RemoteHost, lines[0].RemoteUser))
	require.NoError(t, err)
	require.Equal(t, remotePW1, string(pw))

	// The page it redirects to follows the validation.
	res = b.get("/migrations/" + itoa(id))
	require.Equal(t, http.StatusOK, res.status)
	doc = res.doc(t)
	require.Equal(t, "validating", doc.Find(`[data-testid="status"]`).AttrOr("data-status", ""))
	require.Equal(t, "0/2", doc.Find(`[data-testid="validation-count"]`).Text())
	require.Equal(t, 1, doc.Find(`script[src="/static/status.js"]`).Length())
	require.Contains(t, doc.Find(`[data-testid="flash"]`).Text(), "Migrazione creata")
	// Notes of the parser (CRLF here) are passed on.
	require.Equal(t, 2, doc.Find(`[data-testid="line-row"]`).Length())

	res = b.get("/migrations/" + itoa(id) + "/status.json")
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"status":"validating","label":"Verifica in corso","validated":0,"total":2,"failed":0}`, res.body)
}

func TestMigrationCreateMasterUser(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	form := migrationForm()
	form.Set("master_user", "admin@old.test")
	form.Set("master_password", masterPW)
	// Passwords may be empty with a master user.
	id := b.createMigration(form, "anna@acme.test;mail.old.test;anna@old.test;\nmarco@acme.test;mail.old.test;marco@old.test;"+remotePW2+"\n")
	m, err := store.GetMigration(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, "admin@old.test", m.MasterUser)
	pw, err := p.box.Open(m.MasterPasswordEnc, jobs.MasterSecretAD(tn.ID, "admin@old.test"))
	require.NoError(t, err)
	require.Equal(t, masterPW, string(pw))

	// Without a master user the empty password is a line problem.
	id = b.createMigration(migrationForm(), "anna@acme.test;mail.old.test;anna@old.test;\n")
	lines, err := store.ListLines(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	require.Equal(t, store.LineFailed, lines[0].Status)
	require.True(t, strings.HasPrefix(lines[0].Reason(i18n.Italian), "Riga 1: "), lines[0].Reason(i18n.Italian))
}

func TestMigrationCreateFormErrors(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{maxCSVBytes: 4 << 10})
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)

	with := func(kv ...string) url.Values {
		f := migrationForm()
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		csv        string
		wantStatus int
		wantField  string // data-testid error-<field>
		wantText   string
	}{
		{"no name", with("name", " "), goodCSV(), 422, "name", "Dai un nome"},
		{"bad preset", with("preset", "aol"), goodCSV(), 422, "preset", "Scegli il tipo"},
		{"no file", migrationForm(), "", 422, "csv", "Scegli il file CSV"},
		{"first run in the past", with("first_run_at", "2030-01-10T12:30", "second_run_at", ""), goodCSV(), 422, "first_run_at", "nel futuro"},
		{"first run missing", with("first_run_at", ""), goodCSV(), 422, "first_run_at", "Indica data e ora"},
		{"second more than 23h later", with("second_run_at", "2030-02-02T21:01"), goodCSV(), 422, "second_run_at", "al massimo 23 ore dopo"},
		{"second before first", with("second_run_at", "2030-02-01T21:59"), goodCSV(), 422, "second_run_at", "dopo la prima"},
		// Europe/Rome, 27 October 2030: 00:00 to 22:30 on the clock is 23h30.
		{"DST day, autumn", with("first_run_at", "2030-10-27T00:00", "second_run_at", "2030-10-27T22:30"), goodCSV(), 422, "second_run_at", "al massimo 23 ore dopo"},
		{"DST gap", with("first_run_at", "2030-03-31T02:30", "second_run_at", ""), goodCSV(), 422, "first_run_at", "cambio dell'ora legale"},
		{"master password without user", with("master_password", masterPW), goodCSV(), 422, "master_user", "senza Master User"},
		{"master user without password", with("master_user", "admin@old.test"), goodCSV(), 422, "master_password", "serve anche la sua password"},
		{"not text", migrationForm(), "\x00\x01\x02binary", 422, "", "Riga 1: qui il file smette di essere testo"},
		{"too large for the parser", migrationForm(), strings.Repeat("a", 10<<10), 422, "", "troppo grande: al massimo 4 KB"},
		{"too large for the request", migrationForm(), strings.Repeat("a", 100<<10), 413, "", "troppo grande: al massimo 4 KB"},
		// No line readable: the file is wrong, not a line; it stays on the form.
		{"comma separated", migrationForm(), "anna@acme.test,mail.old.test,anna@old.test,pw\nmarco@acme.test,mail.old.test,marco@old.test,pw\n", 422, "", "il file usa «,» come separatore"},
		{"no line readable", migrationForm(), "anna@acme.test;mail.old.test\nsolo testo\n", 422, "", "Riga 2: servono 4 campi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.postFile("/migrations", tt.form, tt.csv)
			require.Equal(t, tt.wantStatus, res.status, res.body)
			doc := res.doc(t)
			if tt.wantField != "" {
				msg := doc.Find(`[data-testid="error-` + tt.wantField + `"]`).Text()
				require.Contains(t, msg, tt.wantText)
				require.Equal(t, "true", doc.Find(`[name="`+tt.wantField+`"]`).AttrOr("aria-invalid", ""))
			} else {
				require.Contains(t, doc.Find(`[data-testid="file-problems"], [data-testid="form-error"]`).Text(), tt.wantText)
			}
			if tt.csv != "" && tt.wantStatus == 422 {
				require.Equal(t, 1, doc.Find(`[data-testid="choose-file-again"]`).Length(), "the user is told to choose the file again")
			}
			if tt.wantStatus == 422 {
				// What was typed is kept, except the password.
				require.Equal(t, strings.TrimSpace(tt.form.Get("name")), doc.Find(`input[name="name"]`).AttrOr("value", ""))
				require.Empty(t, doc.Find(`input[name="master_password"]`).AttrOr("value", ""))
			}
			requireNoSecret(t, res.body, masterPW, "the form")
		})
	}
	ms, err := store.ListMigrations(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Empty(t, ms, "no refused form creates a migration")

	// The DST day in spring allows 23h30 on the clock: it is 22h30 of real time.
	id := b.createMigration(with("first_run_at", "2030-03-31T00:00", "second_run_at", "2030-03-31T23:30"), goodCSV())
	m, err := store.GetMigration(context.Background(), p.pool, tn.ID, id)
	require.NoError(t, err)
	require.Equal(t, 22*time.Hour+30*time.Minute, m.SecondRunAt.Sub(m.FirstRunAt))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
