package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
)

// migrationStatusJSON is what the migration page's script polls.
type migrationStatusJSON struct {
	Status    string `json:"status"`
	Label     string `json:"label"`
	Validated int    `json:"validated"`
	Total     int    `json:"total"`
	Failed    int    `json:"failed"`
}

// migrationStatus answers the migration's status and validation progress.
func (s *server) migrationStatus(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	s.writeJSON(w, http.StatusOK, migrationStatusJSON{
		Status:    string(m.Status),
		Label:     i18n.T(lang(r), "web.status."+string(m.Status)),
		Validated: m.ValidatedCount,
		Total:     m.LineCount,
		Failed:    m.FailedCount,
	})
}
