package web

import (
	"net/http"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// migrationResources is Risorse: every mailbox of the migration with its
// result in each run (counters, size, duration, the reason of a failure),
// links to its logs, and the messages over 30 MB that stayed on the old
// server, so the customer knows what to move by hand.
func (s *server) migrationResources(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	lines, err := store.ListLines(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mbs, err := store.ListMigrationMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	type lineRun struct {
		lineID int64
		runNo  int
	}
	byLineRun := make(map[lineRun]store.MailboxRun, len(mbs))
	for _, mb := range mbs {
		byLineRun[lineRun{mb.LineID, mb.RunNo}] = mb
	}

	d := views.Resources{
		MigrationID:   m.ID,
		MigrationName: m.Name,
		Timezone:      c.Tenant.Timezone,
		Started:       len(mbs) > 0,
	}
	for _, rn := range runs {
		d.Runs = append(d.Runs, views.ResourceRun{
			No:          rn.RunNo,
			Status:      string(rn.Status),
			StatusLabel: runStatusLabel(l, rn.Status),
			ScheduledAt: formatTime(l, rn.ScheduledAt, c.Loc),
			StartedAt:   optionalTime(l, rn.StartedAt, c.Loc),
			EndedAt:     optionalTime(l, rn.EndedAt, c.Loc),
		})
	}
	now := s.Now()
	for _, ln := range lines {
		if ln.Status != store.LineOK {
			continue // never copied: the migration page shows why
		}
		rm := views.ResourceMailbox{LineNo: ln.LineNo, LocalUser: ln.LocalUser}
		// A message still too large in run 2 is the one run 1 listed:
		// the customer sees it once.
		type folderUID struct {
			folder string
			uid    uint32
		}
		listed := map[folderUID]bool{}
		for _, rn := range runs {
			mb, ok := byLineRun[lineRun{ln.ID, rn.RunNo}]
			if !ok {
				row := views.MailboxRunRow{RunNo: rn.RunNo, StatusLabel: i18n.T(l, "web.mailbox.not_started")}
				if rn.Status == store.RunCancelled {
					row.StatusLabel = mailboxStatusLabel(l, store.MailboxCancelled)
				}
				rm.Runs = append(rm.Runs, row)
				continue
			}
			row := views.MailboxRunRow{
				ID:              mb.ID,
				RunNo:           mb.RunNo,
				Status:          string(mb.Status),
				StatusLabel:     mailboxStatusLabel(l, mb.Status),
				Copied:          mb.Copied,
				AlreadyThere:    mb.AlreadyThere,
				TooLarge:        mb.TooLarge,
				ExcludedFolders: mb.ExcludedFolders,
				Failed:          mb.Failed,
				Bytes:           i18n.Bytes(l, mb.Bytes),
				Error:           mb.ErrorText,
				LogPath:         views.MailboxLogPath(m.ID, mb.ID),
			}
			if mb.StartedAt != nil {
				row.Duration = i18n.Duration(mb.Duration(now))
			}
			rm.Runs = append(rm.Runs, row)
			// Only a mailbox that skipped something (or may be doing so
			// now) is looked up: one query per mailbox run would be
			// thousands on a large migration.
			if mb.TooLarge == 0 && mb.Failed == 0 && mb.Status != store.MailboxRunning {
				continue
			}
			skipped, err := store.ListSkippedMessages(ctx, s.Pool, c.Tenant.ID, mb.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			for _, sk := range skipped {
				k := folderUID{sk.Folder, sk.UID}
				if listed[k] {
					continue
				}
				listed[k] = true
				d.Skipped++
				row := views.SkippedRow{
					RunNo:   mb.RunNo,
					Folder:  sk.Folder,
					UID:     sk.UID,
					Reason:  skippedReason(l, sk.Reason, sk.Detail),
					Sender:  sk.Sender,
					Subject: sk.Subject,
					Size:    i18n.Bytes(l, sk.Size),
				}
				if sk.Date != nil {
					row.Date = formatTime(l, *sk.Date, c.Loc)
				}
				rm.Skipped = append(rm.Skipped, row)
			}
		}
		d.Mailboxes = append(d.Mailboxes, rm)
	}
	p := s.page(r, i18n.T(l, "web.resources.title"))
	s.render(w, r, http.StatusOK, p, views.ResourcesPage(p, d))
}

// skippedReason is why a message was not copied, in the reader's language.
func skippedReason(l i18n.Lang, code, detail string) string {
	key := "web.resources.reason." + code
	if !i18n.Has(key) {
		key = "web.resources.reason.other"
	}
	if detail == "" || code == "too_large" {
		return i18n.T(l, key)
	}
	return i18n.T(l, key) + " (" + detail + ")"
}
