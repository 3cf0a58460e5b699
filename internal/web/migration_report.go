package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// The reports are CSV files for a spreadsheet: ';'-separated like the
// uploaded CSV, UTF-8 with a byte-order mark (Excel reads UTF-8 only with
// it), CRLF line ends, a header line in the reader's language, numbers as
// plain integers (bytes in bytes), times as "2006-01-02 15:04:05" in the
// tenant's time zone (named in the header). They are written as they are
// read, a page of rows at a time (store.EachReportMailbox), so a
// migration of any size is never held in memory whole.

// reportTime is how a report writes a time: what spreadsheets parse.
const reportTime = "2006-01-02 15:04:05"

// reportMailboxColumns are the message keys of the mailbox report's
// columns, in order ("web.report.col." + key).
var reportMailboxColumns = []string{"local", "remote", "run", "status", "folders", "found", "copied",
	"already_there", "too_large", "excluded", "failed", "verified", "bytes", "started", "ended", "reason"}

// reportMessageColumns are the message report's.
var reportMessageColumns = []string{"local", "run", "folder", "uid", "date", "sender", "subject", "size", "reason"}

// migrationReportMailboxes is the mailbox report: one row per mailbox and
// run of the migration (only run ?run=N's when given).
func (s *server) migrationReportMailboxes(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, runNo, ok := s.loadReport(w, r)
	if !ok {
		return
	}
	cw := startReport(w, reportName(m.ID, "mailboxes", runNo))
	zone := c.Tenant.Timezone
	_ = cw.Write(reportHeader(l, reportMailboxColumns, zone))
	err := store.EachReportMailbox(ctx, s.Pool, c.Tenant.ID, m.ID, runNo, func(mb store.MailboxRun) error {
		return cw.Write([]string{
			reportCell(mb.LocalUser),
			reportCell(mb.RemoteUser),
			strconv.Itoa(mb.RunNo),
			reportCell(mailboxStatusLabel(l, mb.Status)),
			strconv.Itoa(mb.Folders),
			strconv.Itoa(mb.Found),
			strconv.Itoa(mb.Copied),
			strconv.Itoa(mb.AlreadyThere),
			strconv.Itoa(mb.TooLarge),
			strconv.Itoa(mb.ExcludedFolders),
			strconv.Itoa(mb.Failed),
			reportOptionalInt(mb.Verdict.Verified), // empty while not verified
			strconv.FormatInt(mb.Bytes, 10),
			reportOptionalTime(mb.StartedAt, c.Loc),
			reportOptionalTime(mb.EndedAt, c.Loc),
			reportCell(mailboxReason(l, mb)),
		})
	})
	s.endReport(r, cw, err)
}

// migrationReportMessages is the message report: one row per message a
// run skipped (over the size limit) or failed to copy, with why.
func (s *server) migrationReportMessages(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, runNo, ok := s.loadReport(w, r)
	if !ok {
		return
	}
	cw := startReport(w, reportName(m.ID, "messages", runNo))
	_ = cw.Write(reportHeader(l, reportMessageColumns, c.Tenant.Timezone))
	err := store.EachReportSkipped(ctx, s.Pool, c.Tenant.ID, m.ID, runNo, func(sk store.ReportSkipped) error {
		return cw.Write([]string{
			reportCell(sk.LocalUser),
			strconv.Itoa(sk.RunNo),
			reportCell(sk.Folder),
			strconv.FormatUint(uint64(sk.UID), 10),
			reportOptionalTime(sk.Date, c.Loc),
			reportCell(sk.Sender),
			reportCell(sk.Subject),
			strconv.FormatInt(sk.Size, 10),
			reportCell(skippedReason(l, sk.Reason, sk.Detail)),
		})
	})
	s.endReport(r, cw, err)
}

// mailboxReason is why a mailbox run failed, in the reader's language: the
// one place the reports render it (a stored code and its arguments; a row
// stored as text before codes existed reads as stored).
func mailboxReason(l i18n.Lang, mb store.MailboxRun) string {
	return mb.Reason(l)
}

// loadReport finds the tenant's migration of the URL and the run of
// ?run=N (0 for all runs); another tenant's migration, or a run the
// migration does not have, is 404.
func (s *server) loadReport(w http.ResponseWriter, r *http.Request) (store.Migration, int, bool) {
	m, ok := s.loadMigration(w, r)
	if !ok {
		return store.Migration{}, 0, false
	}
	q := r.URL.Query().Get("run")
	if q == "" {
		return m, 0, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n <= 0 {
		s.notFound(w, r)
		return store.Migration{}, 0, false
	}
	runs, err := store.ListRuns(r.Context(), s.Pool, me(r).Tenant.ID, m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return store.Migration{}, 0, false
	}
	for _, rn := range runs {
		if rn.RunNo == n {
			return m, n, true
		}
	}
	s.notFound(w, r)
	return store.Migration{}, 0, false
}

func reportName(migrationID int64, what string, runNo int) string {
	if runNo > 0 {
		return fmt.Sprintf("trasloco-%d-run%d-%s.csv", migrationID, runNo, what)
	}
	return fmt.Sprintf("trasloco-%d-%s.csv", migrationID, what)
}

// startReport sends the headers of a CSV download and its byte-order mark,
// and returns the writer of its rows.
func startReport(w http.ResponseWriter, name string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(&flushWriter{w: w})
	cw.Comma = ';'
	cw.UseCRLF = true
	return cw
}

// endReport flushes the last rows. The status line is sent already: a
// failure half-way can only cut the file short, and is logged.
func (s *server) endReport(r *http.Request, cw *csv.Writer, err error) {
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "report cut short", "request_id", requestID(r), "path", r.URL.Path, "err", err)
	}
}

// flushWriter hands each buffer the CSV writer fills (4 KiB) to the client
// at once, so a long report streams instead of waiting in the response.
type flushWriter struct{ w http.ResponseWriter }

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

func reportHeader(l i18n.Lang, keys []string, zone string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		switch k {
		case "started", "ended", "date": // in the tenant's zone, named
			out[i] = i18n.T(l, "web.report.col."+k, zone)
		default:
			out[i] = i18n.T(l, "web.report.col."+k)
		}
	}
	return out
}

func reportOptionalInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func reportOptionalTime(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format(reportTime)
}

// reportCell defuses a text a spreadsheet would take for a formula (CSV or
// formula injection, OWASP): a cell that begins with = + - @, a tab or a
// carriage return, also after spaces or in the fullwidth forms ＝ ＋ － ＠
// (some spreadsheets skip the one and read the other as the ASCII sign),
// gets a leading apostrophe, which spreadsheets show as text and do not
// evaluate. Every text cell goes through it: folder names, senders and
// subjects come from the old server, addresses and reasons may carry its
// words. Numbers and times, written by us, never do.
func reportCell(s string) string {
	if strings.ContainsAny(s[:min(len(s), 1)], "\t\r") {
		return "'" + s
	}
	if r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace)); strings.ContainsRune("=+-@＝＋－＠", r) {
		return "'" + s
	}
	return s
}
