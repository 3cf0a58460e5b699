// Package migrations holds trasloco's SQL schema, applied in order by
// internal/database. Files are named NNN_name.up.sql; a file, once
// released, is never edited: a change is a new file.
package migrations

import "embed"

// FS holds every NNN_name.up.sql file.
//
//go:embed *.sql
var FS embed.FS
