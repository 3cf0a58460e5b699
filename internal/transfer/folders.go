package transfer

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/text/unicode/norm"
)

// Namespace is an IMAP namespace: a prefix and its hierarchy delimiter.
type Namespace struct {
	Prefix string
	Delim  rune
}

// RemoteFolder is one mailbox as a server lists it.
type RemoteFolder struct {
	Name  string // UTF-8, as go-imap decodes it from modified UTF-7
	Delim rune
	Attrs []imap.MailboxAttr
}

func (f RemoteFolder) has(a imap.MailboxAttr) bool {
	for _, x := range f.Attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

// Listing is what a server says about its folders.
type Listing struct {
	Folders  []RemoteFolder
	Personal Namespace   // the personal namespace (prefix may be empty)
	Foreign  []Namespace // other users' and shared namespaces: never copied
}

// Exclusion reasons, as written to the log.
const (
	ExclTrash      = "trash"
	ExclJunk       = "spam/junk"
	ExclNoSelect   = "not selectable"
	ExclVirtual    = "virtual folder (Gmail)"
	ExclNonMail    = "not a mail folder"
	ExclShared     = "shared or public folder"
	ExclParentSkip = "inside an excluded folder"
)

// FolderPlan is the decision taken for one source folder.
type FolderPlan struct {
	Source   string           // source name
	Dest     string           // destination name; empty when excluded
	Excluded string           // why it is not copied; empty when it is
	Special  imap.MailboxAttr // \Sent, \Drafts or \Archive when mapped onto the destination's own
	// CreateSpecial is set when the destination folder must be created with
	// this special-use attribute.
	CreateSpecial imap.MailboxAttr
	// OnlyUnlabelled marks Gmail's All Mail: copied last, and only the
	// messages that sit in no other copied folder.
	OnlyUnlabelled bool
}

// Names of trash and junk folders in the languages our customers use, lower
// case; matched on top-level folders, those directly under INBOX and Gmail's
// [Gmail]/ children, when the server gives no SPECIAL-USE attribute.
var (
	trashNames = setOf("trash", "deleted items", "deleted messages", "deleted", "bin",
		"cestino", "posta eliminata", "elementi eliminati", "messaggi eliminati",
		"gelöschte elemente", "gelöschte objekte", "papierkorb",
		"éléments supprimés", "corbeille", "elementos eliminados", "papelera", "kosz")
	junkNames = setOf("junk", "spam", "junk e-mail", "junk email", "junk mail", "bulk mail",
		"posta indesiderata", "indesiderata", "junk-e-mail", "spamverdacht",
		"courrier indésirable", "indésirables", "pourriel", "correo no deseado", "correo basura")
	// Exchange and Office 365 show their non-mail stores as IMAP folders.
	nonMailNames = setOf("calendar", "contacts", "tasks", "notes", "journal", "sync issues",
		"conversation history", "rss feeds", "rss subscriptions", "suggested contacts",
		"quick step settings", "social activity notifications", "yammer root", "externalcontacts",
		"personmetadata", "conversation action settings", "outbox",
		"calendario", "contatti", "attività", "note", "diario", "problemi di sincronizzazione",
		"cronologia conversazioni", "feed rss", "posta in uscita",
		"kalender", "kontakte", "aufgaben", "notizen", "synchronisierungsprobleme",
		"calendrier", "tâches", "problèmes de synchronisation",
		"calendario", "contactos", "tareas", "notas", "problemas de sincronización")
	publicNames = setOf("public folders", "cartelle pubbliche", "öffentliche ordner",
		"dossiers publics", "carpetas públicas", "shared folders", "other users")
	gmailVirtual  = setOf("important", "starred", "importanti", "speciali", "wichtig", "markiert", "chats")
	gmailAllMail  = setOf("all mail", "tutti i messaggi", "alle nachrichten", "tous les messages", "todos")
	gmailRoots    = setOf("[gmail]", "[google mail]")
	specialByName = map[string]imap.MailboxAttr{
		"sent": imap.MailboxAttrSent, "sent items": imap.MailboxAttrSent, "sent messages": imap.MailboxAttrSent,
		"sent mail": imap.MailboxAttrSent, "drafts": imap.MailboxAttrDrafts,
		"archive": imap.MailboxAttrArchive, "archives": imap.MailboxAttrArchive,
	}
	defaultSpecialName = map[imap.MailboxAttr]string{
		imap.MailboxAttrSent: "Sent", imap.MailboxAttrDrafts: "Drafts", imap.MailboxAttrArchive: "Archive",
	}
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[norm.NFC.String(n)] = true
	}
	return m
}

func fold(s string) string { return strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) }

// relParts strips the personal namespace prefix and splits a source name on
// its delimiter.
func relParts(f RemoteFolder, ns Namespace) []string {
	name := f.Name
	delim := f.Delim
	if delim == 0 {
		delim = ns.Delim
	}
	if ns.Prefix != "" && strings.HasPrefix(strings.ToUpper(name), strings.ToUpper(ns.Prefix)) && !strings.EqualFold(name, "INBOX") {
		name = name[len(ns.Prefix):]
	}
	if delim == 0 {
		return []string{name}
	}
	return strings.Split(name, string(delim))
}

// PlanFolders decides, for every source folder, whether it is copied and
// where to. The result is in copy order: Gmail's All Mail comes last.
func PlanFolders(p Preset, src, dst Listing) []FolderPlan {
	gmail := p == PresetGmail
	exchange := p == PresetExchange || p == PresetOffice365

	// Destination: existing names case-insensitively, and special-use folders.
	dstDelim := dst.Personal.Delim
	if dstDelim == 0 {
		dstDelim = '/'
	}
	dstByFold := map[string]string{}
	dstExact := map[string]bool{}
	dstSpecial := map[imap.MailboxAttr]string{}
	for _, f := range dst.Folders {
		dstByFold[fold(f.Name)] = f.Name
		dstExact[f.Name] = true
		for _, a := range []imap.MailboxAttr{imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrArchive} {
			if f.has(a) {
				if _, ok := dstSpecial[a]; !ok {
					dstSpecial[a] = f.Name
				}
			}
		}
	}
	srcHasSpecialUse := false
	for _, f := range src.Folders {
		for _, a := range f.Attrs {
			switch a {
			case imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash, imap.MailboxAttrJunk, imap.MailboxAttrArchive, imap.MailboxAttrAll:
				srcHasSpecialUse = true
			}
		}
	}

	type node struct {
		f     RemoteFolder
		parts []string
		plan  FolderPlan
	}
	nodes := make([]*node, 0, len(src.Folders))
	// Two folders may differ only in case (a case-sensitive server): each
	// is a node of its own; a parent is looked up exactly, then ignoring
	// case.
	byPath := map[string]*node{}
	byFold := map[string]*node{}
	for _, f := range src.Folders {
		n := &node{f: f, parts: relParts(f, src.Personal), plan: FolderPlan{Source: f.Name}}
		nodes = append(nodes, n)
		byPath[strings.Join(n.parts, "\x00")] = n
		if k := fold(strings.Join(n.parts, "\x00")); byFold[k] == nil {
			byFold[k] = n
		}
	}
	inOrder := append([]*node(nil), nodes...)
	// Parents before children, so exclusions and special mappings inherit.
	sort.SliceStable(nodes, func(i, j int) bool { return len(nodes[i].parts) < len(nodes[j].parts) })

	isGmailChild := func(n *node) bool {
		return gmail && len(n.parts) == 2 && gmailRoots[fold(n.parts[0])]
	}
	for _, n := range nodes {
		f := n.f
		leaf := fold(n.parts[len(n.parts)-1])
		topLevel := len(n.parts) == 1 || isGmailChild(n)
		// Many servers without a namespace prefix keep Trash and Junk
		// directly under INBOX (INBOX/Trash, INBOX.Spam).
		underInbox := len(n.parts) == 2 && strings.EqualFold(n.parts[0], "INBOX")
		var parent *node
		if len(n.parts) > 1 {
			up := strings.Join(n.parts[:len(n.parts)-1], "\x00")
			if parent = byPath[up]; parent == nil {
				parent = byFold[fold(up)]
			}
		}
		excl := ""
		switch {
		case foreign(f.Name, src.Foreign):
			excl = ExclShared
		case parent != nil && parent.plan.Excluded != "" && parent.plan.Excluded != ExclNoSelect:
			excl = ExclParentSkip
		case f.has(imap.MailboxAttrTrash):
			excl = ExclTrash
		case f.has(imap.MailboxAttrJunk):
			excl = ExclJunk
		case f.has(imap.MailboxAttrNoSelect) || f.has(imap.MailboxAttrNonExistent):
			excl = ExclNoSelect
		case gmail && (f.has(imap.MailboxAttrImportant) || f.has(imap.MailboxAttrFlagged) || (isGmailChild(n) && gmailVirtual[leaf])):
			excl = ExclVirtual
		case (topLevel || underInbox) && trashNames[leaf] && !f.has(imap.MailboxAttrSent):
			excl = ExclTrash
		case (topLevel || underInbox) && junkNames[leaf]:
			excl = ExclJunk
		case exchange && topLevel && nonMailNames[leaf]:
			excl = ExclNonMail
		case p == PresetOffice365 && len(n.parts) == 1 && leaf == "files":
			excl = ExclNonMail
		case exchange && publicNames[fold(n.parts[0])]:
			excl = ExclShared
		}
		if excl != "" {
			n.plan.Excluded = excl
			continue
		}

		// Special-use mapping onto the destination's own folders.
		var special imap.MailboxAttr
		for _, a := range []imap.MailboxAttr{imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrArchive} {
			if f.has(a) {
				special = a
			}
		}
		if gmail && (f.has(imap.MailboxAttrAll) || (isGmailChild(n) && gmailAllMail[leaf])) {
			special = imap.MailboxAttrArchive
			n.plan.OnlyUnlabelled = true
		}
		if special == "" && !srcHasSpecialUse && topLevel {
			special = specialByName[leaf]
		}
		if special != "" {
			n.plan.Special = special
			if d, ok := dstSpecial[special]; ok {
				n.plan.Dest = d
			} else {
				name := defaultSpecialName[special]
				if existing, ok := dstByFold[fold(dst.Personal.Prefix+name)]; ok {
					n.plan.Dest = existing
				} else {
					n.plan.Dest = dst.Personal.Prefix + name
					n.plan.CreateSpecial = special
					dstSpecial[special] = n.plan.Dest
					dstByFold[fold(n.plan.Dest)] = n.plan.Dest
				}
			}
			continue
		}

		// Plain mapping: a child of a mapped parent goes under the parent's
		// destination; otherwise the relative path is rebuilt with the
		// destination's delimiter and prefix.
		var dest string
		leafName := strings.ReplaceAll(n.parts[len(n.parts)-1], string(dstDelim), "_")
		switch {
		case len(n.parts) == 1 && strings.EqualFold(n.parts[0], "INBOX"):
			dest = "INBOX"
		case parent != nil && parent.plan.Dest != "":
			dest = parent.plan.Dest + string(dstDelim) + leafName
		case isGmailChild(n):
			dest = dst.Personal.Prefix + leafName
		default:
			parts := make([]string, len(n.parts))
			for i, part := range n.parts {
				parts[i] = strings.ReplaceAll(part, string(dstDelim), "_")
			}
			if strings.EqualFold(parts[0], "INBOX") {
				parts[0] = "INBOX"
				dest = strings.Join(parts, string(dstDelim))
			} else {
				dest = dst.Personal.Prefix + strings.Join(parts, string(dstDelim))
			}
		}
		if existing, ok := dstByFold[fold(dest)]; ok && !dstExact[dest] {
			dest = existing
		}
		n.plan.Dest = dest
	}

	out := make([]FolderPlan, 0, len(nodes))
	var last []FolderPlan
	for _, n := range inOrder { // keep the server's order, All Mail last
		if n.plan.OnlyUnlabelled {
			last = append(last, n.plan)
			continue
		}
		out = append(out, n.plan)
	}
	return append(out, last...)
}

func foreign(name string, nss []Namespace) bool {
	for _, ns := range nss {
		if ns.Prefix != "" && strings.HasPrefix(strings.ToLower(name), strings.ToLower(ns.Prefix)) {
			return true
		}
	}
	return false
}
