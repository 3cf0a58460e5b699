package transfer

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/emersion/go-imap/v2"

	"github.com/trasloco/trasloco/internal/i18n"
)

// capGmail is the capability Gmail's IMAP server announces (its extensions:
// X-GM-MSGID, X-GM-LABELS, …).
const capGmail imap.Cap = "X-GM-EXT-1"

// serverSays is what an old server says about itself before any folder is
// listed: its capabilities after login and the text of its greeting.
type serverSays struct {
	caps     imap.CapSet
	greeting string
}

// The signs a server gives of being a provider's, in RulesWhy.Sign.
const (
	SignGmailCapability = "gmail_capability" // Arg: the capability (X-GM-EXT-1)
	SignAllFolder       = "all_folder"       // Arg: the folder with \All
	SignGmailFolders    = "gmail_folders"    // Arg: the root, [Gmail] or [Google Mail]
	SignExchangeGreet   = "exchange_greeting"
	SignCloudGreet      = "cloud_greeting"   // Arg: the Exchange Online server named in the greeting
	SignExchangeFolders = "exchange_folders" // Arg: the folders found, comma-separated
)

// RulesWhy says why a folder rule set was applied: the preset the customer
// picked and the sign of the server that decided otherwise or confirmed
// it (none when the server showed no provider's sign). It is codes and
// arguments (Msg): the mailbox's log and the pages render it in the
// reader's language.
type RulesWhy struct {
	Picked Preset `json:"picked"`
	Sign   string `json:"sign,omitempty"`
	Arg    string `json:"arg,omitempty"`
}

// effectivePreset decides whose folder rules apply to a source, from what
// the server itself says rather than from what the customer picked.
//
// Gmail is recognised by any one of its signs: the X-GM-EXT-1 capability,
// a folder with the \All special-use attribute, folders under [Gmail] or
// [Google Mail]. Exchange, on evidence that is certain, by one of: a
// greeting that names Microsoft Exchange (its default, on premises and
// online), or all five of the stores every Exchange mailbox shows over
// IMAP — Calendar, Contacts, Tasks, Journal and Notes, in any one of the
// languages we know — at the top level. One or two such names can be a
// customer's own mail folders anywhere ("Note", "Calendario"): they
// decide nothing. Office 365 is Exchange whose greeting names a server of
// Exchange Online, or Exchange signs under the Office 365 preset.
//
// A preset picked for a server that shows none of its provider's signs
// gets the standard rules, which copy every folder: Gmail's or Exchange's
// would leave some behind that are the customer's mail elsewhere (a
// \Flagged folder, a folder named Notes). Every other choice is kept.
func effectivePreset(p Preset, says serverSays, l Listing) (Preset, RulesWhy) {
	why := RulesWhy{Picked: p}
	if why.Sign, why.Arg = gmailSign(says.caps, l); why.Sign != "" {
		return PresetGmail, why
	}
	if why.Sign, why.Arg = exchangeSign(says.greeting, l); why.Sign != "" {
		if why.Sign == SignCloudGreet || p == PresetOffice365 {
			return PresetOffice365, why
		}
		return PresetExchange, why
	}
	switch p {
	case PresetGmail, PresetExchange, PresetOffice365:
		return PresetStandardSSL, why
	}
	return p, why
}

// English says in words which rules apply and why: Msg in English, for
// the operator's `trasloco copy` and `check` (Result.RulesReason).
func (w RulesWhy) English(rules Preset) string { return w.Msg(rules).Text(i18n.English) }

// Provider reports whether p is a provider's preset, with rules of its own.
func (p Preset) Provider() bool {
	return p == PresetGmail || p == PresetExchange || p == PresetOffice365
}

// gmailSign is the first of Gmail's signs the server shows, or "".
func gmailSign(caps imap.CapSet, l Listing) (sign, arg string) {
	if caps.Has(capGmail) {
		return SignGmailCapability, string(capGmail)
	}
	for _, f := range l.Folders {
		if f.has(imap.MailboxAttrAll) {
			return SignAllFolder, f.Name
		}
	}
	for _, f := range l.Folders {
		parts := relParts(f, l.Personal)
		if gmailRoots[fold(parts[0])] {
			return SignGmailFolders, parts[0]
		}
	}
	return "", ""
}

// exchangeStores are the stores every Exchange mailbox has and shows over
// IMAP, by what they are, in the languages of nonMailNames.
var exchangeStores = map[string]string{
	"calendar": "calendar", "calendario": "calendar", "kalender": "calendar", "calendrier": "calendar",
	"contacts": "contacts", "contatti": "contacts", "kontakte": "contacts", "contactos": "contacts",
	"tasks": "tasks", "attività": "tasks", "aufgaben": "tasks", "tâches": "tasks", "tareas": "tasks",
	"journal": "journal", "diario": "journal",
	"notes": "notes", "note": "notes", "notizen": "notes", "notas": "notes",
}

// exchangeGreeting matches Exchange's greeting, "The Microsoft Exchange
// IMAP4 service is ready.", and captures Exchange Online's server name
// that follows it, UTF-16LE in base64 between brackets.
var exchangeGreeting = regexp.MustCompile(`(?i)\bMicrosoft Exchange\b.*?(?:\[([A-Za-z0-9+/=]{8,400})\])?\s*$`)

// exchangeSign is the sign of Exchange the server shows, or "".
func exchangeSign(greeting string, l Listing) (sign, arg string) {
	if m := exchangeGreeting.FindStringSubmatch(greeting); m != nil {
		if name := cloudServer(m[1]); name != "" {
			return SignCloudGreet, name
		}
		return SignExchangeGreet, ""
	}
	found := map[string]string{}
	var names []string
	for _, f := range l.Folders {
		parts := relParts(f, l.Personal)
		if len(parts) != 1 {
			continue
		}
		if store, ok := exchangeStores[fold(parts[0])]; ok && found[store] == "" {
			found[store] = parts[0]
			names = append(names, parts[0])
		}
	}
	if len(found) == 5 {
		return SignExchangeFolders, strings.Join(names, ", ")
	}
	return "", ""
}

// cloudServer is the name of the Exchange Online server b64 encodes, or ""
// when it names none.
func cloudServer(b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b)%2 != 0 || len(b) == 0 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	name := strings.ToLower(string(utf16.Decode(u)))
	if strings.IndexFunc(name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') }) >= 0 {
		return ""
	}
	for _, suffix := range []string{".outlook.com", ".exchangelabs.com", ".office365.com", ".outlook.cn"} {
		if strings.HasSuffix(name, suffix) {
			return name
		}
	}
	return ""
}
