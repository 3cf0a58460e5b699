// Package transfer copies one mailbox from a source IMAP server to a
// destination IMAP server. It knows nothing of HTTP, River or SQL: callers hand
// it connection settings, a checkpoint store and a reporter, and it copies every
// message that should be copied exactly once, however often it is run.
package transfer

import (
	"fmt"
	"strings"
)

// Preset is the kind of remote server a customer migrates from. It decides the
// default connection settings and the folder rules beyond the common ones.
type Preset string

// The presets the panel offers.
const (
	PresetStandardSSL   Preset = "standard-ssl"
	PresetStandardNoSSL Preset = "standard-nossl"
	PresetGmail         Preset = "gmail"
	PresetExchange      Preset = "exchange"
	PresetOffice365     Preset = "office365"
)

// Presets lists every preset in the order the panel shows them.
var Presets = []Preset{PresetStandardSSL, PresetStandardNoSSL, PresetGmail, PresetExchange, PresetOffice365}

// ParsePreset accepts a preset name, case-insensitively, with or without dashes.
func ParsePreset(s string) (Preset, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	switch norm {
	case "standard-ssl", "standardssl", "ssl":
		return PresetStandardSSL, nil
	case "standard-nossl", "standard-no-ssl", "standardnossl", "nossl":
		return PresetStandardNoSSL, nil
	case "gmail":
		return PresetGmail, nil
	case "exchange":
		return PresetExchange, nil
	case "office365", "office-365", "o365":
		return PresetOffice365, nil
	}
	return "", fmt.Errorf("unknown preset %q: use one of standard-ssl, standard-nossl, gmail, exchange, office365", s)
}

// TLSMode says how a connection is secured.
type TLSMode string

// The TLS modes. The empty mode means "the preset's default".
const (
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS TLSMode = "starttls" // plain, then STARTTLS, which must succeed
	TLSNone     TLSMode = "none"     // plain text
	// TLSOpportunistic uses STARTTLS when the server offers it and plain text
	// otherwise, accepting certificates it cannot verify (and saying so in the
	// log): it is what the customer chose with Standard-no-SSL.
	TLSOpportunistic TLSMode = "opportunistic"
)

// ParseTLSMode parses a --*-tls flag value.
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(strings.ToLower(strings.TrimSpace(s))); m {
	case TLSImplicit, TLSStartTLS, TLSNone, TLSOpportunistic, "":
		return m, nil
	}
	return "", fmt.Errorf("unknown TLS mode %q: use implicit, starttls or none", s)
}

// Defaults are a preset's connection defaults.
type Defaults struct {
	Host string  // default host, empty when the customer must give one
	Port int     // default port
	TLS  TLSMode // default TLS mode
}

// Defaults returns the preset's connection defaults.
func (p Preset) Defaults() Defaults {
	switch p {
	case PresetStandardNoSSL:
		return Defaults{Port: 143, TLS: TLSOpportunistic}
	case PresetGmail:
		return Defaults{Host: "imap.gmail.com", Port: 993, TLS: TLSImplicit}
	case PresetOffice365:
		return Defaults{Host: "outlook.office365.com", Port: 993, TLS: TLSImplicit}
	default:
		return Defaults{Port: 993, TLS: TLSImplicit}
	}
}

// Label is the preset's name as the panel shows it.
func (p Preset) Label() string {
	switch p {
	case PresetStandardSSL:
		return "Standard-SSL"
	case PresetStandardNoSSL:
		return "Standard-no-SSL"
	case PresetGmail:
		return "Gmail"
	case PresetExchange:
		return "Exchange"
	case PresetOffice365:
		return "Office 365"
	}
	return string(p)
}
