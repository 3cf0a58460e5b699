package transfer

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"
)

func rf(name string, delim rune, attrs ...imap.MailboxAttr) RemoteFolder {
	return RemoteFolder{Name: name, Delim: delim, Attrs: attrs}
}

var ourServer = Listing{
	Personal: Namespace{Delim: '/'},
	Folders: []RemoteFolder{
		rf("INBOX", '/'), rf("Sent", '/', imap.MailboxAttrSent), rf("Drafts", '/', imap.MailboxAttrDrafts),
		rf("Archive", '/', imap.MailboxAttrArchive), rf("Trash", '/', imap.MailboxAttrTrash), rf("Junk", '/', imap.MailboxAttrJunk),
		rf("progetti", '/'),
	},
}

// plan returns source name -> destination, or "-reason" for an excluded folder.
func plan(p Preset, src, dst Listing) map[string]string {
	out := map[string]string{}
	for _, f := range PlanFolders(p, src, dst) {
		if f.Excluded != "" {
			out[f.Source] = "-" + f.Excluded
		} else {
			out[f.Source] = f.Dest
		}
	}
	return out
}

func TestPlanFolders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		preset Preset
		src    Listing
		want   map[string]string
	}{
		{
			name:   "courier prefix and dot delimiter, names in several languages",
			preset: PresetStandardSSL,
			src: Listing{Personal: Namespace{Prefix: "INBOX.", Delim: '.'}, Folders: []RemoteFolder{
				rf("INBOX", '.'), rf("INBOX.Clienti", '.'), rf("INBOX.Clienti.Società", '.'), rf("INBOX.Posta inviata", '.'),
				rf("INBOX.Cestino", '.'), rf("INBOX.Posta indesiderata", '.'), rf("INBOX.Sent", '.'), rf("INBOX.Drafts", '.'),
				rf("INBOX.Gelöschte Elemente", '.'), rf("INBOX.Courrier indésirable", '.'), rf("INBOX.Papelera", '.'),
				rf("INBOX.Progetti", '.'), rf("INBOX.Progetti.Trash", '.'), rf("INBOX.a/b", '.'), rf("INBOX.Cestino.vecchi", '.'),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Clienti.Società": "Clienti/Società",
				"INBOX.Posta inviata": "Posta inviata", "INBOX.Cestino": "-" + ExclTrash, "INBOX.Posta indesiderata": "-" + ExclJunk,
				"INBOX.Sent": "Sent", "INBOX.Drafts": "Drafts", "INBOX.Gelöschte Elemente": "-" + ExclTrash,
				"INBOX.Courrier indésirable": "-" + ExclJunk, "INBOX.Papelera": "-" + ExclTrash,
				"INBOX.Progetti": "progetti", "INBOX.Progetti.Trash": "progetti/Trash", "INBOX.a/b": "a_b",
				"INBOX.Cestino.vecchi": "-" + ExclParentSkip,
			},
		},
		{
			name:   "special-use beats names; unknown Sent name mapped by attribute",
			preset: PresetStandardSSL,
			src: Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
				rf("INBOX", '/'), rf("Bulk", '/', imap.MailboxAttrJunk), rf("Elementi inviati", '/', imap.MailboxAttrSent),
				rf("Sent", '/'), rf("Old", '/', imap.MailboxAttrNoSelect), rf("Old/2019", '/'), rf("Bozze", '/', imap.MailboxAttrDrafts),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "Bulk": "-" + ExclJunk, "Elementi inviati": "Sent", "Sent": "Sent",
				"Old": "-" + ExclNoSelect, "Old/2019": "Old/2019", "Bozze": "Drafts",
			},
		},
		{
			name:   "gmail labels, virtual folders, all mail last into archive",
			preset: PresetGmail,
			src: Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
				rf("INBOX", '/'), rf("[Gmail]", '/', imap.MailboxAttrNoSelect), rf("[Gmail]/All Mail", '/', imap.MailboxAttrAll),
				rf("[Gmail]/Sent Mail", '/', imap.MailboxAttrSent), rf("[Gmail]/Important", '/', imap.MailboxAttrImportant),
				rf("[Gmail]/Starred", '/', imap.MailboxAttrFlagged), rf("[Gmail]/Cestino", '/', imap.MailboxAttrTrash),
				rf("[Gmail]/Spam", '/', imap.MailboxAttrJunk), rf("[Gmail]/Drafts", '/', imap.MailboxAttrDrafts), rf("Lavoro", '/'),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "[Gmail]": "-" + ExclNoSelect, "[Gmail]/All Mail": "Archive", "[Gmail]/Sent Mail": "Sent",
				"[Gmail]/Important": "-" + ExclVirtual, "[Gmail]/Starred": "-" + ExclVirtual, "[Gmail]/Cestino": "-" + ExclTrash,
				"[Gmail]/Spam": "-" + ExclJunk, "[Gmail]/Drafts": "Drafts", "Lavoro": "Lavoro",
			},
		},
		{
			name:   "gmail localized without attributes",
			preset: PresetGmail,
			src: Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
				rf("INBOX", '/'), rf("[Google Mail]/Papierkorb", '/'), rf("[Gmail]/Cestino", '/'), rf("[Gmail]/Speciali", '/'),
			}},
			want: map[string]string{"INBOX": "INBOX", "[Google Mail]/Papierkorb": "-" + ExclTrash, "[Gmail]/Cestino": "-" + ExclTrash, "[Gmail]/Speciali": "-" + ExclVirtual},
		},
		{
			name:   "exchange non-mail and public folders",
			preset: PresetExchange,
			src: Listing{Personal: Namespace{Delim: '/'}, Foreign: []Namespace{{Prefix: "Shared Folders/", Delim: '/'}}, Folders: []RemoteFolder{
				rf("INBOX", '/'), rf("Calendar", '/'), rf("Calendar/Birthdays", '/'), rf("Contacts", '/'), rf("Sync Issues", '/'),
				rf("Sync Issues/Conflicts", '/'), rf("Deleted Items", '/'), rf("Junk E-Mail", '/'), rf("Sent Items", '/'),
				rf("Public Folders/Sales", '/'), rf("Shared Folders/boss/INBOX", '/'), rf("Files", '/'), rf("Calendario", '/'),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "Calendar": "-" + ExclNonMail, "Calendar/Birthdays": "-" + ExclParentSkip, "Contacts": "-" + ExclNonMail,
				"Sync Issues": "-" + ExclNonMail, "Sync Issues/Conflicts": "-" + ExclParentSkip, "Deleted Items": "-" + ExclTrash,
				"Junk E-Mail": "-" + ExclJunk, "Sent Items": "Sent", "Public Folders/Sales": "-" + ExclShared,
				"Shared Folders/boss/INBOX": "-" + ExclShared, "Files": "Files", "Calendario": "-" + ExclNonMail,
			},
		},
		{
			name:   "trash and junk directly under INBOX with an empty prefix, no SPECIAL-USE",
			preset: PresetStandardSSL,
			src: Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
				rf("INBOX", '/'), rf("INBOX/Trash", '/'), rf("INBOX/Spam", '/'), rf("INBOX/Cestino", '/'),
				rf("INBOX/Posta indesiderata", '/'), rf("INBOX/Posta eliminata", '/'), rf("INBOX/Junk", '/'),
				rf("INBOX/Trash/2019", '/'), rf("INBOX/Progetti", '/'), rf("INBOX/Progetti/Trash", '/'),
				rf("Progetti", '/'), rf("Progetti/Trash", '/'), rf("Progetti/Spam", '/'),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "INBOX/Trash": "-" + ExclTrash, "INBOX/Spam": "-" + ExclJunk, "INBOX/Cestino": "-" + ExclTrash,
				"INBOX/Posta indesiderata": "-" + ExclJunk, "INBOX/Posta eliminata": "-" + ExclTrash, "INBOX/Junk": "-" + ExclJunk,
				"INBOX/Trash/2019": "-" + ExclParentSkip, "INBOX/Progetti": "INBOX/Progetti", "INBOX/Progetti/Trash": "INBOX/Progetti/Trash",
				"Progetti": "progetti", "Progetti/Trash": "progetti/Trash", "Progetti/Spam": "progetti/Spam",
			},
		},
		{
			name:   "trash and junk under INBOX. without NAMESPACE (dot delimiter, not every folder under INBOX)",
			preset: PresetStandardSSL,
			src: Listing{Personal: Namespace{Delim: '.'}, Folders: []RemoteFolder{
				rf("INBOX", '.'), rf("INBOX.Spam", '.'), rf("INBOX.Trash", '.'), rf("INBOX.Posta eliminata", '.'), rf("Archivio", '.'),
				rf("Archivio.Cestino", '.'),
			}},
			want: map[string]string{
				"INBOX": "INBOX", "INBOX.Spam": "-" + ExclJunk, "INBOX.Trash": "-" + ExclTrash, "INBOX.Posta eliminata": "-" + ExclTrash,
				"Archivio": "Archivio", "Archivio.Cestino": "Archivio/Cestino",
			},
		},
		{
			name:   "office 365 hides Files",
			preset: PresetOffice365,
			src:    Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{rf("INBOX", '/'), rf("Files", '/'), rf("Notes", '/')}},
			want:   map[string]string{"INBOX": "INBOX", "Files": "-" + ExclNonMail, "Notes": "-" + ExclNonMail},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, plan(tt.preset, tt.src, ourServer))
		})
	}
}

func TestPlanFoldersOrderAndCreation(t *testing.T) {
	t.Parallel()
	src := Listing{Personal: Namespace{Delim: '/'}, Folders: []RemoteFolder{
		rf("[Gmail]/All Mail", '/', imap.MailboxAttrAll), rf("INBOX", '/'), rf("Lavoro", '/'), rf("[Gmail]/Sent Mail", '/', imap.MailboxAttrSent),
	}}
	// A destination without special-use folders: they are created.
	dst := Listing{Personal: Namespace{Delim: '.', Prefix: "INBOX."}, Folders: []RemoteFolder{rf("INBOX", '.')}}
	plans := PlanFolders(PresetGmail, src, dst)
	require.Len(t, plans, 4)
	require.Equal(t, "[Gmail]/All Mail", plans[3].Source, "All Mail goes last")
	require.True(t, plans[3].OnlyUnlabelled)
	require.Equal(t, "INBOX.Archive", plans[3].Dest)
	require.Equal(t, imap.MailboxAttrArchive, plans[3].CreateSpecial)
	require.Equal(t, "INBOX.Sent", plans[2].Dest)
	require.Equal(t, "INBOX.Lavoro", plans[1].Dest)
}
