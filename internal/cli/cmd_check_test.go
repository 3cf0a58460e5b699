package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// checkResult is the JSON of trasloco check --json.
type checkResult struct {
	RemoteAddr string
	Notes      []string
	Folders    []struct {
		Source, Dest, Excluded string
	}
	Messages map[string]uint32
	Error    string `json:"error"`
}

func checkJSON(t *testing.T, r ran) checkResult {
	t.Helper()
	var c checkResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &c), "stdout is JSON: %q", r.stdout)
	return c
}

// TestCheckDovecot: a good login is exit 0 with the folder plan and the
// message counts (Trash left out), as JSON or as text; a wrong password is
// exit 2 with the reason, as JSON too; bad flags are exit 2.
func TestCheckDovecot(t *testing.T) {
	t.Parallel()
	f := copySetup(t)
	c := f.src.Dial(t, f.srcUser, "old-Pa;ss")
	testenv.Append(t, c, "INBOX", testenv.BuildMessage(50, 0, 1000), testenv.BuildMessage(50, 1, 1000))
	testenv.Append(t, c, "INBOX.Trash", testenv.BuildMessage(51, 0, 1000))
	base := []string{"check", "--src", f.src.PlainAddr(), "--src-tls", "starttls", "--src-user", f.srcUser, "--ca-file", f.caFile}

	r := run(t, f.env(), append(base, "--src-password-env", "SRC_PW", "--json")...)
	require.Equal(t, 0, r.code)
	got := checkJSON(t, r)
	require.NotEmpty(t, got.RemoteAddr)
	require.Equal(t, uint32(2), got.Messages["INBOX"])
	excluded := map[string]string{}
	for _, fo := range got.Folders {
		excluded[fo.Source] = fo.Excluded
	}
	require.Equal(t, "trash", excluded["INBOX.Trash"])
	require.Empty(t, excluded["INBOX"])

	r = run(t, f.env(), append(base, "--src-password-env", "SRC_PW")...)
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "login ok")
	require.Regexp(t, `skip +INBOX\.Trash +\(trash\)`, r.stdout)

	r = run(t, []string{"SRC_PW=wrong"}, append(base, "--src-password-env", "SRC_PW", "--json")...)
	require.Equal(t, 2, r.code)
	require.NotEmpty(t, checkJSON(t, r).Error)

	r = run(t, f.env(), "check", "--src-user", "x", "--src-password-env", "SRC_PW")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--src is required")
}

// TestCheckHostileServer — issue 9 for the panel's test login: Trash and
// Spam under INBOX without SPECIAL-USE are planned as excluded; a server
// that never answers LOGOUT still lets check end; a 64 MiB greeting is
// exit 2, never a crash. Nothing is written to the old server.
func TestCheckHostileServer(t *testing.T) {
	t.Parallel()
	folders := []testenv.HostileFolder{
		{Name: "INBOX", Messages: testenv.HostileMessages(testenv.BuildMessage(52, 0, 1000))},
		{Name: "INBOX/Trash"}, {Name: "INBOX/Spam"}, {Name: "INBOX/Cestino"}, {Name: "INBOX/Posta indesiderata"},
		{Name: "INBOX/Progetti"},
	}
	for _, tc := range []struct {
		name  string
		opts  testenv.HostileOptions
		code  int
		trash bool // check the plan of Trash and Junk
	}{
		{"trash under INBOX", testenv.HostileOptions{NoSpecialUse: true}, 0, true},
		{"trash under INBOX, TLS, no NAMESPACE", testenv.HostileOptions{NoSpecialUse: true, NoNamespace: true, TLS: true}, 0, true},
		{"no LOGOUT reply", testenv.HostileOptions{Faults: testenv.HostileFaults{NoLogoutReply: true}}, 0, false},
		{"huge greeting", testenv.HostileOptions{Faults: testenv.HostileFaults{GreetingBytes: 64 << 20}}, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testenv.StartHostile(t, tc.opts, folders...)
			args := []string{"check", "--json", "--src", srv.Addr(), "--src-user", srv.User(), "--src-password-env", "SRC_PW"}
			if tc.opts.TLS {
				ca := t.TempDir() + "/ca.pem"
				require.NoError(t, writeFile(ca, srv.CAPEM()))
				args = append(args, "--src-tls", "implicit", "--ca-file", ca)
			} else {
				args = append(args, "--src-tls", "none")
			}
			r := run(t, []string{"SRC_PW=" + srv.Password()}, args...)
			require.Equal(t, tc.code, r.code)
			got := checkJSON(t, r)
			require.Empty(t, srv.Writes())
			if tc.code != 0 {
				require.NotEmpty(t, got.Error)
				return
			}
			copied := map[string]bool{}
			for _, fo := range got.Folders {
				if fo.Excluded == "" {
					copied[fo.Source] = true
				}
			}
			require.True(t, copied["INBOX"] && copied["INBOX/Progetti"], "INBOX and INBOX/Progetti are copied: %v", copied)
			require.Equal(t, uint32(1), got.Messages["INBOX"])
			if tc.trash {
				require.Equal(t, map[string]bool{"INBOX": true, "INBOX/Progetti": true}, copied, "Trash and Junk under INBOX are never copied")
			}
		})
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// TestCheckExchangeAdministrator: with --preset exchange, --src-auth-user
// DOMAIN\admin logs in as Exchange's DOMAIN\admin\user on an Exchange-like
// server that takes no other master login, and the plan leaves its
// non-mail stores behind.
func TestCheckExchangeAdministrator(t *testing.T) {
	t.Parallel()
	ex := testenv.SharedExchange(t)
	user := testenv.UniqueUser(t, "acme.test")
	admin := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, ex.AddUser(user, "unknown-to-the-admin"))
	require.NoError(t, ex.AddUser(admin, "admin-pw"))
	require.NoError(t, ex.GrantFullAccess("ACME", admin, "admin-pw", user))
	caFile := ex.CAFile()
	local, _, _ := strings.Cut(admin, "@")
	args := []string{"check", "--src", ex.TLSAddr(), "--src-user", user, "--src-auth-user", `ACME\` + local,
		"--src-password-env", "ADMIN_PW", "--ca-file", caFile, "--json"}

	r := run(t, []string{"ADMIN_PW=admin-pw"}, append(args, "--preset", "exchange")...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	excluded := map[string]string{}
	for _, fo := range checkJSON(t, r).Folders {
		excluded[fo.Source] = fo.Excluded
	}
	require.Equal(t, "not a mail folder", excluded["Calendar"])
	require.Empty(t, excluded["INBOX"])

	r = run(t, []string{"ADMIN_PW=admin-pw"}, append(args, "--preset", "standard-ssl")...)
	require.Equal(t, 2, r.code, "Standard-SSL tries Dovecot's master forms, which Exchange does not take")
}
