package i18n

// rulesCatalog says which folder rules a copy follows and why (the old
// server's layout decides them: transfer.RulesWhy), on a line's result
// after validation and in Risorse. The first argument of every rules.why
// message is the rules' name (rules.name.*), the sign is a rules.sign
// message.
var rulesCatalog = map[string]Message{
	"rules.name.standard": {IT: "standard", EN: "Standard"},

	"rules.why.kept":        {IT: "Regole %s: scelto %s, il server non mostra i segni di nessun provider.", EN: "%s rules: %s was chosen and the server shows no provider's signs."},
	"rules.why.confirmed":   {IT: "Regole %s: scelto %s e riconosciuto dal server (%s).", EN: "%s rules: %s was chosen and the server confirms it (%s)."},
	"rules.why.recognised":  {IT: "Regole %s, anche se è stato scelto %s: riconosciuto dal server (%s).", EN: "%s rules, although %s was chosen: recognised from the server (%s)."},
	"rules.why.unconfirmed": {IT: "Regole %s, anche se è stato scelto %s: il server non mostra i segni di %s, quindi si copia ogni cartella.", EN: "%s rules, although %s was chosen: the server shows none of %s's signs, so every folder is copied."},

	"rules.sign.gmail_capability":  {IT: "annuncia la capability %s", EN: "it announces the %s capability"},
	"rules.sign.all_folder":        {IT: "la cartella «%s» è la \\All di Gmail", EN: "the folder “%s” is Gmail's \\All"},
	"rules.sign.gmail_folders":     {IT: "le cartelle sotto «%s»", EN: "the folders under “%s”"},
	"rules.sign.exchange_greeting": {IT: "il suo saluto nomina Microsoft Exchange", EN: "its greeting names Microsoft Exchange"},
	"rules.sign.cloud_greeting":    {IT: "il suo saluto nomina %s, un server di Exchange Online", EN: "its greeting names %s, a server of Exchange Online"},
	"rules.sign.exchange_folders":  {IT: "le cartelle di Exchange %s", EN: "Exchange's folders %s"},

	// The mailbox log's line (today transfer logs RulesWhy.English): its
	// argument is the rules.why message of the copy's transfer.RulesWhy.
	"log.rules.applied": {IT: "%s", EN: "%s"},
}
