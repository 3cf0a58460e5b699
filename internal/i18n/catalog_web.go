package i18n

// webCatalog holds the web layer's messages (pages, forms, buttons). The web
// layer owns this file; CSV and validation messages are in catalog_csv.go.
var webCatalog = map[string]Message{}
