package jobs_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// providerHost is the rule's host of these tests: 127.0.0.2, while
// 127.0.0.1 stays a plain host.
const providerHost = "127.0.0.2"

// onProviderHost forwards providerHost:port to target.
func onProviderHost(t *testing.T, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(providerHost, "0"))
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go testenv.ProxyPipe(c, up)
		}
	}()
	return ln.Addr().String()
}

type span struct{ from, to time.Time }

// Issue 10, "Limits that fit shared providers": a host with a rule like
// Gmail's counts per customer and per source account, across two
// worker processes (two clients), and a plain host keeps its service-wide
// 4. Tenant A copies four mailboxes from "127.0.0.2" (two of them from one
// account) and three from 127.0.0.1; tenant B three and three. 127.0.0.2
// allows 3 per customer and 1 per account: A never runs more than 3 from
// it, the shared account's two copies never overlap, and B's copies start
// while A's run (more than 4 at once from 127.0.0.2: they do not share one
// 4); 127.0.0.1 never has more than 4 at once.
func TestHostLimitsPerTenantAndAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.PerTenantLimit = 20
	f.deps.HostLimits = config.WithDefaultHostLimits([]config.HostLimit{{Pattern: providerHost, Tenant: 3, Account: 1}})
	rc := f.client(t, 6)
	f.client(t, 6)
	slow := slowProxy(t, f.src.TLSAddr(), 30<<10)
	provider, plain := onProviderHost(t, slow), slow

	g := f.otherTenant(t, "Beta", "beta.test")
	type line struct {
		local, remote, host string
	}
	seed := int64(500)
	source := func(fx *fixture, domain string) string {
		u := testenv.UniqueUser(t, domain)
		require.NoError(t, fx.src.AddUser(u, "pw"))
		seed++
		testenv.Append(t, fx.src.Dial(t, u, "pw"), "INBOX", msgList(seed, 0, 30, 8000)...)
		return u
	}
	dest := func(fx *fixture, domain string) string {
		u := testenv.UniqueUser(t, domain)
		require.NoError(t, fx.dst.AddUser(u, "dest-pw"))
		return u
	}
	shared := source(f, "acme.test")
	linesA := []line{{dest(f, "acme.test"), shared, provider}, {dest(f, "acme.test"), shared, provider}}
	for range 2 {
		linesA = append(linesA, line{dest(f, "acme.test"), source(f, "acme.test"), provider})
	}
	for range 3 {
		linesA = append(linesA, line{dest(f, "acme.test"), source(f, "acme.test"), plain})
	}
	var linesB []line
	for _, host := range []string{provider, provider, provider, plain, plain, plain} {
		linesB = append(linesB, line{dest(g, "beta.test"), source(g, "beta.test"), host})
	}
	csv := func(ls []line) string {
		var b strings.Builder
		for _, l := range ls {
			fmt.Fprintf(&b, "%s;%s;%s;pw\n", l.local, l.host, l.remote)
		}
		return b.String()
	}
	first := time.Now().Add(time.Hour)
	runA := f.validate(t, rc, f.migration(t, csv(linesA), migrationOpts{insecureTLS: true, first: first}))[0]
	runB := g.validate(t, rc, g.migration(t, csv(linesB), migrationOpts{insecureTLS: true, first: first}))[0]

	f.startNow(t, rc, runA)
	waitFor(t, time.Minute, "tenant A copying 3 from 127.0.0.2", func() (bool, string) {
		n := 0
		for _, mb := range f.mailboxes(t, runA.ID) {
			if mb.RemoteHost == provider && mb.Status == store.MailboxRunning {
				n++
			}
		}
		return n == 3, fmt.Sprintf("%d running", n)
	})
	g.startNow(t, rc, runB)
	require.Equal(t, store.RunCompleted, f.waitRun(t, runA.ID, 3*time.Minute).Status)
	require.Equal(t, store.RunCompleted, g.waitRun(t, runB.ID, 3*time.Minute).Status)

	var fromProvider, fromPlain, ofA, ofB, ofShared []span
	for _, c := range []struct {
		fx    *fixture
		run   store.Run
		lines []line
		own   *[]span
	}{{f, runA, linesA, &ofA}, {g, runB, linesB, &ofB}} {
		mbs := c.fx.mailboxes(t, c.run.ID)
		for _, l := range c.lines {
			mb := mbs[l.local]
			require.Equal(t, store.MailboxCompleted, mb.Status, l.local)
			require.Equal(t, 30, mb.Copied, l.local)
			s := span{*mb.StartedAt, *mb.EndedAt}
			if l.host == plain {
				fromPlain = append(fromPlain, s)
				continue
			}
			fromProvider = append(fromProvider, s)
			*c.own = append(*c.own, s)
			if l.remote == shared {
				ofShared = append(ofShared, s)
			}
		}
	}
	require.Equal(t, 1, maxOverlap(ofShared), "one account copied twice at once")
	require.Equal(t, 3, maxOverlap(ofA), "tenant A's count on 127.0.0.2")
	require.LessOrEqual(t, maxOverlap(ofB), 3, "tenant B's count on 127.0.0.2")
	require.Greater(t, maxOverlap(fromProvider), 4, "two customers leaving 127.0.0.2 share one 4")
	require.LessOrEqual(t, maxOverlap(fromPlain), 4, "a plain host keeps its service-wide 4")
}

// Validation's test logins follow the same counts: with 3 per customer
// and 1 per account on 127.0.0.2, at most 3 lines log in at once (not the
// plain host's 4) and one account's lines one after the other.
func TestValidateHostLimitsPerTenantAndAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.HostLimits = []config.HostLimit{{Pattern: providerHost, Tenant: 3, Account: 1}}
	var (
		mu        sync.Mutex
		open      = map[string]int{}
		total     int
		most      = map[string]int{}
		tries     = map[string]int{}
		mostTotal int
	)
	hold := func(user string) {
		mu.Lock()
		open[user]++
		tries[user]++
		total++
		most[user] = max(most[user], open[user])
		mostTotal = max(mostTotal, total)
		mu.Unlock()
		time.Sleep(400 * time.Millisecond)
		mu.Lock()
		open[user]--
		total--
		mu.Unlock()
	}
	srv := testenv.StartHostile(t, testenv.HostileOptions{User: "nobody", Password: "x", TLS: true, Hook: func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
		switch cmd.Name {
		case "LOGIN":
			user, _, _ := strings.Cut(cmd.Args, " ")
			hold(strings.Trim(user, `"`))
		case "AUTHENTICATE":
			_, ir, _ := strings.Cut(cmd.Args, " ")
			raw, _ := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 {
				hold(parts[1])
			}
		}
		return false // the server refuses the login, after the hold
	}}, testenv.HostileFolder{Name: "INBOX"})
	shared := "shared@old.test"
	var lines []string
	for i := range 7 {
		remote := shared
		if i >= 3 {
			remote = fmt.Sprintf("own%d@old.test", i)
		}
		u := f.user(t, "pw", true)
		lines = append(lines, fmt.Sprintf("%s;%s;%s;pw", u, onProviderHost(t, srv.Addr()), remote))
	}
	m := f.migration(t, strings.Join(lines, "\n"), migrationOpts{insecureTLS: true})
	f.work(t, m)
	require.Len(t, f.lineErrors(t, m), 7)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 3, tries[shared], "the shared account's three lines were all tried")
	require.Equal(t, 1, most[shared], "one account logged in twice at once")
	require.Equal(t, 3, mostTotal, "the customer's count on 127.0.0.2")
}
