// Package notify writes and sends the email a tenant gets when a run of a
// migration has ended: what was copied, mailbox by mailbox, what was not and
// why, and the link to Risorse. Compose is pure; Mailer sends through SMTP
// with go-mail.
package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"text/tabwriter"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/trasloco/trasloco/internal/i18n"
)

// Run and mailbox statuses, as the store names them.
const (
	StatusCompleted           = "completed"
	StatusCompletedWithErrors = "completed_with_errors"
	StatusFailed              = "failed"
	StatusCancelled           = "cancelled"
)

// RunReport is everything the email of an ended run says. It holds no
// password, and Compose shows nothing but these fields.
type RunReport struct {
	// Lang is the tenant's language: "en" for English, anything else
	// Italian.
	Lang       string
	TenantName string
	// MigrationID and MigrationName identify the migration.
	MigrationID   int64
	MigrationName string
	// RunNo is 1 for the first run, 2 for the second.
	RunNo              int
	StartedAt, EndedAt time.Time
	// Location is the tenant's time zone, in which times are shown.
	// Default UTC.
	Location *time.Location
	// Status is StatusCompleted or StatusCompletedWithErrors; anything
	// else is shown as with errors.
	Status string
	// Mailboxes are shown in this order.
	Mailboxes []MailboxOutcome
	// ResourcesURL is the absolute URL of the migration's Risorse page.
	ResourcesURL string
	// NextRunAt is when run 2 starts, after run 1 of a migration that has
	// one: the email then says so and reminds to switch the MX records.
	NextRunAt *time.Time
	// Recipient is the address the email goes to, named in its footer so
	// the reader knows why it reached them; "" leaves it out.
	Recipient string
}

// MailboxOutcome is how one mailbox fared in the run.
type MailboxOutcome struct {
	LocalUser, RemoteUser string
	// Status is StatusCompleted, StatusCompletedWithErrors, StatusFailed
	// or StatusCancelled.
	Status string
	// Message counts: copied now, found already on the destination,
	// skipped for being over the size limit, failed.
	Copied, AlreadyThere, TooLarge, Failed int
	// ExcludedFolders counts folders never copied (Trash, Junk, non-mail).
	ExcludedFolders int
	// Bytes is the size of the messages copied.
	Bytes int64
	// Error is the reason the mailbox failed or completed with errors, in
	// words the tenant can act on; empty otherwise.
	Error string
	// Verdict is what the verification after the copy found; its Verified
	// is nil when the mailbox was not verified.
	Verdict i18n.Verdict
}

// Compose returns the subject and the plain-text and HTML bodies of the
// email for r, in Italian, or in English when r.Lang is "en". Everything
// from r is escaped in the HTML.
func Compose(r RunReport) (subject, text, html string) {
	v := newView(r)
	var tb, hb bytes.Buffer
	// The templates are fixed and tested, and a bytes.Buffer does not fail:
	// an error here is a bug in this file.
	if err := textTmpl.Execute(&tb, v); err != nil {
		panic(fmt.Sprintf("notify: text template: %v", err))
	}
	if err := htmlTmpl.Execute(&hb, v); err != nil {
		panic(fmt.Sprintf("notify: html template: %v", err))
	}
	return v.Subject, tb.String(), hb.String()
}

// view is what the templates show, every string already in the language.
type view struct {
	Lang       string
	Subject    string
	Greeting   string
	Intro      string
	Run2Hint   string
	NextRun    string // run 2's time and the MX reminder, after run 1
	Facts      []fact
	Cols       []string
	Rows       []row
	Table      string // the rows aligned in columns, for the text body
	ErrorTitle string
	Errors     []row // rows with an error, for the text body
	// VerifyTitle heads the verdicts, one per verified mailbox (text body).
	VerifyTitle string
	Verdicts    []row
	Excluded    string
	TooLarge    string
	Resources   string
	LinkText    string
	URL         string
	Footer      string
	Why         string // why the reader gets this email
}

type fact struct{ Label, Value string }

type row struct {
	Mailbox, Outcome, Status string
	Numbers                  []string // copied, already there, too large, failed, excluded folders
	Summary                  string   // the numbers in words, for the HTML body
	Error                    string
	Verdict                  string // the verification's verdict in words; "" when none
	VerdictOK                bool
}

func newView(r RunReport) view {
	l := i18n.Italian
	if i18n.Parse(r.Lang) == i18n.English {
		l = i18n.English
	}
	t := func(key string, args ...any) string { return i18n.T(l, key, args...) }
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	status := StatusCompletedWithErrors
	switch r.Status {
	case StatusCompleted, StatusCancelled: // cancelled: stopped on request
		status = r.Status
	}
	name := oneLine(r.MigrationName)

	v := view{
		Lang:        string(l),
		Subject:     t("mail.subject."+status, name, r.RunNo),
		Greeting:    t("mail.greeting"),
		Intro:       t("mail.intro."+status, r.RunNo, name),
		ErrorTitle:  t("mail.errors.title"),
		VerifyTitle: t("verify.title"),
		Resources:   t("mail.resources"),
		LinkText:    t("mail.resources.link"),
		URL:         r.ResourcesURL,
		Footer:      t("mail.footer", oneLine(r.TenantName)),
		Cols: []string{
			t("mail.col.mailbox"), t("mail.col.outcome"), t("mail.col.copied"), t("mail.col.already_there"),
			t("mail.col.too_large"), t("mail.col.failed"), t("mail.col.excluded"), t("mail.col.error"),
		},
	}

	var tooLarge, excluded, copied int
	var bytes int64
	incomplete := false
	for _, m := range r.Mailboxes {
		ms := m.Status
		switch ms {
		case StatusCompleted, StatusCompletedWithErrors, StatusFailed, StatusCancelled:
		default:
			ms = StatusFailed
		}
		rw := row{
			Mailbox: oneLine(m.LocalUser),
			Outcome: t("mail.status." + ms),
			Status:  ms,
			Numbers: []string{
				formatInt(l, int64(m.Copied)), formatInt(l, int64(m.AlreadyThere)), formatInt(l, int64(m.TooLarge)),
				formatInt(l, int64(m.Failed)), formatInt(l, int64(m.ExcludedFolders)),
			},
			Error: oneLine(m.Error),
			// The same words as Risorse.
			Verdict:   i18n.VerdictText(l, m.Verdict),
			VerdictOK: m.Verdict.OK(),
		}
		if rw.Verdict != "" {
			v.Verdicts = append(v.Verdicts, rw)
		}
		rw.Summary = summary(l, r.RunNo, m)
		v.Rows = append(v.Rows, rw)
		if rw.Error != "" {
			v.Errors = append(v.Errors, rw)
		}
		tooLarge += m.TooLarge
		excluded += m.ExcludedFolders
		bytes += m.Bytes
		copied += m.Copied
		if m.Failed > 0 || m.Status != StatusCompleted {
			incomplete = true
		}
	}
	// "Every mailbox copied" only when it is true: nothing left behind.
	if status == StatusCompleted && (tooLarge > 0 || incomplete) {
		v.Intro = t("mail.intro.completed_left", r.RunNo, name)
	}
	if r.RunNo >= 2 {
		if copied == 0 {
			v.Run2Hint = t("mail.run2.none")
		} else {
			v.Run2Hint = t("mail.run2.hint", formatInt(l, int64(copied)))
		}
	}
	if r.NextRunAt != nil && r.RunNo == 1 {
		v.NextRun = t("mail.next_run", formatTime(l, *r.NextRunAt, loc))
	}
	if rc := oneLine(r.Recipient); rc != "" {
		v.Why = t("mail.why", rc, oneLine(r.TenantName))
	}

	v.Facts = []fact{
		{t("mail.field.migration"), name},
		{t("mail.field.run"), strconv.Itoa(r.RunNo)},
		{t("mail.field.status"), t("mail.status." + status)},
		{t("mail.field.started"), formatTime(l, r.StartedAt, loc)},
		{t("mail.field.ended"), formatTime(l, r.EndedAt, loc)},
	}
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		v.Facts = append(v.Facts, fact{t("mail.field.duration"), i18n.Duration(max(r.EndedAt.Sub(r.StartedAt), 0))})
	}
	v.Facts = append(v.Facts,
		fact{t("mail.field.mailboxes"), formatInt(l, int64(len(r.Mailboxes)))},
		fact{t("mail.field.bytes"), i18n.Bytes(l, bytes)},
	)

	switch {
	case tooLarge == 1:
		v.TooLarge = t("mail.too_large.one")
	case tooLarge > 1:
		v.TooLarge = t("mail.too_large.other", tooLarge)
	}
	if excluded > 0 {
		v.Excluded = t("mail.excluded.hint")
	}
	v.Table = textTable(v.Cols[:len(v.Cols)-1], v.Rows)
	return v
}

// summary is a mailbox's numbers in words: "1.234 copiati · 5 già
// presenti · 2 cartelle escluse"; run 2 says "nuovi".
func summary(l i18n.Lang, runNo int, m MailboxOutcome) string {
	t := func(key string, n int) string { return i18n.N(l, key, n) }
	var parts []string
	switch {
	case runNo >= 2 && m.Copied == 0:
		parts = append(parts, i18n.T(l, "mail.sum.no_new"))
	case runNo >= 2:
		parts = append(parts, t("mail.sum.new", m.Copied))
	default:
		parts = append(parts, t("mail.sum.copied", m.Copied))
	}
	if m.AlreadyThere > 0 {
		parts = append(parts, t("mail.sum.already_there", m.AlreadyThere))
	}
	if m.TooLarge > 0 {
		parts = append(parts, t("mail.sum.too_large", m.TooLarge))
	}
	if m.Failed > 0 {
		parts = append(parts, t("mail.sum.failed", m.Failed))
	}
	if m.ExcludedFolders > 0 {
		parts = append(parts, t("mail.sum.excluded", m.ExcludedFolders))
	}
	return strings.Join(parts, " · ")
}

// textTable aligns the rows in columns (without the error, which would make
// lines too long: the text body lists errors after the table).
func textTable(cols []string, rows []row) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(cols, "\t"))
	for _, r := range rows {
		fmt.Fprintln(w, r.Mailbox+"\t"+r.Outcome+"\t"+strings.Join(r.Numbers, "\t"))
	}
	_ = w.Flush() // a strings.Builder does not fail
	return strings.TrimRight(b.String(), "\n")
}

// oneLine replaces control characters (line breaks, tabs) with spaces, so
// a name cannot break a header, the text table or the layout.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// formatTime is a time in the tenant's zone, as the panel shows it:
// "02/01/2006 15:04 (ora italiana)", "2 Jan 2006 15:04 (Italian time)".
func formatTime(l i18n.Lang, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if l == i18n.English {
		return t.In(loc).Format("2 Jan 2006 15:04") + " (" + i18n.Zone(l, loc.String()) + ")"
	}
	return t.In(loc).Format("02/01/2006 15:04") + " (" + i18n.Zone(l, loc.String()) + ")"
}

// formatInt groups thousands: "12.345" in Italian, "12,345" in English.
func formatInt(l i18n.Lang, n int64) string { return i18n.Int(l, int(n)) }

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Greeting}}
{{.Intro}}
{{- with .Run2Hint}}
{{.}}{{end}}
{{- with .NextRun}}

{{.}}{{end}}

{{range .Facts}}{{.Label}}: {{.Value}}
{{end}}
{{.Table}}
{{- if .Errors}}

{{.ErrorTitle}}
{{range .Errors}}- {{.Mailbox}}: {{.Error}}
{{end}}{{else}}
{{end}}
{{- if .Verdicts}}
{{.VerifyTitle}}
{{range .Verdicts}}- {{.Mailbox}}: {{.Verdict}}
{{end}}{{end}}
{{- with .Excluded}}
{{.}}
{{end}}
{{- with .TooLarge}}
{{.}}
{{end}}
{{.Resources}}
{{.URL}}

-- 
{{.Footer}}
{{- with .Why}}
{{.}}{{end}}
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:12px;background:#f5f6f8;color:#1f2328;font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5">
<div style="max-width:680px;margin:0 auto;background:#ffffff;border:1px solid #d8dde3;border-radius:6px;padding:16px;overflow-wrap:break-word;word-wrap:break-word">
<p style="margin:0 0 12px">{{.Greeting}}</p>
<p style="margin:0 0 12px">{{.Intro}}</p>
{{- with .Run2Hint}}
<p style="margin:0 0 12px" data-testid="run2">{{.}}</p>
{{- end}}
{{- with .NextRun}}
<p style="margin:16px 0;padding:8px 12px;background:#e6f4f1;border-left:4px solid #0b6b75;border-radius:4px" data-testid="next-run"><strong>{{.}}</strong></p>
{{- end}}
<table role="presentation" style="border-collapse:collapse;margin:16px 0" data-testid="facts">
{{- range .Facts}}
<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0;font-weight:600">{{.Label}}</th><td style="padding:2px 0">{{.Value}}</td></tr>
{{- end}}
</table>
<table role="presentation" style="border-collapse:collapse;width:100%;font-size:14px" data-testid="mailboxes">
{{- range .Rows}}
<tr data-testid="mailbox">
<td style="padding:8px 0;border-top:1px solid #e6e9ed;word-break:break-all"><strong>{{.Mailbox}}</strong></td>
<td style="padding:8px 0 8px 8px;border-top:1px solid #e6e9ed;text-align:right;white-space:nowrap;color:{{if eq .Status "completed"}}#1a7f37{{else if eq .Status "cancelled"}}#57606a{{else}}#cf222e{{end}}">{{.Outcome}}</td>
</tr>
<tr data-testid="mailbox-detail">
<td colspan="2" style="padding:0 0 8px;color:#57606a">{{.Summary}}{{if .Verdict}}<br><span data-testid="verdict" style="color:{{if .VerdictOK}}#1a7f37{{else}}#cf222e{{end}}">{{.Verdict}}</span>{{end}}{{with .Error}}<br><span style="color:#cf222e">{{.}}</span>{{end}}</td>
</tr>
{{- end}}
</table>
{{- with .Excluded}}
<p style="margin:12px 0;color:#57606a;font-size:13px">{{.}}</p>
{{- end}}
{{- with .TooLarge}}
<p style="margin:16px 0;padding:8px 12px;background:#fff8c5;border:1px solid #d4a72c;border-radius:6px" data-testid="too-large">{{.}}</p>
{{- end}}
<p style="margin:16px 0 8px">{{.Resources}}</p>
<p style="margin:0 0 16px"><a href="{{.URL}}" style="color:#0969da" data-testid="resources">{{.LinkText}}</a></p>
<p style="margin:24px 0 0;color:#57606a;font-size:13px">{{.Footer}}{{with .Why}}<br><span data-testid="why">{{.}}</span>{{end}}</p>
</div>
</body>
</html>
`))
