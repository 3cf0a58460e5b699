package transfer

import (
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// capGmail is the capability Gmail's IMAP server announces (its extensions:
// X-GM-MSGID, X-GM-LABELS, …).
const capGmail imap.Cap = "X-GM-EXT-1"

// effectivePreset decides whose folder rules apply to a source, from what the
// server itself says rather than from what the customer picked: a server
// that shows Gmail's signs (the X-GM-EXT-1 capability, a folder with the
// \All special-use attribute, folders under [Gmail] or [Google Mail]) gets
// Gmail's rules whatever the preset, so that a Gmail account migrated with
// Standard-SSL does not copy every message again into All Mail, Starred and
// Important. Gmail picked for a server with none of those signs gets the
// standard rules: nothing of Gmail's applies to it. Every other preset is
// kept. The reason, in words for the mailbox's log, says which rules and
// why.
func effectivePreset(p Preset, caps imap.CapSet, l Listing) (Preset, string) {
	if sign := gmailSign(caps, l); sign != "" {
		if p == PresetGmail {
			return PresetGmail, "Gmail's folder rules: Gmail was chosen and " + sign
		}
		return PresetGmail, fmt.Sprintf("Gmail's folder rules, although %s was chosen: %s", p.Label(), sign)
	}
	switch p {
	case PresetGmail:
		return PresetStandardSSL, "standard folder rules, although Gmail was chosen: the server shows none of Gmail's signs (no X-GM-EXT-1 capability, no \\All folder, no [Gmail] folders)"
	case PresetExchange, PresetOffice365:
		return p, p.Label() + "'s folder rules: " + p.Label() + " was chosen"
	}
	return p, "standard folder rules: " + p.Label() + " was chosen and the server shows none of Gmail's signs"
}

// gmailSign is the first of Gmail's signs the server shows, in words, or
// "" when it shows none.
func gmailSign(caps imap.CapSet, l Listing) string {
	if caps.Has(capGmail) {
		return "the server announces the " + string(capGmail) + " capability"
	}
	for _, f := range l.Folders {
		if f.has(imap.MailboxAttrAll) {
			return fmt.Sprintf("the folder %q is the \\All folder", f.Name)
		}
	}
	for _, f := range l.Folders {
		parts := relParts(f, l.Personal)
		if gmailRoots[fold(parts[0])] {
			return fmt.Sprintf("the folders under %q are Gmail's", parts[0])
		}
	}
	return ""
}
