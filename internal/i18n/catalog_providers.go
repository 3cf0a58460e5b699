package i18n

// providersCatalog holds the messages of the big shared providers'
// limits and answers (Gmail, Exchange, Office 365): the mailbox log's
// back-off lines and the advice added to a refused login's reason.
var providersCatalog = map[string]Message{
	// Validation and runs: a reason after "Riga N: test di migrazione
	// fallito — " (the address of the old server).
	"check.reason.throttled": {IT: "%s chiede di rallentare (troppe connessioni o troppo traffico per questo account): riprova più tardi, e chiudi i programmi di posta che la usano", EN: "%s asks to slow down (too many connections or too much traffic for this account): try again later, and close the mail programs using it"},

	"check.server_said": {IT: "il server ha risposto: «%s»", EN: "the server said: “%s”"},

	// Advice from the old server's own words, after the reason (a line's
	// red result, a mailbox's failure on Risorse).
	"advice.gmail_app_password":     {IT: "Gmail chiede una password per le app: con la verifica in due passaggi attiva sull'account Google, creane una (Account Google › Sicurezza › Password per le app) e scrivila nel CSV al posto della password abituale; per Google Workspace si può anche collegare l'accesso OAuth2", EN: "Gmail asks for an app password: with 2-Step Verification on for the Google account, create one (Google Account › Security › App passwords) and write it in the CSV instead of the usual password; for Google Workspace OAuth2 access can be connected instead"},
	"advice.gmail_web_login":        {IT: "Google ha bloccato l'accesso: entra una volta con questo account da un browser su mail.google.com e conferma che eri tu, poi usa una password per le app nel CSV", EN: "Google blocked the sign-in: sign in once with this account from a browser at mail.google.com and confirm it was you, then use an app password in the CSV"},
	"advice.gmail_imap_off":         {IT: "IMAP è spento per questo account: attivalo in Gmail › Impostazioni › Inoltro e POP/IMAP › Attiva IMAP (Google Workspace: l'amministratore deve consentirlo nella Console di amministrazione)", EN: "IMAP is off for this account: turn it on in Gmail › Settings › Forwarding and POP/IMAP › Enable IMAP (Google Workspace: the administrator must allow it in the Admin console)"},
	"advice.exchange_not_connected": {IT: "Exchange ha accettato l'accesso ma non apre la casella: di solito IMAP è disattivato per questo utente (l'amministratore lo attiva con Set-CASMailbox -Identity utente -ImapEnabled $true), oppure l'utente amministratore non ha FullAccess sulla casella (Add-MailboxPermission)", EN: "Exchange accepted the login but does not open the mailbox: usually IMAP is disabled for this user (the administrator enables it with Set-CASMailbox -Identity user -ImapEnabled $true), or the administrator login has no FullAccess on the mailbox (Add-MailboxPermission)"},
	"advice.o365_basic_auth":        {IT: "Microsoft non accetta più le password per IMAP su Office 365 (autenticazione di base disattivata): scegli il tipo «Office 365», collega Microsoft 365 e lascia vuota la password nel CSV; per un account Outlook.com personale usa una password per le app", EN: "Microsoft no longer accepts passwords for IMAP on Office 365 (basic authentication switched off): choose the “Office 365” type, connect Microsoft 365 and leave the password empty in the CSV; for a personal Outlook.com account use an app password"},

	// The mailbox log (Risorse).
	"log.throttle.waiting":   {IT: "il vecchio server chiede di rallentare («%s»): la casella aspetta %s, poi la copia riprende da dove si è fermata", EN: "the old server asks to slow down (“%s”): the mailbox waits %s, then the copy goes on where it stopped"},
	"log.transfer.throttled": {IT: "il server di origine chiede di rallentare: %s", EN: "the source asks to slow down: %s"},
}
