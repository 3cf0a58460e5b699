package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationDeleteConfirm asks before deleting a finished, cancelled or red
// migration, saying what goes with it.
func (s *server) migrationDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !m.Deletable() {
		s.flash(r, i18n.T(l, "web.delete.not_deletable"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	}
	s.renderConfirm(w, r, views.Confirm{
		Title: i18n.T(l, "web.delete.title", m.Name),
		Lines: []string{
			i18n.T(l, "web.delete.what", m.LineCount),
			i18n.T(l, "web.delete.mail_stays"),
			i18n.T(l, "web.confirm.no_undo"),
		},
		Action:      views.MigrationPath(m.ID) + "/delete",
		Button:      i18n.T(l, "web.delete.submit"),
		ButtonClass: "danger",
		BackURL:     views.MigrationPath(m.ID),
	})
}

// migrationDelete deletes a finished, cancelled or red migration with its
// lines, runs, logs, skipped messages, checkpoints and history, once
// confirmed. The mail copied stays in the mailboxes.
func (s *server) migrationDelete(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	if !s.confirmed(w, r, views.MigrationPath(m.ID)+"/delete") {
		return
	}
	err := store.DeleteMigration(ctx, s.Pool, c.Tenant.ID, m.ID)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, store.ErrWrongState):
		s.flash(r, i18n.T(l, "web.delete.not_deletable"), true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
		return
	default:
		s.serverError(w, r, err)
		return
	}
	// Its history went with it: the log keeps who did it.
	s.Logger.InfoContext(ctx, "migration deleted", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "user_id", c.User.ID, "operator", c.User.Operator, "status", m.Status, "lines", m.LineCount)
	s.audit(r, store.AuditMigrationDeleted, m.ID, fmt.Sprintf("%q, %d", m.Name, m.LineCount))
	s.flash(r, i18n.T(l, "web.delete.done", m.Name), false)
	http.Redirect(w, r, "/migrations", http.StatusSeeOther)
}
