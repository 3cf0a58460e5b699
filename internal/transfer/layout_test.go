package transfer

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
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

func TestEffectivePreset(t *testing.T) {
	t.Parallel()
	plain := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Sent", '/', imap.MailboxAttrSent), rf("Trash", '/', imap.MailboxAttrTrash),
		rf("Gmail", '/'), rf("Lavoro/[Gmail]", '/'), rf("Starred", '/'), rf("Important", '/'),
	}}
	bare := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{rf("INBOX", '/'), rf("Lavoro", '/'), rf("Starred", '/')}}
	allAttr := Listing{Personal: Namespace{Delim: '.'}, Folders: []RemoteFolder{rf("INBOX", '.'), rf("Archivio totale", '.', imap.MailboxAttrAll)}}
	for _, tc := range []struct {
		name   string
		preset Preset
		caps   imap.CapSet
		src    Listing
		want   Preset
		why    string // a part of the reason
	}{
		{"Standard-SSL, Gmail by its capability alone", PresetStandardSSL, caps(capGmail), bare, PresetGmail, "X-GM-EXT-1"},
		{"Standard-SSL, Gmail by its folders and \\All", PresetStandardSSL, caps(), gmailListing("[Gmail]", true), PresetGmail, `"[Gmail]/All Mail" is the \All folder`},
		{"Standard-no-SSL, localized Gmail without SPECIAL-USE", PresetStandardNoSSL, caps(), gmailListing("[Google Mail]", false), PresetGmail, `under "[Google Mail]"`},
		{"Standard-SSL, a \\All folder", PresetStandardSSL, caps(), allAttr, PresetGmail, `\All`},
		{"Standard-SSL, a plain server with Gmail-like names", PresetStandardSSL, caps(imap.CapIMAP4rev1), plain, PresetStandardSSL, "none of Gmail's signs"},
		{"Standard-no-SSL, a plain server", PresetStandardNoSSL, caps(), bare, PresetStandardNoSSL, "Standard-no-SSL was chosen"},
		{"Gmail, a Gmail server", PresetGmail, caps(capGmail), gmailListing("[Gmail]", true), PresetGmail, "Gmail was chosen and"},
		{"Gmail, a server that is not Gmail", PresetGmail, caps(imap.CapIMAP4rev1), plain, PresetStandardSSL, "although Gmail was chosen"},
		{"Exchange, a plain server", PresetExchange, caps(), plain, PresetExchange, "Exchange was chosen"},
		{"Office 365, a Gmail server", PresetOffice365, caps(capGmail), gmailListing("[Gmail]", true), PresetGmail, "although Office 365 was chosen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, why := effectivePreset(tc.preset, tc.caps, tc.src)
			require.Equal(t, tc.want, got)
			require.Contains(t, why.Text(i18n.English), tc.why)
		})
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
			rules, _ := effectivePreset(p, caps(), src)
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
	rules, _ := effectivePreset(PresetGmail, caps(imap.CapIMAP4rev1), plain)
	require.Equal(t, PlanFolders(PresetStandardSSL, plain, dst), PlanFolders(rules, plain, dst),
		"Gmail picked for a server that is not Gmail plans like Standard-SSL")
	require.NotEqual(t, PlanFolders(PresetStandardSSL, plain, dst), PlanFolders(PresetGmail, plain, dst),
		"the row above could fail: Gmail's own rules would leave the \\Flagged folder behind")
}
