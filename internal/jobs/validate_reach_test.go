package jobs_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// countingListener accepts connections on 127.0.0.1 and counts them.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), accepted
}

// What a CSV line may reach: the IMAP ports only (the operator may add
// some), never our own IMAP server, by name or by address. Refused lines
// are refused before anything is dialled.
func TestValidateRemoteReach(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, srcPort, _ := net.SplitHostPort(f.src.TLSAddr())
	port := func(s string) uint16 {
		n, err := netip.ParseAddrPort(s)
		require.NoError(t, err)
		return n.Port()
	}
	scanned, scannedConns := countingListener(t)
	f.deps.Guard = netguard.Guard{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Ports: []uint16{143, 993, port(f.src.TLSAddr()), port(f.dst.TLSAddr())},
	}
	f.deps.Guard.OwnServer(context.Background(), nil, []string{f.dst.TLSAddr(), "imap.provider.test"}, nil)

	good := f.user(t, "pw-good", true)
	var users []string
	for range 4 {
		users = append(users, f.user(t, "pw-x", true))
	}
	csv := strings.Join([]string{
		fmt.Sprintf("%s;%s;%s;pw-good", good, f.src.TLSAddr(), good),
		fmt.Sprintf("%s;203.0.113.5:25;%s;pw-x", users[0], users[0]),
		fmt.Sprintf("%s;%s;%s;pw-x", users[1], scanned, users[1]),
		fmt.Sprintf("%s;%s;%s;pw-x", users[2], f.dst.TLSAddr(), users[2]),
		fmt.Sprintf("%s;IMAP.provider.test:%s;%s;pw-x", users[3], srcPort, users[3]),
	}, "\n")
	m := f.migration(t, csv, migrationOpts{insecureTLS: true})
	f.work(t, m)
	_, scannedPort, _ := net.SplitHostPort(scanned)
	require.Equal(t, map[int]string{
		2: "Riga 2: il server remoto 203.0.113.5:25 usa una porta non consentita: sono consentite solo le porte IMAP (143, 993, " + srcPort + ", " + portOf(f.dst.TLSAddr()) + ")",
		3: "Riga 3: il server remoto 127.0.0.1:" + scannedPort + " usa una porta non consentita: sono consentite solo le porte IMAP (143, 993, " + srcPort + ", " + portOf(f.dst.TLSAddr()) + ")",
		4: "Riga 4: il server remoto " + f.dst.TLSAddr() + " è il nostro server di posta: indica il server da cui vuoi spostare la posta",
		5: "Riga 5: il server remoto imap.provider.test:" + srcPort + " è il nostro server di posta: indica il server da cui vuoi spostare la posta",
	}, f.lineErrors(t, m))
	require.Zero(t, scannedConns.Load(), "a refused port is never dialled")
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// Failed remote logins are throttled per (remote host, remote user), from
// any tenant, and per tenant: the panel cannot be used to guess passwords.
func TestValidateRemoteLoginsThrottled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.RemoteLogins = store.RemoteLoginLimits{PerUser: 3, PerTenant: 5}
	// Dovecot delays each failed login: on a busy machine a short timeout
	// would turn one into "cannot connect", which does not count.
	f.deps.CheckTimeout = time.Minute
	victim := testenv.UniqueUser(t, "victim.test")
	require.NoError(t, f.src.AddUser(victim, "the-real-one"))
	var lines []string
	for i := range 5 {
		u := f.user(t, "pw", true)
		lines = append(lines, fmt.Sprintf("%s;%s;%s;guess-%d", u, f.src.TLSAddr(), victim, i))
	}
	m := f.migration(t, strings.Join(lines, "\n"), migrationOpts{insecureTLS: true})
	f.work(t, m)
	counts := map[string]int{}
	for _, text := range f.lineErrors(t, m) {
		_, reason, _ := strings.Cut(text, ": ")
		counts[reason]++
	}
	require.Equal(t, map[string]int{
		"test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato":                            3,
		"troppi accessi falliti di recente con questo utente o da questo account: controlla la password e riprova tra un'ora": 2,
	}, counts)

	// Another tenant guessing the same remote user is throttled too, even
	// with the right password.
	g := setup(t)
	g.src = f.src
	g.deps.RemoteLogins = f.deps.RemoteLogins
	g.deps.CheckTimeout = time.Minute
	g.pool = f.pool
	other, err := store.CreateTenant(g.ctx, g.pool, store.NewTenant{Name: "Other", NotifyEmail: "it@other.test", Domains: []string{"other.test"}})
	require.NoError(t, err)
	g.tenant = other
	g.deps.Pool = g.pool
	u := testenv.UniqueUser(t, "other.test")
	require.NoError(t, g.dst.AddUser(u, "dest"))
	m2 := g.migration(t, fmt.Sprintf("%s;%s;%s;the-real-one", u, f.src.TLSAddr(), victim), migrationOpts{insecureTLS: true})
	g.work(t, m2)
	require.Equal(t, map[int]string{
		1: "Riga 1: troppi accessi falliti di recente con questo utente o da questo account: controlla la password e riprova tra un'ora",
	}, g.lineErrors(t, m2))

	// The tenant's own cap: different remote users, 5 failures in all
	// (3 above, then 2 more).
	for i := range 3 {
		u := f.user(t, "pw", true)
		m := f.migration(t, fmt.Sprintf("%s;%s;%s;wrong", u, f.src.TLSAddr(), u), migrationOpts{insecureTLS: true})
		f.work(t, m)
		want := "Riga 1: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato"
		if i == 2 {
			want = "Riga 1: troppi accessi falliti di recente con questo utente o da questo account: controlla la password e riprova tra un'ora"
		}
		require.Equal(t, map[int]string{1: want}, f.lineErrors(t, m), "migration %d", i)
	}
}
