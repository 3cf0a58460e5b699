// Package web holds the panel's presentation: the templ views (web/views)
// and the static assets embedded into the binary.
package web

import "embed"

// Static holds web/static: the stylesheet and the small status script. Serve
// it under /static/ with http.FileServerFS(fs.Sub(Static, "static")).
//
//go:embed static
var Static embed.FS
