package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestRulesText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rules  transfer.Preset
		why    transfer.RulesWhy
		it, en string
	}{
		{transfer.PresetStandardSSL, transfer.RulesWhy{Picked: transfer.PresetStandardSSL},
			"Regole standard: scelto Standard-SSL, il server non mostra i segni di nessun provider.",
			"Standard rules: Standard-SSL was chosen and the server shows no provider's signs."},
		{transfer.PresetGmail, transfer.RulesWhy{Picked: transfer.PresetStandardSSL, Sign: transfer.SignGmailCapability, Arg: "X-GM-EXT-1"},
			"Regole Gmail, anche se è stato scelto Standard-SSL: riconosciuto dal server (annuncia la capability X-GM-EXT-1).",
			"Gmail rules, although Standard-SSL was chosen: recognised from the server (it announces the X-GM-EXT-1 capability)."},
		{transfer.PresetGmail, transfer.RulesWhy{Picked: transfer.PresetGmail, Sign: transfer.SignAllFolder, Arg: "[Gmail]/All Mail"},
			"Regole Gmail: scelto Gmail e riconosciuto dal server (la cartella «[Gmail]/All Mail» è la \\All di Gmail).",
			"Gmail rules: Gmail was chosen and the server confirms it (the folder “[Gmail]/All Mail” is Gmail's \\All)."},
		{transfer.PresetExchange, transfer.RulesWhy{Picked: transfer.PresetExchange, Sign: transfer.SignExchangeGreet},
			"Regole Exchange: scelto Exchange e riconosciuto dal server (il suo saluto nomina Microsoft Exchange).",
			"Exchange rules: Exchange was chosen and the server confirms it (its greeting names Microsoft Exchange)."},
		{transfer.PresetExchange, transfer.RulesWhy{Picked: transfer.PresetStandardNoSSL, Sign: transfer.SignExchangeFolders, Arg: "Calendario, Contatti, Attività, Diario, Note"},
			"Regole Exchange, anche se è stato scelto Standard-no-SSL: riconosciuto dal server (le cartelle di Exchange Calendario, Contatti, Attività, Diario, Note).",
			"Exchange rules, although Standard-no-SSL was chosen: recognised from the server (Exchange's folders Calendario, Contatti, Attività, Diario, Note)."},
		{transfer.PresetStandardSSL, transfer.RulesWhy{Picked: transfer.PresetOffice365},
			"Regole standard, anche se è stato scelto Office 365: il server non mostra i segni di Office 365, quindi si copia ogni cartella.",
			"Standard rules, although Office 365 was chosen: the server shows none of Office 365's signs, so every folder is copied."},
	} {
		require.Equal(t, tc.it, rulesText(i18n.Italian, tc.rules, tc.why))
		require.Equal(t, tc.en, rulesText(i18n.English, tc.rules, tc.why))
	}
	require.Empty(t, appliedRulesText(i18n.Italian, nil))
	require.Equal(t, "Regole Gmail: scelto Gmail e riconosciuto dal server (le cartelle sotto «[Google Mail]»).",
		appliedRulesText(i18n.Italian, []byte(`{"rules":"gmail","why":{"picked":"gmail","sign":"gmail_folders","arg":"[Google Mail]"}}`)))
}
