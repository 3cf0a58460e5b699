package transfer

import (
	"github.com/emersion/go-imap/v2"

	"github.com/trasloco/trasloco/internal/i18n"
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
func effectivePreset(p Preset, caps imap.CapSet, l Listing) (Preset, i18n.Msg) {
	if sign := gmailSign(caps, l); !sign.IsZero() {
		if p == PresetGmail {
			return PresetGmail, i18n.New("log.rules.gmail_chosen", sign)
		}
		return PresetGmail, i18n.New("log.rules.gmail_detected", p.Label(), sign)
	}
	switch p {
	case PresetGmail:
		return PresetStandardSSL, i18n.New("log.rules.gmail_not_gmail")
	case PresetExchange, PresetOffice365:
		return p, i18n.New("log.rules.provider", p.Label(), p.Label())
	}
	return p, i18n.New("log.rules.standard", p.Label())
}

// gmailSign is the first of Gmail's signs the server shows, in words, or
// the zero Msg when it shows none.
func gmailSign(caps imap.CapSet, l Listing) i18n.Msg {
	if caps.Has(capGmail) {
		return i18n.New("log.rules.sign.capability", string(capGmail))
	}
	for _, f := range l.Folders {
		if f.has(imap.MailboxAttrAll) {
			return i18n.New("log.rules.sign.all_folder", f.Name)
		}
	}
	for _, f := range l.Folders {
		parts := relParts(f, l.Personal)
		if gmailRoots[fold(parts[0])] {
			return i18n.New("log.rules.sign.gmail_roots", parts[0])
		}
	}
	return i18n.Msg{}
}
