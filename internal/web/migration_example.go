package web

import (
	"net/http"
	"path"

	"github.com/trasloco/trasloco/web/views"
)

// migrationExample downloads the example CSV, as .csv or as .txt (some
// customers' systems only open one of the two).
func (s *server) migrationExample(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	ctype := "text/csv; charset=utf-8"
	if path.Ext(name) == ".txt" {
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="trasloco-esempio`+path.Ext(name)+`"`)
	_, _ = w.Write([]byte(views.ExampleCSV))
}
