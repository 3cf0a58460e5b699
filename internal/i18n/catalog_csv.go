package i18n

// csvCatalog holds the messages of the CSV upload (internal/csvimport) and of
// the validation of its lines (internal/jobs). Texts are fmt formats; the
// "Riga N: " prefix is added by csv.line, so line messages start lower case.
var csvCatalog = map[string]Message{
	// The prefix of every message about one line.
	"csv.line": {IT: "Riga %d: %s", EN: "Line %d: %s"},

	// Several problems of one line, or of the file, kept together.
	"csv.problems":      {IT: "%s", EN: "%s"},
	"csv.file.problems": {IT: "%s", EN: "%s"},

	// The file as a whole.
	"csv.file.too_large":      {IT: "Il file è troppo grande: al massimo %s. Dividi le caselle in più migrazioni.", EN: "The file is too large: %s at most. Split the mailboxes over several migrations."},
	"csv.file.too_many_lines": {IT: "Il file ha troppe righe: al massimo %d caselle per migrazione. Dividile in più migrazioni.", EN: "The file has too many lines: at most %d mailboxes per migration. Split them over several migrations."},
	"csv.file.not_text":       {IT: "Il file non è un testo CSV (contiene caratteri binari o non è in UTF-8): esportalo come «CSV UTF-8» o testo semplice.", EN: "The file is not CSV text (it holds binary data or is not UTF-8): export it as “CSV UTF-8” or plain text."},
	"csv.file.utf16":          {IT: "Il file è in UTF-16: esportalo come «CSV UTF-8» o testo semplice.", EN: "The file is UTF-16: export it as “CSV UTF-8” or plain text."},
	"csv.file.empty":          {IT: "Il file non contiene nessuna casella da migrare.", EN: "The file holds no mailbox to migrate."},

	// Problems of one line (after "Riga N: ").
	"csv.fields":              {IT: "servono 4 campi separati da «;» (casella locale;server remoto;utente remoto;password), trovati %d", EN: "4 fields separated by “;” are needed (local mailbox;remote server;remote user;password), found %d"},
	"csv.fields.separator":    {IT: "i campi vanno separati da «;», non da %s (casella locale;server remoto;utente remoto;password)", EN: "fields must be separated by “;”, not by %s (local mailbox;remote server;remote user;password)"},
	"csv.local_user.empty":    {IT: "manca la casella locale (primo campo)", EN: "the local mailbox (first field) is missing"},
	"csv.local_user.invalid":  {IT: "la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)", EN: "the local mailbox (first field) is not a valid email address: check the order of the fields (local mailbox;remote server;remote user;password)"},
	"csv.remote_host.empty":   {IT: "manca il server remoto (secondo campo)", EN: "the remote server (second field) is missing"},
	"csv.remote_host.invalid": {IT: "il server remoto (secondo campo) non è un nome host completo o un indirizzo IP valido (es. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)", EN: "the remote server (second field) is not a full host name or a valid IP address (e.g. mail.example.com, mail.example.com:993, 192.0.2.10, [2001:db8::1]:993)"},
	"csv.remote_host.url":     {IT: "il server remoto (secondo campo) va scritto senza protocollo né percorso (es. mail.example.com o mail.example.com:993)", EN: "write the remote server (second field) without a protocol or path (e.g. mail.example.com or mail.example.com:993)"},
	"csv.remote_host.port":    {IT: "la porta del server remoto (secondo campo) non è valida: deve essere un numero da 1 a 65535", EN: "the port of the remote server (second field) is not valid: it must be a number from 1 to 65535"},
	"csv.remote_user.empty":   {IT: "manca l'utente remoto (terzo campo)", EN: "the remote user (third field) is missing"},
	"csv.password.empty":      {IT: "manca la password (quarto campo); può mancare solo se indichi un Master User", EN: "the password (fourth field) is missing; it may be left out only with a Master User"},
	"csv.duplicate":           {IT: "la casella locale %s compare già alla riga %d", EN: "the local mailbox %s already appears on line %d"},

	// Notes: things accepted, reported so the user knows.
	"csv.note.bom":            {IT: "Il file inizia con un segno invisibile che Excel aggiunge (BOM): ignorato, va bene così.", EN: "The file starts with an invisible mark that Excel adds (a BOM): ignored, that is fine."},
	"csv.note.crlf":           {IT: "Il file va a capo alla maniera di Windows: va bene così.", EN: "The file ends its lines the Windows way: that is fine."},
	"csv.note.cr":             {IT: "Il file usa fine riga con solo CR (vecchio Mac): accettati.", EN: "The file uses CR-only line ends (old Mac): accepted."},
	"csv.note.header":         {IT: "intestazione riconosciuta e ignorata", EN: "header recognised and ignored"},
	"csv.note.blank":          {IT: "Righe vuote ignorate: %s.", EN: "Blank lines ignored: %s."},
	"csv.note.spaces":         {IT: "Spazi attorno ai campi rimossi nelle righe: %s.", EN: "Spaces around fields removed on lines: %s."},
	"csv.note.password_space": {IT: "la password inizia o finisce con uno spazio: è stata tenuta così com'è", EN: "the password starts or ends with a space: it was kept as written"},

	// Validation of a line (internal/jobs), after "Riga N: ".
	"check.domain_not_owned":             {IT: "il dominio %s non appartiene al tuo account", EN: "the domain %s does not belong to your account"},
	"check.dest_missing":                 {IT: "la casella di destinazione %s non esiste: creala prima di pianificare la migrazione", EN: "the destination mailbox %s does not exist: create it before scheduling the migration"},
	"check.dest_unavailable":             {IT: "impossibile verificare la casella di destinazione %s: il nostro server non risponde, riprova più tardi", EN: "cannot check the destination mailbox %s: our server does not answer, try again later"},
	"check.forbidden":                    {IT: "il server remoto %s punta a un indirizzo non consentito (rete privata o locale): indica un server raggiungibile da Internet", EN: "the remote server %s points to an address that is not allowed (a private or local network): give a server reachable from the Internet"},
	"check.port_not_allowed":             {IT: "il server remoto %s usa una porta non consentita: sono consentite solo le porte IMAP (%s)", EN: "the remote server %s uses a port that is not allowed: only the IMAP ports are (%s)"},
	"check.own_server":                   {IT: "il server remoto %s è il nostro server di posta: indica il server da cui vuoi spostare la posta", EN: "the remote server %s is our own mail server: give the server you are moving the mail from"},
	"check.remote_throttled":             {IT: "troppi accessi falliti di recente con questo utente o da questo account: controlla la password e riprova tra un'ora", EN: "too many failed logins lately for this user or from this account: check the password and try again in an hour"},
	"check.reason.connect":               {IT: "impossibile connettersi a %s: controlla il nome, la porta e il tipo di server", EN: "cannot connect to %s: check the name, the port and the server type"},
	"check.mailbox_busy":                 {IT: "la casella %s è già nella migrazione «%s» (riga %d), ancora attiva: aspetta che finisca o annullala", EN: "the mailbox %s is already in the migration “%s” (line %d), still active: wait for it to end or cancel it"},
	"check.stuck":                        {IT: "La verifica si è interrotta: carica di nuovo il CSV per ripeterla.", EN: "The check was interrupted: upload the CSV again to repeat it."},
	"check.reason.no_starttls_forbidden": {IT: "%s non offre STARTTLS e non consentiamo accessi con la password in chiaro: usa la porta 993 con «Standard-SSL», se il server la offre", EN: "%s does not offer STARTTLS and we do not allow logins with the password in plain text: use port 993 with “Standard-SSL”, if the server offers it"},
	"check.internal":                     {IT: "verifica non riuscita per un errore interno: riprova più tardi", EN: "the check failed because of an internal error: try again later"},
	"check.failed":                       {IT: "test di migrazione fallito — %s", EN: "migration test failed — %s"},
	"check.reason.auth":                  {IT: "utente o password errati, oppure accesso IMAP non abilitato", EN: "wrong user or password, or IMAP access not enabled"},
	"check.reason.timeout":               {IT: "impossibile connettersi a %s (timeout)", EN: "cannot connect to %s (timeout)"},
	"check.reason.refused":               {IT: "impossibile connettersi a %s (connessione rifiutata: controlla la porta e il tipo di server)", EN: "cannot connect to %s (connection refused: check the port and the server type)"},
	"check.reason.dns":                   {IT: "impossibile connettersi a %s (nome host inesistente)", EN: "cannot connect to %s (host name not found)"},
	"check.reason.unreachable":           {IT: "impossibile connettersi a %s (rete irraggiungibile)", EN: "cannot connect to %s (network unreachable)"},
	"check.reason.tls":                   {IT: "connessione sicura a %s non riuscita: controlla la porta e il tipo di server", EN: "secure connection to %s failed: check the port and the server type"},
	"check.reason.certificate":           {IT: "il certificato di %s non è verificabile (scaduto, autofirmato o per un altro nome): usa il nome host del certificato oppure attiva «accetta certificati autofirmati»", EN: "the certificate of %s cannot be verified (expired, self-signed or for another name): use the certificate's host name or turn on “accept self-signed certificates”"},
	"check.reason.no_starttls":           {IT: "%s non offre STARTTLS: scegli «Standard-no-SSL» se il server non supporta la cifratura", EN: "%s does not offer STARTTLS: choose “Standard-no-SSL” if the server has no encryption"},
	"check.reason.plain_refuse":          {IT: "%s rifiuta l'accesso senza cifratura: scegli «Standard-SSL»", EN: "%s refuses to log in without encryption: choose “Standard-SSL”"},
	"check.reason.protocol":              {IT: "risposta inattesa da %s: controlla che sia un server IMAP e il tipo di server scelto", EN: "unexpected answer from %s: check that it is an IMAP server and the server type chosen"},

	// The runs: why a mailbox failed or is retried (mailbox logs, Risorse, email).
	"run.internal":         {IT: "copia non riuscita per un errore interno: riprova più tardi o contatta l'assistenza", EN: "the copy failed because of an internal error: try again later or contact support"},
	"run.password_gone":    {IT: "la password remota non è più disponibile (cancellata dopo l'ultima copia): carica di nuovo il CSV", EN: "the remote password is no longer available (erased after the last run): upload the CSV again"},
	"run.dest_full":        {IT: "la casella di destinazione %s è piena (quota superata): libera spazio o aumenta la quota, poi usa «Riprova le caselle fallite»", EN: "the destination mailbox %s is full (over quota): free some space or raise the quota, then use “Retry failed mailboxes”"},
	"run.dest_unavailable": {IT: "il nostro server di posta non risponde: la copia riprenderà da sola", EN: "our mail server does not answer: the copy will resume by itself"},
	"run.interrupted":      {IT: "copia interrotta da un errore imprevisto", EN: "the copy was interrupted by an unexpected error"},
	"run.some_failed":      {IT: "%d messaggi o cartelle non copiati: vedi il log", EN: "%d messages or folders not copied: see the log"},
	"run.retrying":         {IT: "nuovo tentativo (%d di %d) tra %s", EN: "trying again (%d of %d) in %s"},
	"run.stalled":          {IT: "il vecchio server invia i messaggi troppo lentamente (meno di %s al secondo per %s): la copia riprenderà più tardi", EN: "the old server sends the messages too slowly (under %s a second for %s): the copy will resume later"},
	"run.time_budget":      {IT: "la copia della casella ha superato il tempo a disposizione per questa esecuzione (%s): il vecchio server è troppo lento; usa «Riprova le caselle fallite»", EN: "the copy of the mailbox went past the time it has for this run (%s): the old server is too slow; use “Retry failed mailboxes”"},
	"run.gave_up":          {IT: "copia interrotta e non ripresa dopo ripetuti tentativi: usa «Riprova le caselle fallite»", EN: "the copy was interrupted and not resumed after repeated attempts: use “Retry failed mailboxes”"},
}
