package transfer

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"
)

// gmailListing is Gmail's folders as its IMAP server lists them, with or
// without the special-use attributes.
func gmailListing(root string, specialUse bool) Listing {
	attr := func(a imap.MailboxAttr) []imap.MailboxAttr {
		if specialUse {
			return []imap.MailboxAttr{a}
		}
		return nil
	}
	return Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Lavoro", '/'), rf(root, '/', imap.MailboxAttrNoSelect),
		rf(root+"/All Mail", '/', attr(imap.MailboxAttrAll)...), rf(root+"/Sent Mail", '/', attr(imap.MailboxAttrSent)...),
		rf(root+"/Drafts", '/', attr(imap.MailboxAttrDrafts)...), rf(root+"/Starred", '/', attr(imap.MailboxAttrFlagged)...),
		rf(root+"/Important", '/', attr(imap.MailboxAttrImportant)...), rf(root+"/Trash", '/', attr(imap.MailboxAttrTrash)...),
		rf(root+"/Spam", '/', attr(imap.MailboxAttrJunk)...),
	}}
}

// exchangeListing is an Exchange mailbox as its IMAP server lists it, the
// non-mail stores named in English or Italian.
func exchangeListing(italian bool, extra ...RemoteFolder) Listing {
	names := []string{"Calendar", "Contacts", "Tasks", "Journal", "Notes", "Sync Issues", "Conversation History"}
	if italian {
		names = []string{"Calendario", "Contatti", "Attività", "Diario", "Note", "Problemi di sincronizzazione", "Cronologia conversazioni"}
	}
	fs := []RemoteFolder{rf("INBOX", '/'), rf("Sent Items", '/', imap.MailboxAttrSent), rf("Deleted Items", '/', imap.MailboxAttrTrash)}
	for _, n := range names {
		fs = append(fs, rf(n, '/'))
	}
	return Listing{Personal: Namespace{Delim: '/'}, Folders: append(fs, extra...)}
}

func TestEffectivePreset(t *testing.T) {
	t.Parallel()
	plain := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Sent", '/', imap.MailboxAttrSent), rf("Trash", '/', imap.MailboxAttrTrash),
		rf("Gmail", '/'), rf("Lavoro/[Gmail]", '/'), rf("Starred", '/'), rf("Important", '/'),
	}}
	bare := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{rf("INBOX", '/'), rf("Lavoro", '/'), rf("Starred", '/')}}
	allAttr := Listing{Personal: Namespace{Delim: '.'}, Folders: []RemoteFolder{rf("INBOX", '.'), rf("Archivio totale", '.', imap.MailboxAttrAll)}}
	// A customer's own folders with some of Exchange's store names, on a
	// Courier-like server: not Exchange.
	someStores := Listing{Personal: Namespace{Prefix: "INBOX.", Delim: '.'}, Folders: []RemoteFolder{
		rf("INBOX", '.'), rf("INBOX.Calendar", '.'), rf("INBOX.Contacts", '.'), rf("INBOX.Tasks", '.'), rf("INBOX.Note", '.'),
		rf("INBOX.Progetti.Journal", '.'),
	}}
	exchangeGreet := "The Microsoft Exchange IMAP4 service is ready."
	// Exchange Online names its server, UTF-16LE in base64.
	cloudGreet := exchangeGreet + " [QQBNADAAUABSADAAMQBDAEEAMAAxADIAMwAuAGUAdQByAHAAcgBkADAAMQAuAHAAcgBvAGQALgBlAHgAYwBoAGEAbgBnAGUAbABhAGIAcwAuAGMAbwBtAA==]"
	// The same form naming a server that is not Microsoft's (corp.example).
	notCloud := exchangeGreet + " [YwBvAHIAcAAuAGUAeABhAG0AcABsAGUA]"
	gm := func(c ...imap.Cap) serverSays { return serverSays{caps: caps(c...)} }
	greet := func(g string) serverSays { return serverSays{caps: caps(imap.CapIMAP4rev1), greeting: g} }
	for _, tc := range []struct {
		name   string
		preset Preset
		says   serverSays
		src    Listing
		want   Preset
		sign   string
		why    string // a part of the reason in English
	}{
		{"Standard-SSL, Gmail by its capability alone", PresetStandardSSL, gm(capGmail), bare, PresetGmail, SignGmailCapability, "X-GM-EXT-1"},
		{"Standard-SSL, Gmail by its folders and \\All", PresetStandardSSL, gm(), gmailListing("[Gmail]", true), PresetGmail, SignAllFolder, "the folder “[Gmail]/All Mail” is Gmail's \\All"},
		{"Standard-no-SSL, localized Gmail without SPECIAL-USE", PresetStandardNoSSL, gm(), gmailListing("[Google Mail]", false), PresetGmail, SignGmailFolders, "under “[Google Mail]”"},
		{"Standard-SSL, a \\All folder", PresetStandardSSL, gm(), allAttr, PresetGmail, SignAllFolder, `\All`},
		{"Standard-SSL, a plain server with Gmail-like names", PresetStandardSSL, gm(imap.CapIMAP4rev1), plain, PresetStandardSSL, "", "no provider's signs"},
		{"Standard-no-SSL, a plain server", PresetStandardNoSSL, gm(), bare, PresetStandardNoSSL, "", "Standard-no-SSL was chosen"},
		{"Gmail, a Gmail server", PresetGmail, gm(capGmail), gmailListing("[Gmail]", true), PresetGmail, SignGmailCapability, "Gmail was chosen and"},
		{"Gmail, a server that is not Gmail", PresetGmail, gm(imap.CapIMAP4rev1), plain, PresetStandardSSL, "", "although Gmail was chosen: the server shows none of Gmail's signs"},
		{"Office 365, a Gmail server", PresetOffice365, gm(capGmail), gmailListing("[Gmail]", true), PresetGmail, SignGmailCapability, "although Office 365 was chosen"},

		{"Standard-SSL, Exchange by its greeting", PresetStandardSSL, greet(exchangeGreet), bare, PresetExchange, SignExchangeGreet, "greeting names Microsoft Exchange"},
		{"Standard-SSL, Exchange by its stores", PresetStandardSSL, gm(), exchangeListing(false), PresetExchange, SignExchangeFolders, "Exchange's folders Calendar, Contacts, Tasks, Journal, Notes"},
		{"Standard-SSL, Italian Exchange by its stores", PresetStandardSSL, gm(), exchangeListing(true), PresetExchange, SignExchangeFolders, "Calendario"},
		{"Exchange, an Exchange server", PresetExchange, greet(exchangeGreet), exchangeListing(false), PresetExchange, SignExchangeGreet, "Exchange was chosen and"},
		{"Exchange, an Exchange Online server", PresetExchange, greet(cloudGreet), exchangeListing(false), PresetOffice365, SignCloudGreet, "am0pr01ca0123.eurprd01.prod.exchangelabs.com"},
		{"Standard-SSL, an Exchange Online server", PresetStandardSSL, greet(cloudGreet), bare, PresetOffice365, SignCloudGreet, "although Standard-SSL was chosen"},
		{"Exchange, its greeting naming another server", PresetExchange, greet(notCloud), bare, PresetExchange, SignExchangeGreet, "Microsoft Exchange"},
		{"Office 365, Exchange's stores", PresetOffice365, gm(), exchangeListing(false, rf("Files", '/')), PresetOffice365, SignExchangeFolders, "Office 365 was chosen and"},
		{"Exchange, a plain server", PresetExchange, gm(), plain, PresetStandardSSL, "", "although Exchange was chosen: the server shows none of Exchange's signs"},
		{"Office 365, a plain server", PresetOffice365, greet("Dovecot ready."), bare, PresetStandardSSL, "", "none of Office 365's signs"},
		{"Exchange, some of the stores' names only", PresetExchange, gm(), someStores, PresetStandardSSL, "", "none of Exchange's signs"},
		{"Standard-SSL, some of the stores' names only", PresetStandardSSL, gm(), someStores, PresetStandardSSL, "", "no provider's signs"},
		{"Standard-SSL, the stores below the top", PresetStandardSSL, gm(), Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
			rf("INBOX", '/'), rf("Vecchio/Calendar", '/'), rf("Vecchio/Contacts", '/'), rf("Vecchio/Tasks", '/'), rf("Vecchio/Journal", '/'), rf("Vecchio/Notes", '/'),
		}}, PresetStandardSSL, "", "no provider's signs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, why := effectivePreset(tc.preset, tc.says, tc.src)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.preset, why.Picked)
			require.Equal(t, tc.sign, why.Sign)
			require.Contains(t, why.English(got), tc.why)
		})
	}
}

// TestExchangeRulesDoNoHarm: Exchange's rules leave the customer's own
// "Note" and "Calendario" folders behind, so a server that only has some
// of those names gets the standard rules whatever was picked, and copies
// them; an Exchange mailbox leaves its stores behind under any preset.
func TestExchangeRulesDoNoHarm(t *testing.T) {
	t.Parallel()
	own := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{rf("INBOX", '/'), rf("Note", '/'), rf("Calendario", '/'), rf("Contatti", '/'), rf("Attività", '/')}}
	require.NotEqual(t, PlanFolders(PresetStandardSSL, own, ourServer), PlanFolders(PresetExchange, own, ourServer),
		"the rows below could fail: Exchange's own rules leave these folders behind")
	for _, p := range Presets {
		rules, _ := effectivePreset(p, serverSays{}, own)
		for _, f := range PlanFolders(rules, own, ourServer) {
			require.Empty(t, f.Excluded, "%s under %s", f.Source, p)
		}
	}
	ex := exchangeListing(false)
	for _, p := range Presets {
		rules, _ := effectivePreset(p, serverSays{}, ex)
		for _, f := range PlanFolders(rules, ex, ourServer) {
			switch f.Source {
			case "INBOX", "Sent Items":
				require.Empty(t, f.Excluded, "%s under %s", f.Source, p)
			default:
				require.NotEmpty(t, f.Excluded, "%s under %s", f.Source, p)
			}
		}
	}
}

// TestEffectivePresetSamePlan: whatever the customer picked, a Gmail
// source is planned like under Gmail, and a source that is not Gmail like
// under the standard preset (picking Gmail there does no harm).
func TestEffectivePresetSamePlan(t *testing.T) {
	t.Parallel()
	dst := ourServer
	for _, src := range []Listing{gmailListing("[Gmail]", true), gmailListing("[Google Mail]", false)} {
		want := PlanFolders(PresetGmail, src, dst)
		for _, p := range Presets {
			rules, _ := effectivePreset(p, serverSays{}, src)
			require.Equal(t, want, PlanFolders(rules, src, dst), "Gmail source under %s", p)
		}
		byName := map[string]FolderPlan{}
		for _, f := range want {
			byName[f.Source] = f
		}
		root := src.Folders[2].Name
		require.True(t, byName[root+"/All Mail"].OnlyUnlabelled)
		require.Equal(t, "Archive", byName[root+"/All Mail"].Dest)
		for _, leaf := range []string{"Starred", "Important", "Trash", "Spam"} {
			require.NotEmpty(t, byName[root+"/"+leaf].Excluded, leaf)
		}
	}
	plain := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Sent", '/', imap.MailboxAttrSent), rf("Flagged", '/', imap.MailboxAttrFlagged),
		rf("Important", '/'), rf("Starred", '/'), rf("Trash", '/', imap.MailboxAttrTrash),
	}}
	rules, _ := effectivePreset(PresetGmail, serverSays{caps: caps(imap.CapIMAP4rev1)}, plain)
	require.Equal(t, PlanFolders(PresetStandardSSL, plain, dst), PlanFolders(rules, plain, dst),
		"Gmail picked for a server that is not Gmail plans like Standard-SSL")
	require.NotEqual(t, PlanFolders(PresetStandardSSL, plain, dst), PlanFolders(PresetGmail, plain, dst),
		"the row above could fail: Gmail's own rules would leave the \\Flagged folder behind")
}

// TestPlanFoldersCaseOnly: two folders that differ only in case (a
// case-sensitive server has them) are two folders, each copied into its
// own, also when the destination already has both.
func TestPlanFoldersCaseOnly(t *testing.T) {
	t.Parallel()
	src := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Fatture", '/'), rf("fatture", '/'), rf("fatture/2024", '/'),
	}}
	dests := func(dst Listing) []string {
		var out []string
		for _, f := range PlanFolders(PresetStandardSSL, src, dst) {
			out = append(out, f.Source+"→"+f.Dest)
		}
		return out
	}
	want := []string{"INBOX→INBOX", "Fatture→Fatture", "fatture→fatture", "fatture/2024→fatture/2024"}
	require.Equal(t, want, dests(ourServer))
	again := ourServer
	again.Folders = append(append([]RemoteFolder{}, ourServer.Folders...), rf("Fatture", '/'), rf("fatture", '/'), rf("fatture/2024", '/'))
	require.Equal(t, want, dests(again), "a second run finds both")
}
