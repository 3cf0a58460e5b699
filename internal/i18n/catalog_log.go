package i18n

// logCatalog holds the events of a mailbox's log: what the copy engine
// (internal/transfer) and the mailbox worker (internal/jobs) tell the
// customer. The log stores a key and its arguments (Msg); the page, the
// download and the emails render them in the reader's language. Keys are
// log.<area>.<what>. Counts are %s (grouped as by Int), UIDs %d, folder
// names %q; the server's own words are an argument, never translated.
var logCatalog = map[string]Message{
	// A text shown as it is (a reason the engine has no key for).
	"log.text": {IT: "%s", EN: "%s"},
	// A reason made of parts (internal/jobs/advice.go): what went wrong,
	// then what the server said, then what to do.
	"check.with_said":   {IT: "%s; %s", EN: "%s; %s"},
	"check.with_advice": {IT: "%s. %s", EN: "%s. %s"},

	// The run of one mailbox as a whole (internal/transfer/copy.go).
	"log.copy.connecting":  {IT: "connessione al vecchio server %s (%s) e al nostro server %s", EN: "connecting to the source %s (%s) and the destination %s"},
	"log.copy.logged_in":   {IT: "accesso riuscito su entrambi i server (vecchio server raggiunto all'indirizzo %s)", EN: "logged in on both sides (source reached at %s)"},
	"log.copy.time_budget": {IT: "fermata: la casella ha esaurito il tempo a disposizione per questa esecuzione (fino alle %s)", EN: "stopped: the mailbox used up its time budget for this run (until %s)"},
	"log.copy.finished":    {IT: "finito: %s cartelle, %s messaggi trovati, %s copiati, %s già presenti, %s troppo grandi, %s spariti dal vecchio server, %s non riusciti, %s aggiornamenti dei flag", EN: "finished: %s folders, %s messages found, %s copied, %s already there, %s too large, %s gone from the source, %s failed, %s flag updates"},

	// Folders copied at once (internal/transfer/lanes.go).
	"log.copy.lanes":           {IT: "%s cartelle alla volta (%s da copiare), ognuna con connessioni proprie su entrambi i server", EN: "%s folders at a time (%s to copy), each with connections of its own on both sides"},
	"log.copy.lane_not_opened": {IT: "connessioni per la copia parallela n. %d non aperte (%s): le sue cartelle vanno alle altre", EN: "connections of lane %d not opened (%s): the other lanes take its folders"},

	// Connections (internal/transfer/conns.go, conn.go).
	"log.conn.endpoint":              {IT: "%s su %s", EN: "%s at %s"},
	"log.conn.endpoint_master":       {IT: "%s (come %s) su %s", EN: "%s (as %s) at %s"},
	"log.conn.source_note":           {IT: "vecchio server: %s", EN: "source: %s"},
	"log.conn.dest_note":             {IT: "nostro server: %s", EN: "destination: %s"},
	"log.conn.no_starttls":           {IT: "il server non offre STARTTLS: connessione senza cifratura, come Standard-no-SSL consente", EN: "the server does not offer STARTTLS: connecting without encryption, as Standard-no-SSL allows"},
	"log.conn.unverified_no_ssl":     {IT: "il certificato del server non è verificabile; accettato perché è stato scelto Standard-no-SSL", EN: "the server's certificate could not be verified; accepted because Standard-no-SSL was chosen"},
	"log.conn.unverified_off":        {IT: "il certificato del server non è verificabile; accettato perché la verifica dei certificati è stata disattivata", EN: "the server's certificate could not be verified; accepted because certificate verification was turned off"},
	"log.conn.extra_dest_refused":    {IT: "connessione aggiuntiva al nostro server rifiutata (%s): si prosegue con %s", EN: "extra destination connection refused (%s): going on with %s"},
	"log.conn.pipe_not_opened":       {IT: "connessione in pipeline al nostro server non aperta (%s): si prosegue con %s", EN: "pipelined destination connection not opened (%s): going on with %s"},
	"log.conn.lost":                  {IT: "connessione persa (%s): nuova connessione tra %s (tentativo %d di %d)", EN: "connection lost (%s): reconnecting in %s (attempt %d of %d)"},
	"log.conn.reconnect_failed":      {IT: "nuova connessione non riuscita: %s", EN: "reconnect failed: %s"},
	"log.conn.broke_fetch":           {IT: "la connessione si è interrotta durante un FETCH (%s): nuova connessione", EN: "the connection broke during a FETCH (%s): reconnecting"},
	"log.conn.broke_message":         {IT: "la connessione si è interrotta mentre il vecchio server inviava l'UID %d (%s): nuova connessione", EN: "the connection broke while the source was sending UID %d (%s): reconnecting"},
	"log.conn.destination_full":      {IT: "la casella di destinazione è piena: %s", EN: "the destination mailbox is full: %s"},
	"log.folder.excluded":            {IT: "cartella non copiata: %s", EN: "folder not copied: %s"},
	"log.folder.excluded.trash":      {IT: "cestino", EN: "trash"},
	"log.folder.excluded.junk":       {IT: "posta indesiderata", EN: "spam/junk"},
	"log.folder.excluded.noselect":   {IT: "non selezionabile", EN: "not selectable"},
	"log.folder.excluded.virtual":    {IT: "cartella virtuale (Gmail)", EN: "virtual folder (Gmail)"},
	"log.folder.excluded.non_mail":   {IT: "non è una cartella di posta", EN: "not a mail folder"},
	"log.folder.excluded.shared":     {IT: "cartella condivisa o pubblica", EN: "shared or public folder"},
	"log.folder.excluded.in_skipped": {IT: "dentro una cartella esclusa", EN: "inside an excluded folder"},
	"log.folder.not_copied":          {IT: "cartella non copiata: %s", EN: "folder not copied: %s"},
	"log.folder.created":             {IT: "creata la cartella di destinazione %q", EN: "created destination folder %q"},
	"log.folder.would_copy":          {IT: "copierebbe %s di %s messaggi in %q", EN: "would copy %s of %s messages into %q"},
	"log.folder.done":                {IT: "cartella copiata in %q: %s messaggi, %s copiati, %s già presenti, %s troppo grandi, %s spariti dal vecchio server, %s non riusciti", EN: "folder done into %q: %s messages, %s copied, %s already there, %s too large, %s gone from the source, %s failed"},
	"log.folder.uidvalidity":         {IT: "il checkpoint non corrisponde più alle cartelle (UIDVALIDITY cambiato): i messaggi già copiati si riconoscono dal Message-ID", EN: "the checkpoint no longer matches the folders (UIDVALIDITY changed): recognising copied messages by Message-ID"},
	"log.folder.no_outcome":          {IT: "%s messaggi finiti senza esito (UID %s): contati come non riusciti", EN: "%s messages ended without an outcome (UIDs %s): counted as failed"},
	"log.flags.not_updated":          {IT: "flag di %s messaggi non aggiornati: %s", EN: "flags of %s messages not updated: %s"},
	"log.flags.updated":              {IT: "flag aggiornati su %s messaggi (quello che è cambiato sul vecchio server)", EN: "flags brought up to date on %s messages (what changed at the source)"},

	// Messages (internal/transfer/fetch.go, dedup.go, pipeline.go).
	"log.dedup.recognised":       {IT: "%s messaggi già presenti a destinazione (riconosciuti dal Message-ID): non copiati di nuovo", EN: "%s messages already at the destination (recognised by Message-ID): not copied again"},
	"log.dedup.all_mail":         {IT: "%s messaggi di Tutti i messaggi sono già copiati attraverso le loro etichette", EN: "%s messages of All Mail are copied through their labels already"},
	"log.message.too_large":      {IT: "messaggio UID %d non copiato: %s supera il limite di %s (da %q, oggetto %q, %s)", EN: "message UID %d not copied: %s is over the %s limit (from %q, subject %q, %s)"},
	"log.message.listed":         {IT: "messaggio UID %d elencato come non copiato (%s%s): da %q, oggetto %q, %s", EN: "message UID %d listed as not copied (%s%s): from %q, subject %q, %s"},
	"log.fetch.body_over_limit":  {IT: "il vecchio server ha inviato un corpo oltre il limite di dimensione in un FETCH di %s messaggi: li chiediamo uno alla volta", EN: "the source sent a body over the size limit in a FETCH of %s messages: fetching them one at a time"},
	"log.fetch.left_out":         {IT: "il vecchio server ha lasciato fuori dalla risposta %s di %s messaggi di un FETCH: li chiediamo uno alla volta", EN: "the source left out of its answer %s of %s messages of a FETCH: fetching them one at a time"},
	"log.fetch.refused":          {IT: "il vecchio server ha rifiutato (%s %s) %s di %s messaggi di un FETCH: li chiediamo uno alla volta", EN: "the source refused (%s %s) %s of %s messages of a FETCH: fetching them one at a time"},
	"log.message.source_refuses": {IT: "messaggio UID %d non copiato: il vecchio server si rifiuta di inviarlo (%s)", EN: "message UID %d not copied: the source refuses to send it (%s)"},
	"log.message.gone":           {IT: "il messaggio UID %d è stato cancellato sul vecchio server durante la copia", EN: "message UID %d was deleted at the source during the copy"},
	"log.message.not_delivered":  {IT: "messaggio UID %d non copiato: il vecchio server non l'ha consegnato, chiesto due volte", EN: "message UID %d not copied: the source did not deliver it, asked twice"},
	"log.message.broke_twice":    {IT: "messaggio UID %d non copiato: la connessione si è interrotta due volte mentre il vecchio server lo inviava (%s)", EN: "message UID %d not copied: the connection broke twice while the source was sending it (%s)"},
	"log.message.over_limit":     {IT: "messaggio UID %d non copiato: il vecchio server invia %s, oltre il limite di %s", EN: "message UID %d not copied: the source sends %s, over the %s limit"},
	"log.message.size_mismatch":  {IT: "messaggio UID %d non copiato: il vecchio server invia %d byte dove ne aveva dichiarati %d", EN: "message UID %d not copied: the source sends %d bytes where it declared %d"},
	"log.append.group_refused":   {IT: "il nostro server ha rifiutato un gruppo di %s messaggi: li aggiungiamo uno per uno", EN: "the destination refused a group of %s messages: appending them one by one"},
	"log.append.refused":         {IT: "messaggio UID %d (%s, %s) rifiutato dal nostro server: %s", EN: "message UID %d (%s, %s) refused by the destination: %s"},

	// The mailbox worker (internal/jobs).
	"log.run.attempt":         {IT: "tentativo %d: %s → %s", EN: "attempt %d: %s → %s"},
	"log.run.worker_stopping": {IT: "il worker si sta fermando: pausa, la copia riprenderà da dove si è fermata", EN: "the worker is stopping: pausing, the copy will go on where it stopped"},
	"log.run.slice_pause":     {IT: "pausa dopo %s, si riprende a breve", EN: "pausing after %s, going on shortly"},
	"log.run.interrupted":     {IT: "interrotta, la copia riprenderà da dove si è fermata", EN: "interrupted, the copy will resume where it stopped"},
	"log.run.retrying":        {IT: "%s — nuovo tentativo (%d di %d) tra %s", EN: "%s — trying again (%d of %d) in %s"},
	"log.run.ended":           {IT: "finita: %s", EN: "ended: %s"},
	"log.run.capped":          {IT: "log più lungo di %d righe: da qui in poi si tengono solo avvisi ed errori", EN: "log longer than %d lines: from here on only warnings and errors are kept"},
}
