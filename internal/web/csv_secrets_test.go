package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
