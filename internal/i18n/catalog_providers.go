package i18n

// providersCatalog holds the messages of the big shared providers'
// limits and answers (Gmail, Exchange, Office 365): the mailbox log's
// back-off lines and the advice added to a refused login's reason.
var providersCatalog = map[string]Message{
	// Validation and runs: a reason after "Riga N: test di migrazione
	// fallito — " (the address of the old server).
	"check.reason.throttled": {IT: "%s chiede di rallentare (troppe connessioni o troppo traffico per questo account): riprova più tardi, e chiudi i programmi di posta che la usano", EN: "%s asks to slow down (too many connections or too much traffic for this account): try again later, and close the mail programs using it"},

	// The mailbox log (Risorse).
	"log.throttle.waiting":   {IT: "il vecchio server chiede di rallentare («%s»): la casella aspetta %s, poi la copia riprende da dove si è fermata", EN: "the old server asks to slow down (“%s”): the mailbox waits %s, then the copy goes on where it stopped"},
	"log.transfer.throttled": {IT: "il server di origine chiede di rallentare: %s", EN: "the source asks to slow down: %s"},
}
