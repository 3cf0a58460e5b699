package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/testenv"
)

// signIn logs the stack's user in and returns its browser, which does not
// follow redirects.
func signIn(t *testing.T, st *stack) *customer {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u := &customer{t: t, base: st.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := url.Values{"email": {userEmail}, "password": {userPassword}}
	req, err := http.NewRequest(http.MethodPost, st.srv.URL+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, _, body := u.do(req)
	require.Equal(t, http.StatusSeeOther, status, body)
	return u
}

// newMigration uploads csv in Nuova Migrazione with the preset, the first
// run ten minutes from now (startNow brings it forward) and no second run,
// and returns its page's path.
func (u *customer) newMigration(preset, csv string) string {
	u.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{
		"name": "Provider " + preset, "preset": preset, "insecure_tls": "1",
		"first_run_at": time.Now().Add(10 * time.Minute).In(rome(u.t)).Format("2006-01-02T15:04:05"),
	} {
		require.NoError(u.t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("csv", "caselle.csv")
	require.NoError(u.t, err)
	_, err = io.WriteString(fw, csv)
	require.NoError(u.t, err)
	require.NoError(u.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, u.base+"/migrations", &buf)
	require.NoError(u.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, hdr, body := u.do(req)
	require.Equal(u.t, http.StatusSeeOther, status, body)
	var id int64
	_, err = fmt.Sscanf(hdr.Get("Location"), "/migrations/%d", &id)
	require.NoError(u.t, err)
	return fmt.Sprintf("/migrations/%d", id)
}

// startNow presses "Avvia ora" on a scheduled migration.
func (u *customer) startNow(path string) {
	u.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.base+path+"/start", nil)
	require.NoError(u.t, err)
	status, _, body := u.do(req)
	require.Equal(u.t, http.StatusSeeOther, status, body)
}

// rome is the tenant's time zone, in which the form's times are read.
func rome(t *testing.T) *time.Location {
	t.Helper()
	l, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	return l
}

// waitStatus waits until the migration's status.json says status.
func (u *customer) waitStatus(path, status string, within time.Duration) {
	u.t.Helper()
	waitFor(u.t, within, status, func() (bool, string) {
		_, _, body := u.get(path + "/status.json")
		var p struct {
			Status string `json:"status"`
		}
		require.NoError(u.t, json.Unmarshal([]byte(body), &p), body)
		return p.Status == status, p.Status
	})
}

// texts is the trimmed text of every element sel matches.
func texts(d *goquery.Document, sel string) []string {
	var out []string
	d.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// folderCounts is the number of messages of each selectable folder.
func folderCounts(t *testing.T, c *imapclient.Client) map[string]uint32 {
	t.Helper()
	list, err := c.List("", "*", nil).Collect()
	require.NoError(t, err)
	out := map[string]uint32{}
	for _, l := range list {
		st, err := c.Status(l.Mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
		if err == nil && *st.NumMessages > 0 {
			out[l.Mailbox] = *st.NumMessages
		}
	}
	return out
}

// TestGmailThroughThePanel — issue 10: a customer who leaves Gmail with the
// recommended Standard-SSL type gets Gmail's rules, and the line's result
// and Risorse say so and why; labels become folders, nothing is copied
// again through All Mail, Starred or Important, Trash and Spam stay.
func TestGmailThroughThePanel(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	g := testenv.SharedGmail(t)
	remote := testenv.UniqueUser(t, "gmail.test")
	require.NoError(t, g.AddUser(remote, "app-password-16c"))
	ms := msgs(300, 0, 6, 2000)
	require.NoError(t, testenv.SeedGmail(g.Dial(t, remote, "app-password-16c"), testenv.GmailEnglish, []testenv.GmailMessage{
		{Msg: ms[0], Labels: []string{"INBOX", "Lavoro"}, Important: true},
		{Msg: ms[1], Labels: []string{"INBOX"}, Starred: true},
		{Msg: ms[2], Labels: []string{"Lavoro"}},
		{Msg: ms[3], System: "sent"},
		{Msg: ms[4]}, // archived: in no label
		{Msg: ms[5], System: "trash"},
	}))
	local := testenv.UniqueUser(t, "rossi.test")
	require.NoError(t, st.dst.AddUser(local, "nuova"))

	u := signIn(t, st)
	path := u.newMigration("standard-ssl", fmt.Sprintf("%s;%s;%s;%s\n", local, g.TLSAddr(), remote, "app-password-16c"))
	u.waitStatus(path, "scheduled", 30*time.Second)
	want := "Regole Gmail, anche se è stato scelto Standard-SSL: riconosciuto dal server (annuncia la capability X-GM-EXT-1)."
	require.Equal(t, []string{want}, texts(u.doc(path), `[data-testid="line-rules"]`), "the line's result after validation")

	u.startNow(path)
	u.waitStatus(path, "completed", 2*time.Minute)
	require.Equal(t, []string{want}, texts(u.doc(path+"/resources"), `[data-testid="resource-rules"]`), "Risorse")
	require.Equal(t, map[string]uint32{"INBOX": 2, "Lavoro": 2, "Sent": 1, "Archive": 1},
		folderCounts(t, st.dst.Dial(t, local+"*"+st.dst.MasterUser(), st.dst.MasterPassword())))
}

// TestOffice365ThroughThePanel — issue 10's "done when": an Office 365
// migration with admin consent and empty CSV passwords runs end to end
// through the panel. The administrator connects Microsoft 365 (the consent
// round trip at the local OAuth2 server), the CSV has no passwords, the
// validation is blue, the run copies from an Office 365-like Dovecot that
// refuses every password, and Risorse says Office 365's rules applied.
func TestOffice365ThroughThePanel(t *testing.T) {
	t.Parallel()
	env := testenv.SharedOAuth(t)
	o365 := testenv.SharedOffice365(t)
	env.Server.AddApp("e2e-app", "e2e-secret-value")
	tokens := &oauth.Tokens{
		Microsoft:  oauth.Microsoft{ClientID: "e2e-app", ClientSecret: "e2e-secret-value", Authority: env.Server.URL()},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	st := newStack(t, tokens)
	n := time.Now().UnixNano()
	dir, domain := fmt.Sprintf("e2e-dir-%d", n), fmt.Sprintf("contoso%d.test", n)
	env.Server.AddTenant(dir, domain)
	env.Server.SetConsentTenant(dir)

	// "Collega Microsoft 365": the panel sends the administrator to
	// Microsoft, who accepts and is sent back.
	u := signIn(t, st)
	req, err := http.NewRequest(http.MethodPost, u.base+"/microsoft/connect", nil)
	require.NoError(t, err)
	status, hdr, body := u.do(req)
	require.Equal(t, http.StatusSeeOther, status, body)
	consent, err := url.Parse(hdr.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(consent.String(), env.Server.URL()), consent.String())
	page0, err := u.c.Get(consent.String())
	require.NoError(t, err)
	page0.Body.Close()
	require.Equal(t, http.StatusOK, page0.StatusCode, "Microsoft's consent page")
	q := consent.Query()
	res, err := u.c.PostForm(consent.Scheme+"://"+consent.Host+consent.Path, url.Values{
		"client_id": {q.Get("client_id")}, "redirect_uri": {q.Get("redirect_uri")}, "state": {q.Get("state")},
		"tenant": {dir}, "decision": {"accept"},
	})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	back, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	status, _, body = u.get(back.RequestURI())
	require.Equal(t, http.StatusSeeOther, status, body)
	require.True(t, env.Server.Consented(dir))
	page := u.doc("/migrations/new?preset=office365")
	require.Contains(t, page.Find(`[data-testid="oauth-ms-connected"]`).Text(), dir)
	// The administrator's remaining step in Exchange Online.
	env.Server.GrantFullAccess(dir, true)

	// Two mailboxes on the Office 365-like server, filled with a token.
	tok, err := tokens.MicrosoftSource(dir)(t.Context())
	require.NoError(t, err)
	var csv strings.Builder
	var locals []string
	for i := range 2 {
		remote := testenv.UniqueUser(t, domain)
		require.NoError(t, o365.AddUser(remote, "basic-auth-is-off"))
		c, err := imapclient.DialTLS(o365.TLSAddr(), &imapclient.Options{TLSConfig: o365.TLSConfig()})
		require.NoError(t, err)
		require.NoError(t, c.Authenticate(xoauth2{user: remote, token: tok}))
		testenv.Append(t, c, "INBOX", msgs(int64(310+i), 0, 4, 1500)...)
		testenv.Append(t, c, testenv.ExchangeSent, msgs(int64(320+i), 0, 2, 1500)...)
		testenv.Append(t, c, "Progetti", msgs(int64(330+i), 0, 1, 1500)...)
		testenv.Append(t, c, "Files", msgs(int64(340+i), 0, 1, 1500)...)
		testenv.Append(t, c, "Calendar", msgs(int64(350+i), 0, 1, 1500)...)
		testenv.Append(t, c, testenv.ExchangeTrash, msgs(int64(360+i), 0, 1, 1500)...)
		require.NoError(t, c.Logout().Wait())
		c.Close()
		local := testenv.UniqueUser(t, "rossi.test")
		require.NoError(t, st.dst.AddUser(local, "nuova"))
		locals = append(locals, local)
		fmt.Fprintf(&csv, "%s;%s;%s;\n", local, o365.TLSAddr(), remote) // no password
	}

	path := u.newMigration("office365", csv.String())
	u.waitStatus(path, "scheduled", 30*time.Second)
	want := "Regole Office 365: scelto Office 365 e riconosciuto dal server (il suo saluto nomina " +
		strings.ToLower(testenv.Office365Server) + ", un server di Exchange Online)."
	require.Equal(t, []string{want, want}, texts(u.doc(path), `[data-testid="line-rules"]`), "the lines' results after validation")

	u.startNow(path)
	u.waitStatus(path, "completed", 2*time.Minute)
	d := u.doc(path + "/resources")
	require.Equal(t, []string{want, want}, texts(d, `[data-testid="resource-rules"]`), "Risorse")
	require.Equal(t, []string{"7", "7"}, texts(d, `[data-testid="resource-copied"]`))
	for _, local := range locals {
		require.Equal(t, map[string]uint32{"INBOX": 4, "Sent": 2, "Progetti": 1},
			folderCounts(t, st.dst.Dial(t, local+"*"+st.dst.MasterUser(), st.dst.MasterPassword())),
			"Files, Calendar and Deleted Items stay behind")
	}
	for _, b := range u.bodies {
		require.NotContains(t, b, tok)
		require.NotContains(t, b, "e2e-secret-value")
	}
	require.NotContains(t, st.logs.String(), tok)
	require.NotContains(t, st.logs.String(), "e2e-secret-value")
}

// xoauth2 is a bare XOAUTH2 client, to fill the OAuth-only mailboxes.
type xoauth2 struct{ user, token string }

func (b xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + b.user + "\x01auth=Bearer " + b.token + "\x01\x01"), nil
}
func (b xoauth2) Next([]byte) ([]byte, error) { return []byte{1}, nil }
