package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// mailPanel is a panel whose account emails go to the shared Mailpit.
func mailPanel(t *testing.T) (*panel, *testenv.Mailpit) {
	t.Helper()
	mp := testenv.SharedMailpit(t)
	host, port, err := net.SplitHostPort(mp.SMTPAddr())
	require.NoError(t, err)
	pn, err := strconv.Atoi(port)
	require.NoError(t, err)
	m, err := notify.NewMailer(config.SMTP{Host: host, Port: pn, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	return setup(t, panelOpts{mail: m}), mp
}

// uniqueAddr is an address no other test (sharing Mailpit) uses.
func uniqueAddr(t *testing.T, local string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return local + "-" + hex.EncodeToString(b) + "@acme.test"
}

var linkRE = regexp.MustCompile(`https?://[^\s]+/password/set/([A-Za-z0-9_-]+)`)

// mailedLink waits for the one email to `to` and returns the path of its link.
func mailedLink(t *testing.T, mp *testenv.Mailpit, to string) string {
	t.Helper()
	msgs := mp.WaitMessages(context.Background(), t, "to:"+to, 1)
	require.Len(t, msgs, 1)
	m := linkRE.FindStringSubmatch(msgs[0].Text)
	require.NotNil(t, m, msgs[0].Text)
	u, err := url.Parse(m[0])
	require.NoError(t, err)
	return u.Path
}

func (b *browser) loginWith(email, pw string) response {
	b.p.t.Helper()
	return b.post("/login", url.Values{"email": {email}, "password": {pw}})
}

func TestTeamInviteAndLink(t *testing.T) {
	t.Parallel()
	p, mp := mailPanel(t)
	tn, email := p.tenant("acme", "acme.test")
	other, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)

	doc := b.get("/migrations").doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="nav-team"]`).Length())
	res := b.get("/team")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="team-row"]`).Length())

	luca := uniqueAddr(t, "luca")
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/team/invite", url.Values{"email": {"not an address"}}).status)
	res = b.post("/team/invite", url.Values{"email": {luca}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/team/invite", url.Values{"email": {luca}}).status, "one account per address")
	path := mailedLink(t, mp, luca)
	token := strings.TrimPrefix(path, "/password/set/")
	require.NotContains(t, p.tableText("user_tokens"), token, "the token is stored hashed")
	require.NotContains(t, strings.ToLower(p.tableText("user_tokens")), hex.EncodeToString([]byte(token)))
	row := b.get("/team").doc(t).Find(`[data-testid="team-row"][data-email="` + luca + `"]`)
	require.Equal(t, "Invitato", strings.TrimSpace(row.Find(`[data-testid="team-status"]`).Text()))

	// Before choosing a password, Luca cannot sign in.
	lb := p.browser()
	require.Equal(t, http.StatusUnauthorized, lb.loginWith(luca, userPassword).status)
	res = lb.get(path)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, luca, res.doc(t).Find(`[data-testid="password-for"]`).Text())
	require.Equal(t, http.StatusUnprocessableEntity, lb.post(path, url.Values{"password": {"short"}, "confirm": {"short"}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, lb.post(path, url.Values{"password": {"una password lunga"}, "confirm": {"un'altra"}}).status)
	res = lb.post(path, url.Values{"password": {"la password di Luca"}, "confirm": {"la password di Luca"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/login", res.header.Get("Location"))
	// Used once: gone.
	require.Equal(t, http.StatusNotFound, lb.get(path).status)
	require.Equal(t, http.StatusNotFound, lb.post(path, url.Values{"password": {"ancora un'altra"}, "confirm": {"ancora un'altra"}}).status)
	require.Equal(t, http.StatusSeeOther, lb.loginWith(luca, "la password di Luca").status)
	// Luca is not an administrator.
	require.Equal(t, http.StatusNotFound, lb.get("/team").status)
	require.Equal(t, http.StatusNotFound, lb.get("/settings").status)
	require.Equal(t, http.StatusNotFound, lb.post("/team/invite", url.Values{"email": {uniqueAddr(t, "x")}}).status)
	require.Equal(t, 0, lb.get("/migrations").doc(t).Find(`[data-testid="nav-team"]`).Length())

	var lucaID int64
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, luca).Scan(&lucaID))
	// Another tenant's administrator: 404, nothing changed.
	ob := p.browser()
	ob.login(otherEmail)
	for _, a := range []string{"disable", "delete"} {
		require.Equal(t, http.StatusNotFound, ob.post("/team/"+itoa(lucaID)+"/"+a, nil).status)
	}
	require.NotContains(t, ob.get("/team").body, luca)
	_ = other

	// Disabled: signed out at the next request, cannot sign in.
	require.Equal(t, http.StatusSeeOther, b.post("/team/"+itoa(lucaID)+"/disable", nil).status)
	require.Equal(t, http.StatusSeeOther, lb.get("/migrations").status)
	// A disabled account answers like a wrong password (issue 11).
	require.Equal(t, http.StatusUnauthorized, p.browser().loginWith(luca, "la password di Luca").status)
	require.Equal(t, http.StatusSeeOther, b.post("/team/"+itoa(lucaID)+"/enable", nil).status)
	require.Equal(t, http.StatusSeeOther, p.browser().loginWith(luca, "la password di Luca").status)
	// Nobody removes themselves.
	var adminID int64
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, email).Scan(&adminID))
	require.Equal(t, http.StatusSeeOther, b.post("/team/"+itoa(adminID)+"/delete", nil).status)
	require.Equal(t, 1, p.count(`SELECT count(*) FROM users WHERE id = $1`, adminID))
	require.Equal(t, http.StatusSeeOther, b.post("/team/"+itoa(lucaID)+"/delete", nil).status)
	require.Zero(t, p.count(`SELECT count(*) FROM users WHERE id = $1`, lucaID))

	// An expired invitation does not work.
	_, hash, err := newToken()
	require.NoError(t, err)
	require.NoError(t, store.CreateUserToken(context.Background(), p.pool, tn.ID, adminID, store.TokenInvite, hash, testNow.Add(-time.Minute)))
	require.Zero(t, p.count(`SELECT count(*) FROM user_tokens WHERE token_hash = $1 AND expires_at > $2`, hash, testNow))
	p.requireAudited(tn.ID, store.AuditUserInvited, store.AuditPasswordSet, store.AuditUserDisabled, store.AuditUserEnabled)
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()
	p, mp := mailPanel(t)
	tn, _ := p.tenant("acme", "acme.test")
	anna := uniqueAddr(t, "anna")
	hash, err := p.browser().p.srvHash(userPassword)
	require.NoError(t, err)
	_, err = store.CreateUser(context.Background(), p.pool, tn.ID, store.NewUser{Email: anna, PasswordHash: hash})
	require.NoError(t, err)
	b := p.browser()

	require.Equal(t, 1, b.get("/login").doc(t).Find(`[data-testid="forgot-link"]`).Length())
	// The same answer for an unknown address, and no email.
	nobody := uniqueAddr(t, "nessuno")
	res := b.post("/password/forgot", url.Values{"email": {nobody}})
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="forgot-sent"]`).Length())
	res = b.post("/password/forgot", url.Values{"email": {strings.ToUpper(anna)}})
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="forgot-sent"]`).Length())
	path := mailedLink(t, mp, anna)
	found, err := mp.Search(context.Background(), "to:"+nobody)
	require.NoError(t, err)
	require.Empty(t, found)

	res = b.post(path, url.Values{"password": {"una nuova password"}, "confirm": {"una nuova password"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, http.StatusUnauthorized, p.browser().loginWith(anna, userPassword).status)
	require.Equal(t, http.StatusSeeOther, p.browser().loginWith(anna, "una nuova password").status)
	require.Equal(t, http.StatusNotFound, b.get(path).status, "single use")

	// Change the own password, given the current one.
	ab := p.browser()
	require.Equal(t, http.StatusSeeOther, ab.loginWith(anna, "una nuova password").status)
	require.Equal(t, http.StatusUnprocessableEntity, ab.post("/account/password", url.Values{"current": {"sbagliata"}, "password": {"la terza password"}, "confirm": {"la terza password"}}).status)
	require.Equal(t, http.StatusSeeOther, ab.post("/account/password", url.Values{"current": {"una nuova password"}, "password": {"la terza password"}, "confirm": {"la terza password"}}).status)
	require.Equal(t, http.StatusSeeOther, p.browser().loginWith(anna, "la terza password").status)
	for _, body := range p.bodies.all() {
		require.NotContains(t, body, "la terza password")
	}
	p.requireAudited(0, store.AuditPasswordSet, store.AuditPasswordChanged)
}

func TestSettings(t *testing.T) {
	t.Parallel()
	p := setup(t)
	tn, email := p.tenant("acme", "acme.test")
	_, otherEmail := p.tenant("other", "other.test")
	b := p.browser()
	b.login(email)
	res := b.get("/settings")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "it@acme.test", strings.TrimSpace(res.doc(t).Find(`#notify_emails`).Text()))

	form := url.Values{"notify_emails": {"IT@acme.test\nmario@acme.test, capo@acme.test\n\nit@acme.test"}, "timezone": {"Europe/London"}, "language": {"en"}}
	res = b.post("/settings", form)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	st, err := store.GetTenantSettings(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"it@acme.test", "mario@acme.test", "capo@acme.test"}, st.NotifyEmails)
	require.Equal(t, "Europe/London", st.Timezone)
	require.Equal(t, "en", st.Language)
	addrs, err := store.NotifyAddresses(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 3)

	for _, bad := range []url.Values{
		{"notify_emails": {""}, "timezone": {"Europe/Rome"}, "language": {"it"}},
		{"notify_emails": {"non-un-indirizzo"}, "timezone": {"Europe/Rome"}, "language": {"it"}},
		{"notify_emails": {"a@acme.test"}, "timezone": {"Europa/Roma"}, "language": {"it"}},
	} {
		require.Equal(t, http.StatusUnprocessableEntity, b.post("/settings", bad).status, bad)
	}
	st2, err := store.GetTenantSettings(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Equal(t, st, st2, "nothing changed")

	// Another tenant's administrator changes their own tenant only.
	ob := p.browser()
	ob.login(otherEmail)
	require.Equal(t, "it@other.test", strings.TrimSpace(ob.get("/settings").doc(t).Find(`#notify_emails`).Text()))
	p.requireAudited(tn.ID, store.AuditSettingsChanged)
}

// Reset emails are throttled per address and per client, with the answer
// of an unknown address.
func TestForgotPasswordThrottled(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	host, port, err := net.SplitHostPort(mp.SMTPAddr())
	require.NoError(t, err)
	pn, err := strconv.Atoi(port)
	require.NoError(t, err)
	m, err := notify.NewMailer(config.SMTP{Host: host, Port: pn, TLS: config.TLSNone, From: "trasloco@provider.test"})
	require.NoError(t, err)
	p := setup(t, panelOpts{mail: m, trustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	tn, _ := p.tenant("acme", "acme.test")
	hash, err := p.browser().p.srvHash(userPassword)
	require.NoError(t, err)
	anna, bob := uniqueAddr(t, "anna"), uniqueAddr(t, "bob")
	for _, e := range []string{anna, bob} {
		_, err = store.CreateUser(context.Background(), p.pool, tn.ID, store.NewUser{Email: e, PasswordHash: hash})
		require.NoError(t, err)
	}
	b := p.browser()
	forgot := func(email, from string) {
		t.Helper()
		res := b.post("/password/forgot", url.Values{"email": {email}}, "X-Forwarded-For", from)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, 1, res.doc(t).Find(`[data-testid="forgot-sent"]`).Length())
	}
	count := func(to string) int {
		t.Helper()
		found, err := mp.Search(context.Background(), "to:"+to)
		require.NoError(t, err)
		return len(found)
	}

	// Ten requests for anna from two clients: three emails.
	for i := range 10 {
		forgot(anna, fmt.Sprintf("198.51.100.%d", 1+i%2))
	}
	require.Len(t, mp.WaitMessages(context.Background(), t, "to:"+anna, resetsPerEmail), resetsPerEmail)
	require.Equal(t, resetsPerEmail, count(anna))

	// One client asking for many addresses (known or not) stops getting any sent.
	for range resetsPerIP {
		forgot(uniqueAddr(t, "nessuno"), "203.0.113.7")
	}
	forgot(bob, "203.0.113.7")
	forgot(bob, "2001:db8::1")
	require.Len(t, mp.WaitMessages(context.Background(), t, "to:"+bob, 1), 1)
	require.Equal(t, 1, count(bob), "only the request from the other client sent one")
	require.Equal(t, resetsPerEmail, count(anna))
}

// The one-time link's token never reaches a log line: the access log (and
// a refused cross-origin post) write its path redacted.
func TestTokenPathNotLogged(t *testing.T) {
	t.Parallel()
	logs := &lockedLog{}
	p := setup(t, panelOpts{logs: logs})
	token, _, err := newToken()
	require.NoError(t, err)
	b := p.browser()
	b.get("/password/set/" + token)
	b.post("/password/set/"+token, url.Values{"password": {"una nuova password"}, "confirm": {"una nuova password"}})

	require.Contains(t, logs.String(), `"path":"/password/set/[redacted]"`)
	require.NotContains(t, logs.String(), token)
}
