package i18n

// webCatalog holds the web layer's messages (pages, forms, buttons). The web
// layer owns this file; CSV and validation messages are in catalog_csv.go.
var webCatalog = map[string]Message{
	// Layout.
	"web.skip":         {IT: "Vai al contenuto", EN: "Skip to content"},
	"web.nav":          {IT: "Navigazione principale", EN: "Main navigation"},
	"web.logout":       {IT: "Esci", EN: "Sign out"},
	"web.back_to_list": {IT: "Torna alle migrazioni", EN: "Back to the migrations"},
	"web.times_in":     {IT: "Orari nel fuso %s.", EN: "Times in the %s time zone."},

	// Errors.
	"web.error.not_found":      {IT: "Pagina non trovata", EN: "Page not found"},
	"web.error.not_found_text": {IT: "Quello che cerchi non esiste o non appartiene al tuo account.", EN: "What you are looking for does not exist or does not belong to your account."},
	"web.error.server":         {IT: "Si è verificato un errore", EN: "Something went wrong"},
	"web.error.server_text":    {IT: "Non è colpa tua: riprova tra poco. Se il problema continua, comunica all'assistenza il codice %s.", EN: "It is not your fault: try again shortly. If it keeps happening, give support the code %s."},
	"web.error.cross_origin":   {IT: "Richiesta rifiutata: i moduli del pannello si inviano solo dal pannello stesso.", EN: "Request refused: the panel's forms can only be sent from the panel itself."},
	"web.error.signed_out":     {IT: "La sessione è scaduta: accedi di nuovo.", EN: "Your session has expired: sign in again."},

	// Login.
	"web.login.title":           {IT: "Accedi", EN: "Sign in"},
	"web.login.email":           {IT: "Email", EN: "Email"},
	"web.login.password":        {IT: "Password", EN: "Password"},
	"web.login.submit":          {IT: "Accedi", EN: "Sign in"},
	"web.login.bad_credentials": {IT: "Email o password errati.", EN: "Wrong email or password."},
	"web.login.disabled":        {IT: "Questo account è disabilitato: contatta l'assistenza.", EN: "This account is disabled: contact support."},
	"web.login.throttled":       {IT: "Troppi tentativi di accesso falliti: riprova tra %s.", EN: "Too many failed sign-in attempts: try again in %s."},
	"web.wait.seconds":          {IT: "%d secondi", EN: "%d seconds"},
	"web.wait.minutes":          {IT: "%d minuti", EN: "%d minutes"},

	// Migrazioni.
	"web.migrations.title":         {IT: "Migrazioni", EN: "Migrations"},
	"web.migrations.empty":         {IT: "Non hai ancora nessuna migrazione. Creane una con «Nuova Migrazione».", EN: "You have no migration yet. Create one with “New Migration”."},
	"web.migrations.mailboxes":     {IT: "Caselle", EN: "Mailboxes"},
	"web.migrations.status":        {IT: "Stato", EN: "Status"},
	"web.migrations.more_problems": {IT: "…e altri %d problemi.", EN: "…and %d more problems."},
	"web.migrations.fix":           {IT: "Apri la migrazione per correggere il CSV", EN: "Open the migration to correct the CSV"},

	// Statuses of migrations and runs.
	"web.status.validating":            {IT: "Verifica in corso", EN: "Validating"},
	"web.status.red":                   {IT: "Problemi nel CSV", EN: "Problems in the CSV"},
	"web.status.scheduled":             {IT: "Pianificata", EN: "Scheduled"},
	"web.status.running":               {IT: "In corso", EN: "Running"},
	"web.status.completed":             {IT: "Completata", EN: "Completed"},
	"web.status.completed_with_errors": {IT: "Completata con errori", EN: "Completed with errors"},
	"web.status.cancelled":             {IT: "Annullata", EN: "Cancelled"},
	"web.line.pending":                 {IT: "Da verificare", EN: "To be checked"},
	"web.line.ok":                      {IT: "OK", EN: "OK"},
	"web.line.failed":                  {IT: "Errore", EN: "Failed"},

	// Presets.
	"web.preset.standard-ssl":   {IT: "Standard-SSL (IMAP su TLS, porta 993)", EN: "Standard-SSL (IMAP over TLS, port 993)"},
	"web.preset.standard-nossl": {IT: "Standard-no-SSL (porta 143, STARTTLS se disponibile)", EN: "Standard-no-SSL (port 143, STARTTLS when offered)"},
	"web.preset.gmail":          {IT: "Gmail / Google Workspace", EN: "Gmail / Google Workspace"},
	"web.preset.exchange":       {IT: "Microsoft Exchange", EN: "Microsoft Exchange"},
	"web.preset.office365":      {IT: "Office 365 / Microsoft 365", EN: "Office 365 / Microsoft 365"},
	"web.preset.recommended":    {IT: "consigliato", EN: "recommended"},
	"web.preset.required":       {IT: "Scegli il tipo di server di provenienza.", EN: "Choose the type of the old server."},

	// Nuova Migrazione.
	"web.new.title":              {IT: "Nuova Migrazione", EN: "New Migration"},
	"web.new.submit":             {IT: "Verifica e pianifica", EN: "Check and schedule"},
	"web.new.created":            {IT: "Migrazione creata: stiamo verificando ogni riga del CSV.", EN: "Migration created: every line of the CSV is being checked."},
	"web.new.created_with_notes": {IT: "Migrazione creata: stiamo verificando ogni riga del CSV. Nota: %s", EN: "Migration created: every line of the CSV is being checked. Note: %s"},
	"web.form.has_errors":        {IT: "Controlla i campi segnalati qui sotto.", EN: "Check the fields marked below."},

	"web.field.name":                   {IT: "Nome", EN: "Name"},
	"web.field.preset":                 {IT: "Tipo di server di provenienza", EN: "Old server type"},
	"web.field.csv":                    {IT: "File CSV delle caselle", EN: "CSV file of the mailboxes"},
	"web.field.first_run_at":           {IT: "Prima esecuzione", EN: "First run"},
	"web.field.second_run_at":          {IT: "Seconda esecuzione", EN: "Second run"},
	"web.field.second_run_at_optional": {IT: "Seconda esecuzione (facoltativa)", EN: "Second run (optional)"},
	"web.field.insecure_tls":           {IT: "Accetta certificati autofirmati del vecchio server", EN: "Accept self-signed certificates of the old server"},
	"web.field.master":                 {IT: "Master User (facoltativo)", EN: "Master User (optional)"},
	"web.field.master_user":            {IT: "Master User", EN: "Master User"},
	"web.field.master_password":        {IT: "Password del Master User", EN: "Master User password"},

	"web.hint.name":          {IT: "Un nome per riconoscerla, es. «Ufficio Milano».", EN: "A name to recognise it by, e.g. “Milan office”."},
	"web.hint.csv":           {IT: "Al massimo %s e %d caselle.", EN: "At most %s and %d mailboxes."},
	"web.hint.first_run_at":  {IT: "Data e ora nel fuso %s; deve essere nel futuro.", EN: "Date and time in the %s time zone; it must be in the future."},
	"web.hint.second_run_at": {IT: "Copia ciò che è arrivato dopo la prima: al massimo 23 ore dopo. Cambia i record MX tra le due esecuzioni.", EN: "Copies what arrived after the first run: at most 23 hours later. Switch the MX records between the two runs."},
	"web.hint.insecure_tls":  {IT: "Lascialo spento se non sai che il vecchio server usa un certificato autofirmato.", EN: "Leave it off unless you know the old server uses a self-signed certificate."},
	"web.hint.master":        {IT: "Se non hai le password dei tuoi utenti: ogni riga accederà come Master User per conto del suo utente remoto, e nel CSV la password può mancare.", EN: "If you don't have your users' passwords: every line logs in as the Master User on behalf of its remote user, and the CSV's password may be left out."},

	"web.name.required":            {IT: "Dai un nome alla migrazione.", EN: "Give the migration a name."},
	"web.name.too_long":            {IT: "Il nome è troppo lungo: al massimo %d caratteri.", EN: "The name is too long: %d characters at most."},
	"web.master.password_required": {IT: "Con un Master User serve anche la sua password.", EN: "A Master User needs its password too."},
	"web.master.user_required":     {IT: "Hai indicato una password senza Master User: indica anche l'utente o cancella la password.", EN: "You gave a password without a Master User: give the user too or clear the password."},

	"web.schedule.first_required":      {IT: "Indica data e ora della prima esecuzione.", EN: "Give the date and time of the first run."},
	"web.schedule.bad_time":            {IT: "Data e ora non valide: usa il formato gg/mm/aaaa hh:mm.", EN: "Invalid date and time: use the date and time picker."},
	"web.schedule.no_such_time":        {IT: "Quest'ora non esiste quel giorno nel fuso %s (cambio dell'ora legale): scegline un'altra.", EN: "This time does not exist on that day in the %s time zone (daylight saving change): pick another."},
	"web.schedule.first_past":          {IT: "La prima esecuzione deve essere nel futuro.", EN: "The first run must be in the future."},
	"web.schedule.second_before_first": {IT: "La seconda esecuzione deve essere dopo la prima.", EN: "The second run must be after the first."},
	"web.schedule.second_too_late":     {IT: "La seconda esecuzione può essere al massimo 23 ore dopo la prima, cioè entro il %s.", EN: "The second run may be at most 23 hours after the first, that is by %s."},

	"web.csv.required":     {IT: "Scegli il file CSV delle caselle.", EN: "Choose the CSV file of the mailboxes."},
	"web.csv.choose_again": {IT: "Per sicurezza il browser non conserva il file: sceglilo di nuovo prima di inviare.", EN: "For safety the browser does not keep the file: choose it again before sending."},
	"web.upload.too_large": {IT: "Il file è troppo grande: al massimo %s. Dividi le caselle in più migrazioni.", EN: "The file is too large: %s at most. Split the mailboxes over several migrations."},
	"web.upload.bad_form":  {IT: "Il modulo non è arrivato completo: riprova.", EN: "The form did not arrive complete: try again."},

	// The CSV format beside the form.
	"web.csv.title":         {IT: "Formato del CSV", EN: "CSV format"},
	"web.csv.intro":         {IT: "Una casella per riga, quattro campi separati da punto e virgola, senza virgolette né intestazione:", EN: "One mailbox a line, four fields separated by semicolons, no quotes, no header:"},
	"web.csv.format":        {IT: "casella-locale@tuodominio;server-imap-remoto;utente-remoto;password-remota", EN: "local-mailbox@yourdomain;remote-imap-server;remote-user;remote-password"},
	"web.csv.rule.host":     {IT: "Il server remoto è un nome o un indirizzo IP, con la porta se non è quella standard (es. mail.example.com:993).", EN: "The remote server is a name or an IP address, with the port when it is not the standard one (e.g. mail.example.com:993)."},
	"web.csv.rule.password": {IT: "La password può contenere «;»: tutto ciò che segue il terzo «;» è la password.", EN: "The password may contain “;”: everything after the third “;” is the password."},
	"web.csv.rule.master":   {IT: "Con un Master User la password può restare vuota.", EN: "With a Master User the password may be left empty."},
	"web.csv.rule.kind":     {IT: "Il file va salvato come testo UTF-8 (anche «CSV UTF-8» di Excel); righe vuote e spazi attorno ai campi sono tollerati e segnalati.", EN: "Save the file as UTF-8 text (Excel's “CSV UTF-8” works); blank lines and spaces around fields are tolerated and reported."},
	"web.csv.example":       {IT: "Esempio:", EN: "Example:"},
	"web.csv.download_csv":  {IT: "Scarica l'esempio (.csv)", EN: "Download the example (.csv)"},
	"web.csv.download_txt":  {IT: "Scarica l'esempio (.txt)", EN: "Download the example (.txt)"},

	// The migration page.
	"web.detail.progress":       {IT: "Verifica", EN: "Checked"},
	"web.detail.no_second_run":  {IT: "nessuna", EN: "none"},
	"web.detail.insecure_tls":   {IT: "certificati autofirmati del vecchio server accettati", EN: "self-signed certificates of the old server accepted"},
	"web.detail.cancel":         {IT: "Annulla", EN: "Cancel"},
	"web.detail.cancel_hint":    {IT: "Annulla la migrazione e le esecuzioni pianificate.", EN: "Cancels the migration and its scheduled runs."},
	"web.detail.red_title":      {IT: "Righe con problemi: %d. Correggi il CSV e caricalo di nuovo.", EN: "Lines with problems: %d. Correct the CSV and upload it again."},
	"web.detail.replace_title":  {IT: "Carica il CSV corretto", EN: "Upload the corrected CSV"},
	"web.detail.replace_hint":   {IT: "Sostituisce tutte le righe; nome, tipo di server e orari restano quelli scelti.", EN: "Replaces every line; name, server type and times stay as chosen."},
	"web.detail.replace_submit": {IT: "Carica e verifica", EN: "Upload and check"},
	"web.detail.runs":           {IT: "Esecuzioni", EN: "Runs"},
	"web.detail.scheduled_at":   {IT: "Pianificata per", EN: "Scheduled for"},
	"web.detail.lines":          {IT: "Caselle (%d)", EN: "Mailboxes (%d)"},
	"web.detail.line":           {IT: "Riga", EN: "Line"},
	"web.detail.local_user":     {IT: "Casella locale", EN: "Local mailbox"},
	"web.detail.remote_host":    {IT: "Server remoto", EN: "Remote server"},
	"web.detail.remote_user":    {IT: "Utente remoto", EN: "Remote user"},
	"web.detail.pinned_addr":    {IT: "Indirizzo fissato", EN: "Pinned address"},
	"web.detail.result":         {IT: "Esito", EN: "Result"},

	"web.cancel.done":     {IT: "Migrazione annullata.", EN: "Migration cancelled."},
	"web.cancel.too_late": {IT: "La migrazione non si può più annullare: è già iniziata o terminata.", EN: "The migration can no longer be cancelled: it has already started or ended."},
	"web.replace.done":    {IT: "CSV sostituito: stiamo verificando ogni riga.", EN: "CSV replaced: every line is being checked."},
	"web.replace.not_red": {IT: "Si può caricare un CSV corretto solo per una migrazione con problemi nel CSV.", EN: "A corrected CSV can only be uploaded for a migration with problems in its CSV."},
}
