package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// TestExchangeAdministratorLogins — issue 10: with the Exchange type, a
// Master User written DOMAIN\admin or admin@domain logs in as Exchange
// expects, "DOMAIN\admin\user" or "admin@domain\user" with the
// administrator's password, on an Exchange-like Dovecot that takes only
// those forms for the mailboxes the administrator has FullAccess on (no
// Dovecot master user there): validation is blue for those and names the
// refused one, and the run copies with empty CSV passwords.
func TestExchangeAdministratorLogins(t *testing.T) {
	t.Parallel()
	ex := testenv.SharedExchange(t)
	for _, form := range []string{"DOMAIN\\admin", "admin@domain"} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			admin := testenv.UniqueUser(t, "acme.test")
			require.NoError(t, ex.AddUser(admin, "admin-Pa;ss"))
			master := admin
			if form == "DOMAIN\\admin" {
				local, _, _ := strings.Cut(admin, "@")
				master = `ACME\` + local
			}
			var csv strings.Builder
			var locals []string
			for i := range 3 {
				remote := testenv.UniqueUser(t, "acme.test")
				require.NoError(t, ex.AddUser(remote, "the-users-own-unknown"))
				testenv.Append(t, ex.Dial(t, remote, "the-users-own-unknown"), "INBOX", msgList(int64(80+i), 0, 3, 1<<10)...)
				if i < 2 { // the third has no FullAccess
					require.NoError(t, ex.GrantFullAccess("ACME", admin, "admin-Pa;ss", remote))
				}
				local := testenv.UniqueUser(t, "acme.test")
				require.NoError(t, f.dst.AddUser(local, "dest-pw"))
				locals = append(locals, local)
				fmt.Fprintf(&csv, "%s;%s;%s;\n", local, ex.TLSAddr(), remote)
			}
			m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, preset: transfer.PresetExchange,
				masterUser: master, masterPassword: "admin-Pa;ss"})
			f.work(t, m)
			errs := f.lineErrors(t, m)
			require.Len(t, errs, 1, "%v", errs)
			require.Contains(t, errs[3], "password", "the mailbox without FullAccess is refused")

			// Without the refused line the migration is blue and runs.
			f.runDeps()
			rc := f.client(t, 2)
			lines := strings.SplitAfter(csv.String(), "\n")
			m = f.migration(t, lines[0]+lines[1], migrationOpts{insecureTLS: true, preset: transfer.PresetExchange,
				masterUser: master, masterPassword: "admin-Pa;ss", first: time.Now().Add(time.Hour)})
			runs := f.validate(t, rc, m)
			f.startNow(t, rc, runs[0])
			r1 := f.waitRun(t, runs[0].ID, 2*time.Minute)
			require.Equal(t, store.RunCompleted, r1.Status)
			mbs := f.mailboxes(t, runs[0].ID)
			for _, local := range locals[:2] {
				require.Equal(t, store.MailboxCompleted, mbs[local].Status, local)
				require.Equal(t, 3, mbs[local].Copied, local)
			}
			require.NotContains(t, f.logs.String(), "admin-Pa;ss")
		})
	}
}
