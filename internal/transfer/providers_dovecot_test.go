package transfer_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/oauth"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// Every preset's folder rules proven through a real copy, each on a Dovecot
// laid out as its provider lays out a mailbox (testenv.Provider), and the
// same destination whatever preset the customer picked: the server's
// layout decides the rules.

// placed is a destination mailbox: for each message body (its SHA-256),
// the folders it is in, one entry per copy, sorted.
type placed map[[32]byte][]string

func destinationOf(t *testing.T, c *imapclient.Client) placed {
	t.Helper()
	out := placed{}
	for folder, msgs := range snapshot(t, c) {
		for _, m := range msgs {
			out[m.sum] = append(out[m.sum], folder)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// flagsOf is the flags of every message of the destination, by body.
func flagsOf(t *testing.T, c *imapclient.Client) map[[32]byte]string {
	t.Helper()
	out := map[[32]byte]string{}
	for _, msgs := range snapshot(t, c) {
		for _, m := range msgs {
			out[m.sum] = m.flags
		}
	}
	return out
}

// wantPlaced turns "message name → destination folders" into a placed,
// leaving out the messages that must not be copied.
func wantPlaced(msg map[string]testenv.Msg, where map[string][]string) placed {
	out := placed{}
	for n, fs := range where {
		if len(fs) == 0 {
			continue
		}
		s := append([]string{}, fs...)
		sort.Strings(s)
		out[sha(msg[n].Raw)] = s
	}
	return out
}

// providerCopy runs one copy of src into a fresh destination mailbox with
// preset p, twice: the second run must copy nothing. It returns the first
// run's result and the destination.
func providerCopy(t *testing.T, p transfer.Preset, src transfer.Endpoint) (transfer.Result, placed, map[[32]byte]string) {
	t.Helper()
	_, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, dst.AddUser(user, "dest-pw"))
	rep := &logRec{}
	job := transfer.Job{
		Preset: p, Source: src,
		Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, User: user,
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool()},
		Checkpoints: transfer.NewMemoryCheckpoints(), Reporter: rep,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	}
	res, err := transfer.Run(t.Context(), job)
	require.NoError(t, err, p)
	require.True(t, res.Complete(), "%s: %+v", p, res)
	require.Contains(t, rep.text(), res.RulesWhy.Msg(res.Rules).Text(i18n.English), "%s: the mailbox's log says which rules and why", p)
	c := dst.Dial(t, user, "dest-pw")
	got := destinationOf(t, c)

	again, err := transfer.Run(t.Context(), job)
	require.NoError(t, err)
	require.Zero(t, again.Copied, "%s: a second run copies nothing", p)
	require.Equal(t, got, destinationOf(t, c), "%s: the second run changed the destination", p)
	return res, got, flagsOf(t, c)
}

// gmailCorpus is a Gmail mailbox: labels (INBOX, Lavoro, Lavoro/Clienti),
// Sent and Drafts, two archived messages in no label, one in Trash, one in
// Spam, two starred and some important. where says the destination folders
// of each message under Gmail's rules.
func gmailCorpus(seed int64) (msgs []testenv.GmailMessage, byName map[string]testenv.Msg, where map[string][]string) {
	byName = map[string]testenv.Msg{}
	add := func(name string, m testenv.GmailMessage) {
		m.Msg = testenv.BuildMessage(seed, len(msgs), 900+37*len(msgs))
		byName[name] = m.Msg
		msgs = append(msgs, m)
	}
	add("a0", testenv.GmailMessage{Labels: []string{"INBOX", "Lavoro"}, Important: true})
	add("a1", testenv.GmailMessage{Labels: []string{"INBOX"}, Starred: true})
	add("a2", testenv.GmailMessage{Labels: []string{"INBOX"}})
	add("a3", testenv.GmailMessage{Labels: []string{"Lavoro"}, Starred: true, Important: true})
	add("a4", testenv.GmailMessage{Labels: []string{"Lavoro/Clienti"}})
	add("s0", testenv.GmailMessage{System: "sent"})
	add("d0", testenv.GmailMessage{System: "drafts"})
	add("u0", testenv.GmailMessage{Important: true})
	add("u1", testenv.GmailMessage{})
	add("t0", testenv.GmailMessage{System: "trash"})
	add("j0", testenv.GmailMessage{System: "spam"})
	where = map[string][]string{
		"a0": {"INBOX", "Lavoro"}, "a1": {"INBOX"}, "a2": {"INBOX"}, "a3": {"Lavoro"}, "a4": {"Lavoro/Clienti"},
		"s0": {"Sent"}, "d0": {"Drafts"}, "u0": {"Archive"}, "u1": {"Archive"}, "t0": nil, "j0": nil,
	}
	return msgs, byName, where
}

// TestGmailOnDovecot — a Gmail-laid-out Dovecot, in English ([Gmail]) and
// localized ([Google Mail], German names): labels become folders, All
// Mail gives the Archive only the messages in no label, Starred and
// Important copy nothing again (the star stays a flag), Trash and Spam
// stay behind, nothing is copied twice; the same destination whether the
// customer picked Gmail, Standard-SSL or Standard-no-SSL.
func TestGmailOnDovecot(t *testing.T) {
	t.Parallel()
	g := testenv.SharedGmail(t)
	for _, names := range []testenv.GmailNames{testenv.GmailEnglish, testenv.GmailGerman} {
		t.Run(names.Root, func(t *testing.T) {
			t.Parallel()
			user := testenv.UniqueUser(t, "gmail.test")
			require.NoError(t, g.AddUser(user, "app-password"))
			corpus, msg, where := gmailCorpus(71)
			require.NoError(t, testenv.SeedGmail(g.Dial(t, user, "app-password"), names, corpus))
			want := wantPlaced(msg, where)

			dests := map[transfer.Preset]placed{}
			for _, tc := range []struct {
				preset transfer.Preset
				src    transfer.Endpoint
			}{
				{transfer.PresetGmail, transfer.Endpoint{Host: g.TLSAddr(), TLS: transfer.TLSImplicit}},
				{transfer.PresetStandardSSL, transfer.Endpoint{Host: g.TLSAddr(), TLS: transfer.TLSImplicit}},
				// STARTTLS: the greeting is read by another path.
				{transfer.PresetStandardNoSSL, transfer.Endpoint{Host: g.PlainAddr(), TLS: transfer.TLSStartTLS}},
			} {
				src := tc.src
				src.User, src.Password, src.RootCAs = user, "app-password", g.CAPool()
				res, got, flags := providerCopy(t, tc.preset, src)
				require.Equal(t, transfer.PresetGmail, res.Rules, tc.preset)
				require.Equal(t, transfer.RulesWhy{Picked: tc.preset, Sign: transfer.SignGmailCapability, Arg: "X-GM-EXT-1"}, res.RulesWhy)
				require.Equal(t, want, got, "%s: destination", tc.preset)
				require.Equal(t, 10, res.Copied, "%s: every message once per label (a0 has two)", tc.preset)
				for _, n := range []string{"a1", "a3"} {
					require.Contains(t, flags[sha(msg[n].Raw)], `\Flagged`, "%s: starred is a flag on the message", tc.preset)
				}
				require.NotContains(t, flags[sha(msg["a2"].Raw)], `\Flagged`)
				dests[tc.preset] = got
			}
			require.Equal(t, dests[transfer.PresetGmail], dests[transfer.PresetStandardSSL])
			require.Equal(t, dests[transfer.PresetGmail], dests[transfer.PresetStandardNoSSL])
		})
	}
}

// exchangeCorpus fills an Exchange mailbox: mail in INBOX, Sent Items,
// Drafts, Archive and the customer's folders (two of which differ only in
// case), and something in Deleted Items, Junk Email, the non-mail stores
// and the public folders, which must all stay behind. seed tells apart
// the messages of different calls.
func exchangeCorpus(t *testing.T, c *imapclient.Client, seed int64, extra map[string]string) (map[string]testenv.Msg, map[string][]string) {
	t.Helper()
	folders := map[string]string{
		"e0": "INBOX", "e1": "INBOX", "s0": testenv.ExchangeSent, "d0": testenv.ExchangeDrafts, "r0": testenv.ExchangeArchive,
		"p0": "Progetti", "p1": "Progetti/2024", "f0": "Fatture", "f1": "fatture",
		"t0": testenv.ExchangeTrash, "j0": testenv.ExchangeJunk, "c0": "Calendar", "k0": "Contacts", "n0": "Notes",
		"x0": "Sync Issues/Conflicts", "h0": "Conversation History",
		"pub": testenv.ExchangePublic + fmt.Sprintf("Annunci-%d", seed),
	}
	for k, v := range extra {
		folders[k] = v
	}
	where := map[string][]string{
		"e0": {"INBOX"}, "e1": {"INBOX"}, "s0": {"Sent"}, "d0": {"Drafts"}, "r0": {"Archive"},
		"p0": {"Progetti"}, "p1": {"Progetti/2024"}, "f0": {"Fatture"}, "f1": {"fatture"},
	}
	names := make([]string, 0, len(folders))
	for n := range folders {
		names = append(names, n)
	}
	sort.Strings(names)
	msg := map[string]testenv.Msg{}
	for i, n := range names {
		msg[n] = testenv.BuildMessage(seed, i, 700+41*i)
		testenv.Append(t, c, folders[n], msg[n])
	}
	return msg, where
}

// TestExchangeOnDovecot — an Exchange-laid-out Dovecot: the mail folders
// are copied (Sent Items onto Sent, the two folders that differ only in
// case each into its own), the non-mail stores, Deleted Items, Junk Email
// and the public folders stay behind; the same destination whether the
// customer picked Exchange, Standard-SSL, Standard-no-SSL or Gmail.
func TestExchangeOnDovecot(t *testing.T) {
	t.Parallel()
	ex := testenv.SharedExchange(t)
	user := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, ex.AddUser(user, "user-pw"))
	msg, where := exchangeCorpus(t, ex.Dial(t, user, "user-pw"), 72, nil)
	want := wantPlaced(msg, where)
	dests := map[transfer.Preset]placed{}
	for _, p := range []transfer.Preset{transfer.PresetExchange, transfer.PresetStandardSSL, transfer.PresetGmail, transfer.PresetStandardNoSSL} {
		src := transfer.Endpoint{Host: ex.TLSAddr(), User: user, Password: "user-pw", RootCAs: ex.CAPool()}
		if p == transfer.PresetStandardNoSSL { // STARTTLS: the greeting is read by another path
			src.Host, src.TLS = ex.PlainAddr(), transfer.TLSStartTLS
		}
		res, got, _ := providerCopy(t, p, src)
		require.Equal(t, transfer.PresetExchange, res.Rules, p)
		require.Equal(t, transfer.RulesWhy{Picked: p, Sign: transfer.SignExchangeGreet}, res.RulesWhy)
		require.Equal(t, want, got, "%s: destination", p)
		require.Equal(t, len(where), res.Copied, p)
		dests[p] = got
	}
	require.Equal(t, dests[transfer.PresetExchange], dests[transfer.PresetStandardSSL])
	require.Equal(t, dests[transfer.PresetExchange], dests[transfer.PresetGmail])
	require.Equal(t, dests[transfer.PresetExchange], dests[transfer.PresetStandardNoSSL])
}

// o365Source is a mailbox on the Office 365-like Dovecot (OAuth only)
// with its directory's consent and FullAccess, and a token source for it.
func o365Source(t *testing.T) (*testenv.Dovecot, string, func(context.Context) (string, error)) {
	t.Helper()
	env := testenv.SharedOAuth(t)
	d := testenv.SharedOffice365(t)
	n := time.Now().UnixNano()
	dir, domain := fmt.Sprintf("dir-%d", n), fmt.Sprintf("t%d.test", n)
	env.Server.AddApp("transfer-app", "transfer-secret")
	env.Server.AddTenant(dir, domain)
	env.Server.Consent(dir, true)
	env.Server.GrantFullAccess(dir, true)
	user := testenv.UniqueUser(t, domain)
	require.NoError(t, d.AddUser(user, "basic-auth-is-off"))
	tokens := &oauth.Tokens{
		Microsoft:  oauth.Microsoft{ClientID: "transfer-app", ClientSecret: "transfer-secret", Authority: env.Server.URL()},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	return d, user, tokens.MicrosoftSource(dir)
}

// xoauth2 is a bare XOAUTH2 client, to fill the OAuth-only mailbox.
type xoauth2 struct{ user, token string }

func (b xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + b.user + "\x01auth=Bearer " + b.token + "\x01\x01"), nil
}
func (b xoauth2) Next([]byte) ([]byte, error) { return []byte{1}, nil }

// TestOffice365OnDovecot — an Office 365-laid-out Dovecot that refuses
// passwords: with the directory's tokens, as Exchange plus the Files
// folder left behind; Exchange Online's greeting decides, whether the
// customer picked Office 365, Exchange or Standard-SSL.
func TestOffice365OnDovecot(t *testing.T) {
	t.Parallel()
	d, user, tokens := o365Source(t)
	tok, err := tokens(t.Context())
	require.NoError(t, err)
	c, err := imapclient.DialTLS(d.TLSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Authenticate(xoauth2{user: user, token: tok}))
	msg, where := exchangeCorpus(t, c, 73, map[string]string{"file0": "Files"})
	want := wantPlaced(msg, where)

	_, err = d.Connect(user, "basic-auth-is-off")
	require.Error(t, err, "the password path is refused")

	dests := map[transfer.Preset]placed{}
	for _, p := range []transfer.Preset{transfer.PresetOffice365, transfer.PresetExchange, transfer.PresetStandardSSL} {
		res, got, _ := providerCopy(t, p, transfer.Endpoint{Host: d.TLSAddr(), User: user, TokenSource: tokens, RootCAs: d.CAPool()})
		require.Equal(t, transfer.PresetOffice365, res.Rules, p)
		require.Equal(t, transfer.RulesWhy{Picked: p, Sign: transfer.SignCloudGreet, Arg: strings.ToLower(testenv.Office365Server)}, res.RulesWhy)
		require.Equal(t, want, got, "%s: destination", p)
		dests[p] = got
	}
	require.Equal(t, dests[transfer.PresetOffice365], dests[transfer.PresetExchange])
	require.Equal(t, dests[transfer.PresetOffice365], dests[transfer.PresetStandardSSL])
}

// TestExchangePickedForAnotherServer — picking Exchange (or Office 365)
// for a server that is not Exchange does no harm: the customer's own
// folders named like Exchange's stores ("Note", "Calendario",
// "Contatti") are copied, under the standard rules.
func TestExchangePickedForAnotherServer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	byName := map[string]testenv.Msg{}
	where := map[string][]string{}
	for i, folder := range []string{"INBOX", "INBOX.Note", "INBOX.Calendario", "INBOX.Contatti", "INBOX.Attività"} {
		n := fmt.Sprint("m", i)
		byName[n] = testenv.BuildMessage(74, i, 900)
		testenv.Append(t, c, folder, byName[n])
		where[n] = []string{strings.TrimPrefix(folder, "INBOX.")}
	}
	want := wantPlaced(byName, where)
	for _, p := range []transfer.Preset{transfer.PresetExchange, transfer.PresetOffice365} {
		res, got, _ := providerCopy(t, p, transfer.Endpoint{Host: f.src.TLSAddr(), User: f.srcUser, Password: f.srcPass, RootCAs: f.src.CAPool()})
		require.Equal(t, transfer.PresetStandardSSL, res.Rules, p)
		require.Equal(t, transfer.RulesWhy{Picked: p}, res.RulesWhy)
		require.Equal(t, want, got, "%s: every folder copied", p)
	}
}
