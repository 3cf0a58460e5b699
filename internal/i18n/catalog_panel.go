package i18n

// panelCatalog holds the messages of the panel's lists, paging and the
// migration's life (change, start now, stop, delete, history).
var panelCatalog = map[string]Message{
	// Paging and filters.
	"web.pager.label":         {IT: "Pagine", EN: "Pages"},
	"web.pager.prev":          {IT: "← Precedente", EN: "← Previous"},
	"web.pager.next":          {IT: "Successiva →", EN: "Next →"},
	"web.pager.page":          {IT: "Pagina %d", EN: "Page %d"},
	"web.filter.search":       {IT: "Cerca", EN: "Search"},
	"web.filter.submit":       {IT: "Filtra", EN: "Filter"},
	"web.filter.any_status":   {IT: "Tutti", EN: "Any"},
	"web.filter.any_tenant":   {IT: "Tutti i clienti", EN: "Every customer"},
	"web.filter.none":         {IT: "Nessuna migrazione corrisponde alla ricerca.", EN: "No migration matches the search."},
	"web.filter.no_lines":     {IT: "Nessuna casella corrisponde alla ricerca.", EN: "No mailbox matches the search."},
	"web.filter.migrations":   {IT: "nome o indirizzo di una casella", EN: "name or a mailbox's address"},
	"web.filter.mailboxes":    {IT: "indirizzo della casella", EN: "mailbox address"},
	"web.detail.more_reasons": {IT: "…e altre %d righe con problemi: cercale nella tabella qui sotto.", EN: "…and %d more lines with problems: find them in the table below."},
	"web.resources.totals":    {IT: "Totale dell'esecuzione %d", EN: "Total of run %d"},

	// Confirmations.
	"web.confirm.back":    {IT: "No, torna indietro", EN: "No, go back"},
	"web.confirm.no_undo": {IT: "Non si può annullare.", EN: "This cannot be undone."},
	"web.cancel.title":    {IT: "Annullare «%s»?", EN: "Cancel “%s”?"},
	"web.cancel.what":     {IT: "La migrazione non partirà: le esecuzioni pianificate vengono tolte e nessuna posta viene copiata. Resta nell'elenco come annullata.", EN: "The migration will not run: its scheduled runs are removed and no mail is copied. It stays in the list as cancelled."},
	"web.cancel.submit":   {IT: "Sì, annulla la migrazione", EN: "Yes, cancel the migration"},

	// Delete.
	"web.delete.link":          {IT: "Elimina", EN: "Delete"},
	"web.delete.title":         {IT: "Eliminare «%s»?", EN: "Delete “%s”?"},
	"web.delete.what":          {IT: "Vengono eliminati la migrazione, le sue %d caselle, le esecuzioni, i log, l'elenco dei messaggi non copiati e la cronologia.", EN: "The migration, its %d mailboxes, runs, logs, list of messages not copied and history are deleted."},
	"web.delete.mail_stays":    {IT: "La posta già copiata resta nelle caselle di destinazione.", EN: "The mail already copied stays in the destination mailboxes."},
	"web.delete.submit":        {IT: "Sì, elimina", EN: "Yes, delete"},
	"web.delete.done":          {IT: "Migrazione «%s» eliminata.", EN: "Migration “%s” deleted."},
	"web.delete.not_deletable": {IT: "Si può eliminare solo una migrazione terminata, annullata o con problemi nel CSV: annullala o interrompila prima.", EN: "Only a migration that has ended, was cancelled or has problems in its CSV can be deleted: cancel or stop it first."},

	// Change.
	"web.edit.link":            {IT: "Modifica", EN: "Change"},
	"web.edit.title":           {IT: "Modifica «%s»", EN: "Change “%s”"},
	"web.edit.back":            {IT: "Torna alla migrazione", EN: "Back to the migration"},
	"web.edit.submit":          {IT: "Salva le modifiche", EN: "Save the changes"},
	"web.edit.revalidate_hint": {IT: "Se cambi il tipo di server, i certificati accettati o il Master User, ogni casella viene verificata di nuovo prima di pianificare.", EN: "If you change the server type, the certificates accepted or the Master User, every mailbox is checked again before scheduling."},
	"web.edit.second_run_hint": {IT: "Lascia vuoto per non avere la seconda esecuzione; al massimo 23 ore dopo la prima.", EN: "Leave empty for no second run; at most 23 hours after the first."},
	"web.edit.master_hint":     {IT: "Lascia vuota la password per tenere quella già data (se il Master User non cambia).", EN: "Leave the password empty to keep the one already given (if the Master User does not change)."},
	"web.edit.time_passed":     {IT: "L'orario della prima esecuzione (%s) è già passato: scegline uno nuovo. La migrazione non parte da sola a un orario passato.", EN: "The time of the first run (%s) has passed: choose a new one. The migration never starts by itself at a time gone by."},
	"web.edit.not_changeable":  {IT: "La migrazione non si può più modificare: è in verifica, è iniziata o è terminata.", EN: "The migration can no longer be changed: it is being checked, has started or has ended."},
	"web.edit.unchanged":       {IT: "Nessuna modifica.", EN: "Nothing changed."},
	"web.edit.done":            {IT: "Modifiche salvate.", EN: "Changes saved."},
	"web.edit.done_revalidate": {IT: "Modifiche salvate: verifichiamo di nuovo le caselle prima di pianificare.", EN: "Changes saved: we are checking the mailboxes again before scheduling."},
	"web.edit.time_passed_red": {IT: "L'orario della prima esecuzione (%s) è passato mentre verificavamo le caselle: la migrazione non è partita. Scegli un nuovo orario con «Modifica».", EN: "The time of the first run (%s) passed while we were checking the mailboxes: the migration has not started. Choose a new time with “Change”."},
	"web.replace.time_passed":  {IT: "L'orario della prima esecuzione (%s) è già passato: scegline uno nuovo con «Modifica» prima di caricare il CSV corretto, così la migrazione non parte subito senza chiedertelo.", EN: "The time of the first run (%s) has passed: choose a new one with “Change” before uploading the corrected CSV, so that the migration does not start at once without asking."},

	// Start now.
	"web.start.submit":         {IT: "Avvia ora", EN: "Start now"},
	"web.start.done":           {IT: "La prima esecuzione parte ora.", EN: "The first run starts now."},
	"web.start.second_too_far": {IT: "La seconda esecuzione sarebbe più di 23 ore dopo: spostala o toglila con «Modifica», poi avvia.", EN: "The second run would be more than 23 hours later: move or remove it with “Change”, then start."},
	"web.start.not_scheduled":  {IT: "Si può avviare ora solo una migrazione pianificata che non è ancora partita.", EN: "Only a scheduled migration that has not started can be started now."},

	// Stop.
	"web.stop.link": {IT: "Interrompi", EN: "Stop"},

	// Mailboxes added and removed.
	"web.lines.add_title":     {IT: "Aggiungi caselle", EN: "Add mailboxes"},
	"web.lines.add_hint":      {IT: "Un CSV con le caselle da aggiungere, nello stesso formato; vengono verificate prima di pianificare di nuovo.", EN: "A CSV of the mailboxes to add, in the same format; they are checked before scheduling again."},
	"web.lines.add_submit":    {IT: "Aggiungi e verifica", EN: "Add and check"},
	"web.lines.added":         {IT: "%d caselle aggiunte: le verifichiamo.", EN: "%d mailboxes added: we are checking them."},
	"web.lines.already_there": {IT: "la casella %s è già in questa migrazione", EN: "the mailbox %s is already in this migration"},
	"web.lines.remove":        {IT: "Togli", EN: "Remove"},
	"web.lines.remove_label":  {IT: "Togli %s dalla migrazione", EN: "Remove %s from the migration"},
	"web.lines.removed":       {IT: "Riga %d (%s) tolta dalla migrazione.", EN: "Line %d (%s) removed from the migration."},
	"web.lines.last":          {IT: "È l'unica casella: annulla o elimina la migrazione invece.", EN: "It is the only mailbox: cancel or delete the migration instead."},

	// History.
	"web.history.title":                 {IT: "Cronologia", EN: "History"},
	"web.history.when":                  {IT: "Quando", EN: "When"},
	"web.history.who":                   {IT: "Chi", EN: "Who"},
	"web.history.what":                  {IT: "Cosa", EN: "What"},
	"web.history.system":                {IT: "Trasloco", EN: "Trasloco"},
	"web.history.operator":              {IT: "%s (operatore)", EN: "%s (operator)"},
	"web.history.created":               {IT: "Ha creato la migrazione", EN: "Created the migration"},
	"web.history.edited":                {IT: "Ha modificato: %s", EN: "Changed: %s"},
	"web.history.lines_replaced":        {IT: "Ha caricato un CSV corretto (%s righe)", EN: "Uploaded a corrected CSV (%s lines)"},
	"web.history.lines_added":           {IT: "Ha aggiunto %s caselle", EN: "Added %s mailboxes"},
	"web.history.line_removed":          {IT: "Ha tolto la riga %s (%s)", EN: "Removed line %s (%s)"},
	"web.history.started_now":           {IT: "Ha avviato la prima esecuzione subito", EN: "Started the first run at once"},
	"web.history.cancelled":             {IT: "Ha annullato la migrazione", EN: "Cancelled the migration"},
	"web.history.stopped":               {IT: "Ha interrotto l'esecuzione in corso", EN: "Stopped the running run"},
	"web.history.retried":               {IT: "Ha riprovato le caselle fallite dell'esecuzione %s", EN: "Retried the failed mailboxes of run %s"},
	"web.history.revalidated":           {IT: "Verifica ripetuta", EN: "Checked again"},
	"web.history.field.name":            {IT: "nome", EN: "name"},
	"web.history.field.preset":          {IT: "tipo di server", EN: "server type"},
	"web.history.field.insecure_tls":    {IT: "certificati accettati", EN: "certificates accepted"},
	"web.history.field.master_user":     {IT: "Master User", EN: "Master User"},
	"web.history.field.master_password": {IT: "password del Master User", EN: "Master User password"},
	"web.history.field.first_run_at":    {IT: "prima esecuzione", EN: "first run"},
	"web.history.field.second_run_at":   {IT: "seconda esecuzione", EN: "second run"},
}
