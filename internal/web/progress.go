package web

import (
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// currentRun is the run whose progress the migration page follows: the
// one running, else the latest that has started; ok=false before any has.
func currentRun(runs []store.Run) (store.Run, bool) {
	var latest store.Run
	found := false
	for _, rn := range runs {
		if rn.Status == store.RunRunning {
			return rn, true
		}
		if rn.StartedAt != nil && (!found || rn.RunNo > latest.RunNo) {
			latest, found = rn, true
		}
	}
	return latest, found
}

func mailboxStatusLabel(l i18n.Lang, s store.MailboxStatus) string {
	return i18n.T(l, "web.mailbox."+string(s))
}

// progressView is the page's progress table of run rn: the totals of all
// its mailboxes (added up in SQL) and the rows of the page's mailboxes mbs
// (in line order).
func progressView(l i18n.Lang, rn store.Run, tot store.RunTotals, mbs []store.MailboxRun) *views.Progress {
	p := &views.Progress{
		RunNo:     rn.RunNo,
		Ended:     tot.Ended,
		Mailboxes: tot.Mailboxes,
		Total: views.ProgressRow{
			LocalUser: i18n.T(l, "web.progress.total"),
			Done:      tot.Done,
			Total:     tot.Total,
			Bytes:     i18n.Bytes(l, tot.Bytes),
		},
	}
	for _, mb := range mbs {
		p.Rows = append(p.Rows, views.ProgressRow{
			LocalUser:   mb.LocalUser,
			Status:      string(mb.Status),
			StatusLabel: mailboxStatusLabel(l, mb.Status),
			Done:        mb.Done,
			Total:       mb.Total,
			Bytes:       i18n.Bytes(l, mb.Bytes),
			Folder:      mb.CurrentFolder,
			Error:       mb.ErrorText,
		})
	}
	return p
}
