package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// A password typed in the wrong column is never stored nor shown: the
// line's refusal names the field, not its content.
func TestMisplacedPasswordNeverEchoed(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	csv := goodCSV() +
		"pw-S3cret;host;user;x\n" +
		"luca@acme.test;Pw-H0st-S3cret;luca@old.test;x\n" +
		"gio@acme.test;pw:P0rt-S3cret;gio@old.test;x\n"
	res := b.postFile("/migrations", migrationForm(), csv)
	var page string
	if res.status == http.StatusSeeOther {
		page = b.get(res.header.Get("Location")).body
	} else {
		page = res.body
	}
	require.Contains(t, page, "Riga 3", "the refused line is reported")
	page += b.get("/migrations").body
	stored := p.tableText("migration_lines") + p.tableText("migrations")
	for _, secret := range []string{"S3cret", "s3cret"} {
		for _, body := range p.bodies.all() {
			require.NotContains(t, body, secret)
		}
		require.NotContains(t, stored, secret)
		require.NotContains(t, strings.ToLower(page), strings.ToLower(secret))
	}
}

// Cancelling a migration erases its remote passwords at once: the line's
// and the master user's.
func TestCancelErasesPasswords(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	plain := b.createMigration(migrationForm(), goodCSV())
	form := migrationForm()
	form.Set("master_user", "admin*master")
	form.Set("master_password", masterPW)
	master := b.createMigration(form, goodCSV())
	for _, id := range []int64{plain, master} {
		res := b.post(fmt.Sprintf("/migrations/%d/cancel", id), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, res.status, res.body)
		var lines, sealed, masterSealed int
		require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT count(*), count(l.remote_password_enc),
			count(*) FILTER (WHERE m.master_password_enc IS NOT NULL)
			FROM migration_lines l JOIN migrations m ON m.id = l.migration_id
			WHERE m.tenant_id = $1 AND m.id = $2`, tn.ID, id).Scan(&lines, &sealed, &masterSealed))
		require.Equal(t, 2, lines)
		require.Zero(t, sealed, "migration %d: a line keeps its password", id)
		require.Zero(t, masterSealed, "migration %d keeps the master password", id)
		m, err := store.GetMigration(context.Background(), p.pool, tn.ID, id)
		require.NoError(t, err)
		require.Equal(t, store.MigrationCancelled, m.Status)
	}
}

// A first run more than 90 days ahead is refused: the passwords would
// wait that long.
func TestFirstRunTooFarAhead(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	form := migrationForm()
	form.Set("first_run_at", testNow.AddDate(0, 0, 91).Format("2006-01-02T15:04"))
	form.Del("second_run_at")
	res := b.postFile("/migrations", form, goodCSV())
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, "al massimo 90 giorni da oggi")
	form.Set("first_run_at", testNow.AddDate(0, 0, 89).Format("2006-01-02T15:04"))
	id := b.createMigration(form, goodCSV())

	// Nor can a change move it there (a red migration may be changed).
	_, err := p.pool.Exec(context.Background(), `UPDATE migrations SET status = 'red' WHERE id = $1`, id)
	require.NoError(t, err)
	form.Set("first_run_at", testNow.AddDate(1, 0, 0).Format("2006-01-02T15:04"))
	res = b.post(fmt.Sprintf("/migrations/%d/edit", id), form)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, "al massimo 90 giorni da oggi")
}

// A tenant creates at most MigrationsPerHour migrations an hour.
func TestMigrationCreateRateLimited(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{migrationsPerHour: 3})
	_, email := p.tenant("acme", "acme.test")
	other, otherEmail := p.tenant("beta", "beta.test")
	b := p.browser()
	b.login(email)
	for range 3 {
		b.createMigration(migrationForm(), goodCSV())
	}
	res := b.postFile("/migrations", migrationForm(), goodCSV())
	require.Equal(t, http.StatusTooManyRequests, res.status)
	require.Contains(t, res.body, "troppe migrazioni")
	n, err := store.CountMigrationsCreatedWithin(context.Background(), p.pool, other.ID, time.Hour)
	require.NoError(t, err)
	require.Zero(t, n)
	ob := p.browser()
	ob.login(otherEmail)
	ob.createMigration(migrationForm(), strings.ReplaceAll(goodCSV(), "acme.test", "beta.test"))
}

// The form says what Standard-no-SSL does without STARTTLS: a plain-text
// login, or, when the operator forbids it, nothing without STARTTLS.
func TestStandardNoSSLSaysWhatItDoes(t *testing.T) {
	t.Parallel()
	for _, forbid := range []bool{false, true} {
		p := setup(t, panelOpts{forbidPlainLogin: forbid})
		_, email := p.tenant("acme", "acme.test")
		b := p.browser()
		b.login(email)
		label := b.get("/migrations/new").doc(t).Find(`option[value="standard-nossl"]`).Text()
		if forbid {
			require.Contains(t, label, "solo con STARTTLS", label)
		} else {
			require.Contains(t, label, "password in chiaro", label)
		}
	}
}
