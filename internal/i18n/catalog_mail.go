package i18n

// mailCatalog holds the messages of the email sent when a run ends
// (internal/notify). Words match the panel's: a run is an "esecuzione",
// messages over the size limit are "oltre 30 MB", the logs are in "Risorse".
var mailCatalog = map[string]Message{
	// Subject: migration name, run number.
	"mail.subject.completed":             {IT: "Trasloco: migrazione «%s», esecuzione %d completata", EN: "Trasloco: migration “%s”, run %d completed"},
	"mail.subject.completed_with_errors": {IT: "Trasloco: migrazione «%s», esecuzione %d completata con errori", EN: "Trasloco: migration “%s”, run %d completed with errors"},

	// Opening, after the greeting: run number, migration name.
	"mail.greeting":                    {IT: "Buongiorno,", EN: "Hello,"},
	"mail.intro.completed":             {IT: "l'esecuzione %d della migrazione «%s» è terminata e tutte le caselle sono state copiate.", EN: "run %d of the migration “%s” has ended and every mailbox has been copied."},
	"mail.intro.completed_with_errors": {IT: "l'esecuzione %d della migrazione «%s» è terminata, ma non tutto è andato a buon fine: i dettagli sono qui sotto.", EN: "run %d of the migration “%s” has ended, but not everything went well: the details are below."},
	"mail.intro.completed_left":        {IT: "l'esecuzione %d della migrazione «%s» è terminata: le caselle sono state copiate, ma qualche messaggio è rimasto sul vecchio server (i dettagli sono qui sotto).", EN: "run %d of the migration “%s” has ended: the mailboxes have been copied, but some messages stayed on the old server (the details are below)."},
	"mail.run2.hint":                   {IT: "La seconda esecuzione ha copiato %s messaggi nuovi, arrivati sul vecchio server dopo la prima.", EN: "The second run copied %s new messages, which reached the old server after the first."},
	"mail.run2.none":                   {IT: "Nessun messaggio nuovo: dopo la prima esecuzione sul vecchio server non è arrivato nulla da copiare.", EN: "No new message: nothing reached the old server after the first run."},
	"mail.next_run":                    {IT: "La seconda esecuzione partirà il %s e copierà i messaggi arrivati nel frattempo. Ora cambia i record MX del dominio (l'impostazione DNS che dice quale server riceve la posta) perché puntino al nuovo server.", EN: "The second run starts on %s and copies the messages that arrive in the meantime. Now switch the domain's MX records (the DNS setting that says which server receives its mail) to the new server."},
	"mail.why":                         {IT: "La ricevi perché %s è l'indirizzo delle notifiche di %s.", EN: "You get it because %s is the notification address of %s."},
	"mail.sum.copied":                  {IT: "%s copiati", EN: "%s copied"},
	"mail.sum.copied.one":              {IT: "%s copiato", EN: "%s copied"},
	"mail.sum.new":                     {IT: "%s nuovi", EN: "%s new"},
	"mail.sum.new.one":                 {IT: "%s nuovo", EN: "%s new"},
	"mail.sum.no_new":                  {IT: "nessun messaggio nuovo", EN: "no new message"},
	"mail.sum.already_there":           {IT: "%s già presenti", EN: "%s already there"},
	"mail.sum.already_there.one":       {IT: "%s già presente", EN: "%s already there"},
	"mail.sum.too_large":               {IT: "%s oltre 30 MB", EN: "%s over 30 MB"},
	"mail.sum.failed":                  {IT: "%s non riusciti", EN: "%s failed"},
	"mail.sum.failed.one":              {IT: "%s non riuscito", EN: "%s failed"},
	"mail.sum.excluded":                {IT: "%s cartelle escluse", EN: "%s folders left out"},
	"mail.sum.excluded.one":            {IT: "%s cartella esclusa", EN: "%s folder left out"},

	// The facts of the run.
	"mail.field.migration": {IT: "Migrazione", EN: "Migration"},
	"mail.field.run":       {IT: "Esecuzione", EN: "Run"},
	"mail.field.status":    {IT: "Esito", EN: "Outcome"},
	"mail.field.started":   {IT: "Iniziata", EN: "Started"},
	"mail.field.ended":     {IT: "Terminata", EN: "Ended"},
	"mail.field.duration":  {IT: "Durata", EN: "Duration"},
	"mail.field.mailboxes": {IT: "Caselle", EN: "Mailboxes"},
	"mail.field.bytes":     {IT: "Dati copiati", EN: "Data copied"},

	// Statuses of the run and of each mailbox.
	"mail.status.completed":             {IT: "Completata", EN: "Completed"},
	"mail.status.completed_with_errors": {IT: "Completata con errori", EN: "Completed with errors"},
	"mail.status.failed":                {IT: "Non riuscita", EN: "Failed"},
	"mail.status.cancelled":             {IT: "Annullata", EN: "Cancelled"},

	// The table of mailboxes.
	"mail.col.mailbox":       {IT: "Casella", EN: "Mailbox"},
	"mail.col.outcome":       {IT: "Esito", EN: "Outcome"},
	"mail.col.copied":        {IT: "Copiati", EN: "Copied"},
	"mail.col.already_there": {IT: "Già presenti", EN: "Already there"},
	"mail.col.too_large":     {IT: "Oltre 30 MB", EN: "Over 30 MB"},
	"mail.col.failed":        {IT: "Non riusciti", EN: "Failed"},
	"mail.col.excluded":      {IT: "Cartelle escluse", EN: "Excluded folders"},
	"mail.col.error":         {IT: "Errore", EN: "Error"},
	"mail.errors.title":      {IT: "Errori:", EN: "Errors:"},
	"mail.excluded.hint":     {IT: "Il Cestino, la Posta indesiderata e le cartelle che non contengono posta o la ripetono (come Calendario e Contatti di Exchange, Importanti e Speciali di Gmail) non vengono mai copiati.", EN: "The Trash, the Junk folder and folders that hold no mail or repeat it (such as Exchange's Calendar and Contacts, Gmail's Important and Starred) are never copied."},

	// Messages over the size limit: how many (one, or more).
	"mail.too_large.one":   {IT: "1 messaggio non è stato copiato perché supera i 30 MB: è rimasto sul vecchio server e lo trovi elencato in Risorse.", EN: "1 message was not copied because it is over 30 MB: it is still on the old server and listed in Resources."},
	"mail.too_large.other": {IT: "%d messaggi non sono stati copiati perché superano i 30 MB: sono rimasti sul vecchio server e li trovi elencati in Risorse.", EN: "%d messages were not copied because they are over 30 MB: they are still on the old server and listed in Resources."},

	// The link to Risorse, and the close.
	"mail.resources":      {IT: "L'esito e il log di ogni casella, esecuzione per esecuzione, sono in Risorse:", EN: "The outcome and the log of every mailbox, run by run, are in Resources:"},
	"mail.resources.link": {IT: "Apri Risorse", EN: "Open Resources"},
	"mail.footer":         {IT: "Questo messaggio è stato inviato automaticamente da Trasloco per %s: non rispondere.", EN: "This message was sent automatically by Trasloco for %s: do not reply."},
}
