package testenv

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Provider makes a source-role Dovecot look like a big provider's IMAP
// server, as far as Dovecot can be made to: its namespaces, folders and
// special-use attributes, its greeting and, where Dovecot can announce
// them, its capabilities. The mail itself is filled by the test
// (SeedGmail, Append).
type Provider int

const (
	// ProviderNone is the Courier-like source of RoleSource.
	ProviderNone Provider = iota
	// ProviderGmail looks like imap.gmail.com: the X-GM-EXT-1
	// capability, Gmail's greeting, "/" separator and no prefix, labels as
	// folders, and the system labels under [Gmail] (or [Google Mail],
	// localized) with their special-use attributes: All Mail \All, Sent
	// Mail \Sent, Drafts \Drafts, Spam \Junk, Trash \Trash, Starred
	// \Flagged, Important \Important. Dovecot has no labels: SeedGmail
	// puts a message in every folder Gmail would show it in.
	ProviderGmail
	// ProviderExchange looks like an Exchange server: its greeting, "/"
	// separator and no prefix, Outlook's mail folders with special-use
	// attributes (Sent Items, Drafts, Deleted Items, Junk Email, Archive)
	// and the stores that are not mail (Calendar, Contacts, Tasks, Notes,
	// Journal, Sync Issues and its children, Conversation History, Outbox,
	// RSS Feeds) in every mailbox, a "Public Folders/" public namespace,
	// and the administrator logins DOMAIN\admin\user and admin@domain\user
	// for the mailboxes GrantFullAccess names (no Dovecot master user).
	ProviderExchange
	// ProviderOffice365 is ProviderExchange plus the Files folder and the
	// greeting of Exchange Online (with its server's name); combine it
	// with DovecotOAuth2.OnlyOAuth for a server that refuses passwords.
	ProviderOffice365
)

// String names the provider.
func (p Provider) String() string {
	switch p {
	case ProviderGmail:
		return "gmail"
	case ProviderExchange:
		return "exchange"
	case ProviderOffice365:
		return "office365"
	}
	return "none"
}

// The greetings of the providers, as their servers send them after "* OK".
const (
	GmailGreeting    = "Gimap ready for requests from 127.0.0.1 a1b2c3d4e5f6"
	ExchangeGreeting = "The Microsoft Exchange IMAP4 service is ready."
	// Office365Server is the Exchange Online server named (in UTF-16,
	// base64) in Office365Greeting.
	Office365Server = "AM0PR01CA0123.eurprd01.prod.exchangelabs.com"
)

// Office365Greeting is Exchange Online's greeting: Exchange's, followed by
// the name of the server in brackets, UTF-16LE in base64.
func Office365Greeting() string {
	u := utf16.Encode([]rune(Office365Server))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return ExchangeGreeting + " [" + base64.StdEncoding.EncodeToString(b) + "]"
}

func (p Provider) greeting() string {
	switch p {
	case ProviderGmail:
		return GmailGreeting
	case ProviderExchange:
		return ExchangeGreeting
	case ProviderOffice365:
		return Office365Greeting()
	}
	return ""
}

func (p Provider) exchange() bool { return p == ProviderExchange || p == ProviderOffice365 }

// GmailNames are the system labels of a Gmail mailbox in one language.
type GmailNames struct {
	Root                                               string // "[Gmail]" or "[Google Mail]"
	All, Sent, Drafts, Spam, Trash, Starred, Important string // the leaves under Root
}

// Path is root/leaf.
func (n GmailNames) Path(leaf string) string { return n.Root + "/" + leaf }

// The system labels of an English Gmail account and of a German one,
// which Google names [Google Mail].
var (
	GmailEnglish = GmailNames{Root: "[Gmail]", All: "All Mail", Sent: "Sent Mail", Drafts: "Drafts", Spam: "Spam", Trash: "Trash", Starred: "Starred", Important: "Important"}
	GmailGerman  = GmailNames{Root: "[Google Mail]", All: "Alle Nachrichten", Sent: "Gesendet", Drafts: "Entwürfe", Spam: "Spam", Trash: "Papierkorb", Starred: "Markiert", Important: "Wichtig"}
)

type specialFolder struct {
	Name string
	Attr imap.MailboxAttr // empty for a folder without one
}

// gmailSpecialFolders are the special-use folders of both name sets.
func gmailSpecialFolders() []specialFolder {
	var out []specialFolder
	for _, n := range []GmailNames{GmailEnglish, GmailGerman} {
		out = append(out,
			specialFolder{n.Path(n.All), imap.MailboxAttrAll}, specialFolder{n.Path(n.Sent), imap.MailboxAttrSent},
			specialFolder{n.Path(n.Drafts), imap.MailboxAttrDrafts}, specialFolder{n.Path(n.Spam), imap.MailboxAttrJunk},
			specialFolder{n.Path(n.Trash), imap.MailboxAttrTrash}, specialFolder{n.Path(n.Starred), imap.MailboxAttrFlagged},
			specialFolder{n.Path(n.Important), imap.MailboxAttrImportant})
	}
	return out
}

// ExchangeNonMail are the folders every Exchange mailbox shows over IMAP
// that hold no mail: never to be copied.
var ExchangeNonMail = []string{"Calendar", "Calendar/Birthdays", "Contacts", "Conversation History", "Journal", "Notes",
	"Outbox", "RSS Feeds", "Sync Issues", "Sync Issues/Conflicts", "Sync Issues/Local Failures", "Sync Issues/Server Failures", "Tasks"}

// Exchange's mail folders with their special-use attributes.
const (
	ExchangeSent    = "Sent Items"
	ExchangeDrafts  = "Drafts"
	ExchangeTrash   = "Deleted Items"
	ExchangeJunk    = "Junk Email"
	ExchangeArchive = "Archive"
	// ExchangePublic is the prefix of the public folders' namespace.
	ExchangePublic = "Public Folders/"
)

// exchangeFolders is what every mailbox of an Exchange-like server has.
func exchangeFolders(office365 bool) []specialFolder {
	out := []specialFolder{
		{ExchangeArchive, imap.MailboxAttrArchive}, {ExchangeTrash, imap.MailboxAttrTrash}, {ExchangeDrafts, imap.MailboxAttrDrafts},
		{ExchangeJunk, imap.MailboxAttrJunk}, {ExchangeSent, imap.MailboxAttrSent},
	}
	for _, n := range ExchangeNonMail {
		out = append(out, specialFolder{Name: n})
	}
	if office365 {
		out = append(out, specialFolder{Name: "Files"})
	}
	return out
}

// GmailMessage is one message of a Gmail mailbox and where Gmail shows it.
type GmailMessage struct {
	Msg
	// Labels are the user's labels and INBOX: folders it shows in besides
	// All Mail.
	Labels []string
	// System is the system label it has, if any: "sent", "drafts",
	// "trash" or "spam". Messages in Trash and Spam are not in All Mail.
	System string
	// Starred puts it in Starred and sets \Flagged wherever it shows;
	// Important puts it in Important.
	Starred, Important bool
}

// SeedGmail fills a mailbox of a ProviderGmail server as Gmail would show
// it: every system folder of n (created even when empty), every message in
// each of its labels, in All Mail unless it is in Trash or Spam, in
// Starred (with \Flagged everywhere) when starred, in Important when
// important.
func SeedGmail(c *imapclient.Client, n GmailNames, msgs []GmailMessage) error {
	for _, leaf := range []string{n.All, n.Sent, n.Drafts, n.Spam, n.Trash, n.Starred, n.Important} {
		if err := ensureMailbox(c, n.Path(leaf)); err != nil {
			return err
		}
	}
	system := map[string]string{"sent": n.Sent, "drafts": n.Drafts, "trash": n.Trash, "spam": n.Spam}
	for i, m := range msgs {
		if m.Starred {
			m.Flags = append(append([]imap.Flag{}, m.Flags...), imap.FlagFlagged)
		}
		folders := append([]string{}, m.Labels...)
		if m.System != "" {
			leaf, ok := system[m.System]
			if !ok {
				return fmt.Errorf("seed gmail message %d: unknown system label %q", i, m.System)
			}
			folders = append(folders, n.Path(leaf))
		}
		if m.System != "trash" && m.System != "spam" {
			folders = append(folders, n.Path(n.All))
		}
		if m.Starred {
			folders = append(folders, n.Path(n.Starred))
		}
		if m.Important {
			folders = append(folders, n.Path(n.Important))
		}
		for _, f := range folders {
			if err := AppendMessages(c, f, m.Msg); err != nil {
				return err
			}
		}
	}
	return nil
}

// GrantFullAccess lets admin (its password is adminPassword) open mailbox
// on an Exchange-like server, as Add-MailboxPermission -AccessRights
// FullAccess does: the logins domain\admin-local-part\mailbox and
// admin\mailbox with the administrator's password open mailbox, which
// must exist (AddUser). domain is the NetBIOS domain ("ACME"), admin an
// address ("admin@acme.test").
func (d *Dovecot) GrantFullAccess(domain, admin, adminPassword, mailbox string) error {
	if !d.opts.Provider.exchange() {
		return fmt.Errorf("grant full access on %s: not an Exchange-like server", d.dir)
	}
	local, _, ok := strings.Cut(admin, "@")
	if !ok || domain == "" || strings.ContainsAny(domain+admin+mailbox, ":/*%\r\n\t ") || strings.ContainsAny(adminPassword, ":\r\n") {
		return fmt.Errorf("grant full access to %q on %q: want a NetBIOS domain, an address, a mailbox and a password without ':'", admin, mailbox)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.users[mailbox] {
		return fmt.Errorf("grant full access on %q: no such user", mailbox)
	}
	// passwd-file's extra field user= makes the login the mailbox's.
	// Dovecot looks logins up in lower case (auth_username_format %Lu):
	// they are case-insensitive, as Exchange's.
	for _, login := range []string{domain + `\` + local + `\` + mailbox, admin + `\` + mailbox} {
		login = strings.ToLower(login)
		// The file's name is the login; inside, Dovecot looks the login
		// up with its backslashes escaped.
		line := strings.ReplaceAll(login, `\`, `\\`) + ":{PLAIN}" + adminPassword + "::::::user=" + mailbox
		if err := writeFileAtomic(filepath.Join(d.dir, "users", login), []byte(line+"\n")); err != nil {
			return fmt.Errorf("grant full access on %q: %w", mailbox, err)
		}
	}
	return nil
}

// sharedProviders holds the provider-like Dovecots started once per test
// binary, each on first use.
var sharedProviders struct {
	gmail, exchange, office365 sharedOne
}

type sharedOne struct {
	once sync.Once
	d    *Dovecot
	err  error
}

func (s *sharedOne) get(t testing.TB, name string, start func(dir string) (*Dovecot, error)) *Dovecot {
	t.Helper()
	s.once.Do(func() {
		dir, err := os.MkdirTemp("", "trasloco-"+name+"-")
		if err != nil {
			s.err = fmt.Errorf("create %s dovecot directory: %w", name, err)
			return
		}
		addSharedCleanup(func() error {
			if os.Getenv("TESTENV_KEEP") != "" {
				fmt.Fprintln(os.Stderr, "testenv: kept", dir)
				return nil
			}
			return os.RemoveAll(dir)
		})
		s.d, s.err = start(dir)
		if s.d != nil {
			addSharedCleanup(s.d.Stop)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.d
}

// SharedGmail is a ProviderGmail source shared by every test of the binary
// (stopped by Main); users log in with their passwords (app passwords).
func SharedGmail(t testing.TB) *Dovecot {
	t.Helper()
	return sharedProviders.gmail.get(t, "gmail", func(dir string) (*Dovecot, error) {
		return StartDovecotWith(RoleSource, dir, DovecotOptions{Provider: ProviderGmail})
	})
}

// SharedExchange is a ProviderExchange source shared by every test of the
// binary (stopped by Main); users log in with their passwords, or an
// administrator with GrantFullAccess's forms.
func SharedExchange(t testing.TB) *Dovecot {
	t.Helper()
	return sharedProviders.exchange.get(t, "exchange", func(dir string) (*Dovecot, error) {
		return StartDovecotWith(RoleSource, dir, DovecotOptions{Provider: ProviderExchange})
	})
}

// SharedOffice365 is a ProviderOffice365 source shared by every test of
// the binary (stopped by Main) that, like Exchange Online, refuses every
// password and takes the app-only tokens of the shared OAuth2 server
// (SharedOAuth) for a whole directory's domain.
func SharedOffice365(t testing.TB) *Dovecot {
	t.Helper()
	env := SharedOAuth(t)
	return sharedProviders.office365.get(t, "office365", func(dir string) (*Dovecot, error) {
		return StartDovecotWith(RoleSource, dir, DovecotOptions{Provider: ProviderOffice365,
			OAuth2: &DovecotOAuth2{IntrospectionURL: env.Server.IntrospectionURL(), OnlyOAuth: true, PerDomain: true}})
	})
}

// errNotProvider is returned for a provider on a destination.
var errNotProvider = errors.New("a provider layout is for the source role only")
