package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// mailboxLog is the log of one mailbox in one run, readable in the page.
func (s *server) mailboxLog(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, mb, ok := s.loadMailboxRun(w, r)
	if !ok {
		return
	}
	logs, err := store.ListMailboxLogs(ctx, s.Pool, c.Tenant.ID, mb.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	path := views.MailboxLogPath(m.ID, mb.ID)
	d := views.MailboxLog{
		MigrationID:   m.ID,
		MigrationName: m.Name,
		RunNo:         mb.RunNo,
		LocalUser:     mb.LocalUser,
		Status:        string(mb.Status),
		StatusLabel:   mailboxStatusLabel(l, mb.Status),
		Error:         mb.Reason(l),
		Timezone:      i18n.Zone(l, c.Tenant.Timezone),
		TextPath:      path + ".txt",
		Lines:         make([]views.LogRow, 0, len(logs)),
	}
	for _, ln := range logs {
		d.Lines = append(d.Lines, views.LogRow{
			At:         formatLogTime(l, ln.At, c.Loc),
			Level:      ln.Level,
			LevelLabel: logLevelLabel(l, ln.Level),
			Folder:     ln.Folder,
			Message:    ln.Text(l),
		})
	}
	p := s.page(r, i18n.T(l, "web.log.title", mb.LocalUser, mb.RunNo))
	s.render(w, r, http.StatusOK, p, views.MailboxLogPage(p, d))
}

// loadMailboxRun reads the {id} and {mailboxRunID} of the URL: the mailbox
// run must belong to the signed-in tenant and to that migration. It
// answers 404 itself (and returns ok=false) otherwise.
func (s *server) loadMailboxRun(w http.ResponseWriter, r *http.Request) (store.Migration, store.MailboxRun, bool) {
	m, ok := s.loadMigration(w, r)
	if !ok {
		return store.Migration{}, store.MailboxRun{}, false
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "mailboxRunID"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return store.Migration{}, store.MailboxRun{}, false
	}
	mb, err := store.GetMailboxRun(r.Context(), s.Pool, me(r).Tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && mb.MigrationID != m.ID) {
		s.notFound(w, r)
		return store.Migration{}, store.MailboxRun{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return store.Migration{}, store.MailboxRun{}, false
	}
	return m, mb, true
}

func logLevelLabel(l i18n.Lang, level string) string {
	key := "web.log.level." + level
	if !i18n.Has(key) {
		return level
	}
	return i18n.T(l, key)
}
