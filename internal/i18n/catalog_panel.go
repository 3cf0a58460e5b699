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
}
