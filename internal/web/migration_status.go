package web

import (
	"net/http"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// migrationStatusJSON is what the migration page's script polls.
type migrationStatusJSON struct {
	// Status is the migration's status as the page shows it: the store's,
	// or "between_runs" after run 1 while run 2 is to come.
	Status    string `json:"status"`
	Label     string `json:"label"`
	Detail    string `json:"detail,omitempty"`
	Validated int    `json:"validated"` // lines checked so far
	Total     int    `json:"total"`     // lines of the CSV
	Failed    int    `json:"failed"`    // lines that failed the check
	// Runs are the migration's runs, run 1 first; omitted before the
	// migration is scheduled.
	Runs []runStatusJSON `json:"runs,omitempty"`
	// CurrentRun is the run_no the mailboxes and totals belong to: the run
	// that is running, else the latest that started. The three are
	// omitted before any run has started.
	CurrentRun int                 `json:"current_run,omitempty"`
	Mailboxes  []mailboxStatusJSON `json:"mailboxes,omitempty"`
	Totals     *progressTotalsJSON `json:"totals,omitempty"`
}

// runStatusJSON is one run. Times are RFC 3339 in the tenant's time zone;
// started_at and ended_at are null until they happen.
type runStatusJSON struct {
	RunNo       int     `json:"run_no"`
	Status      string  `json:"status"`
	Label       string  `json:"label"`
	ScheduledAt string  `json:"scheduled_at"`
	StartedAt   *string `json:"started_at"`
	EndedAt     *string `json:"ended_at"`
}

// mailboxStatusJSON is one mailbox of the current run.
type mailboxStatusJSON struct {
	LineNo        int    `json:"line_no"`
	LocalUser     string `json:"local_user"`
	Status        string `json:"status"`
	Label         string `json:"label"`
	Done          int    `json:"done"`     // messages dealt with so far
	Total         int    `json:"total"`    // messages known so far, never below done
	AtLeast       bool   `json:"at_least"` // the total may still grow
	Percent       int    `json:"percent"`
	CountText     string `json:"count_text"`  // "12 di almeno 60 · 20%"
	DetailText    string `json:"detail_text"` // "12 copiati · 3 già presenti · 1,5 MB"
	RateText      string `json:"rate_text"`   // "1,5 MB/s · ancora almeno 2 min"
	Copied        int    `json:"copied"`
	AlreadyThere  int    `json:"already_there"`
	Bytes         int64  `json:"bytes"`
	BytesText     string `json:"bytes_text"`
	CurrentFolder string `json:"current_folder"`
	Error         string `json:"error"`
}

// progressTotalsJSON adds up the current run's mailboxes.
type progressTotalsJSON struct {
	Mailboxes  int    `json:"mailboxes"`
	Ended      int    `json:"ended"`
	Failed     int    `json:"failed"`
	Done       int    `json:"done"`
	Total      int    `json:"total"`
	AtLeast    bool   `json:"at_least"`
	Percent    int    `json:"percent"`
	CountText  string `json:"count_text"`
	DetailText string `json:"detail_text"`
	RateText   string `json:"rate_text"`
	Copied     int    `json:"copied"`
	Bytes      int64  `json:"bytes"`
	BytesText  string `json:"bytes_text"`
	Text       string `json:"text"` // "1 of 2 mailboxes done · 2 MB/s · about 1 min left"
}

// migrationStatus answers the migration's status, its validation progress,
// its runs, the totals of the current run and the progress of the mailboxes
// of the page the caller shows (?q= and ?page=, as on the migration page).
func (s *server) migrationStatus(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	runs, err := store.ListRuns(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	st := statusView(l, m, runs, c.Loc)
	out := migrationStatusJSON{
		Status:    st.Code,
		Label:     st.Label,
		Detail:    st.Detail,
		Validated: m.ValidatedCount,
		Total:     m.LineCount,
		Failed:    m.FailedCount,
	}
	for _, rn := range runs {
		out.Runs = append(out.Runs, runStatusJSON{
			RunNo:       rn.RunNo,
			Status:      string(rn.Status),
			Label:       runStatusLabel(l, rn.Status),
			ScheduledAt: rfc3339(rn.ScheduledAt, c.Loc),
			StartedAt:   optionalRFC3339(rn.StartedAt, c.Loc),
			EndedAt:     optionalRFC3339(rn.EndedAt, c.Loc),
		})
	}
	rn, ok := currentRun(runs)
	if !ok {
		s.writeJSON(w, http.StatusOK, out)
		return
	}
	out.CurrentRun = rn.RunNo
	// The totals of every mailbox, added up in SQL; the rows of the
	// mailboxes the page shows only (its ?q= and ?page=).
	q := readListQuery(r)
	page, err := store.ListLinesPage(ctx, s.Pool, c.Tenant.ID, m.ID, store.LineFilter{Query: q.Q, Paging: store.Paging{Page: q.Page, PerPage: mailboxesPerPage}})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	all, err := store.ListLinesMailboxes(ctx, s.Pool, c.Tenant.ID, m.ID, lineIDs(page.Lines))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	totals, err := store.MigrationRunTotals(ctx, s.Pool, c.Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	known := knownTotals(page.Lines)
	out.Mailboxes = make([]mailboxStatusJSON, 0, len(page.Lines))
	now := time.Now()
	for _, mb := range all {
		if mb.RunID != rn.ID {
			continue
		}
		f := mailboxFigures(l, rn.RunNo, mb, known, now)
		out.Mailboxes = append(out.Mailboxes, mailboxStatusJSON{
			LineNo:        mb.LineNo,
			LocalUser:     mb.LocalUser,
			Status:        string(mb.Status),
			Label:         mailboxStatusLabel(l, mb.Status),
			Done:          f.Done,
			Total:         f.Total,
			AtLeast:       f.AtLeast,
			Percent:       f.Percent,
			CountText:     f.Count,
			DetailText:    f.Detail,
			RateText:      f.Rate,
			Copied:        mb.Copied,
			AlreadyThere:  mb.AlreadyThere,
			Bytes:         mb.Bytes,
			BytesText:     i18n.Bytes(l, mb.Bytes),
			CurrentFolder: displayFolder(mb.CurrentFolder),
			Error:         mb.Reason(l),
		})
	}
	t := runTotals(totals[rn.ID])
	tf := totalFigures(l, rn.RunNo, t, now)
	out.Totals = &progressTotalsJSON{
		Mailboxes:  t.Mailboxes,
		Ended:      t.Ended,
		Failed:     t.Failed,
		Done:       tf.Done,
		Total:      tf.Total,
		AtLeast:    tf.AtLeast,
		Percent:    tf.Percent,
		CountText:  tf.Count,
		DetailText: tf.Detail,
		RateText:   tf.Rate,
		Copied:     t.Copied,
		Bytes:      t.Bytes,
		BytesText:  i18n.Bytes(l, t.Bytes),
		Text:       runSummary(l, t, tf),
	}
	s.writeJSON(w, http.StatusOK, out)
}

func rfc3339(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

func optionalRFC3339(t *time.Time, loc *time.Location) *string {
	if t == nil {
		return nil
	}
	v := rfc3339(*t, loc)
	return &v
}
