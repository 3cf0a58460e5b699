package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/csvimport"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
	"github.com/trasloco/trasloco/web/views"
)

// maxNameLen is the longest migration name accepted, in characters.
const maxNameLen = 200

// migrationCreate handles Nuova Migrazione: it checks the form and the CSV,
// stores the migration as validating with its lines (passwords sealed) and
// inserts the validation job in the same transaction, then sends the user
// to the migration's page, which follows the validation.
func (s *server) migrationCreate(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	f := s.newForm(r)
	// A tenant creates at most MigrationsPerHour migrations an hour: each
	// one makes the workers dial its lines.
	if n, err := store.CountMigrationsCreatedWithin(ctx, s.Pool, c.Tenant.ID, time.Hour); err != nil {
		s.serverError(w, r, err)
		return
	} else if n >= s.MigrationsPerHour {
		w.Header().Set("Retry-After", "3600")
		f.FormError = i18n.T(l, "web.new.rate_limited", s.MigrationsPerHour)
		s.renderForm(w, r, http.StatusTooManyRequests, f)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxCSVBytes+formOverhead)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		if isTooLarge(err) {
			f.FormError = i18n.T(l, "web.upload.too_large", megabytesText(s.MaxCSVBytes))
			s.renderForm(w, r, http.StatusRequestEntityTooLarge, f)
			return
		}
		f.FormError = i18n.T(l, "web.upload.bad_form")
		s.renderForm(w, r, http.StatusBadRequest, f)
		return
	}
	defer r.MultipartForm.RemoveAll()

	form := r.PostForm
	f.Name = strings.TrimSpace(form.Get("name"))
	f.Preset = form.Get("preset")
	f.FirstRunAt = strings.TrimSpace(form.Get("first_run_at"))
	f.SecondRunAt = strings.TrimSpace(form.Get("second_run_at"))
	f.InsecureTLS = form.Get("insecure_tls") != ""
	f.MasterUser = strings.TrimSpace(form.Get("master_user"))
	masterPassword := form.Get("master_password")

	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		f.Errors["name"] = i18n.T(l, "web.name.required")
	case n > maxNameLen:
		f.Errors["name"] = i18n.T(l, "web.name.too_long", maxNameLen)
	}
	preset, err := transfer.ParsePreset(f.Preset)
	if err != nil {
		f.Errors["preset"] = i18n.T(l, "web.preset.required")
	}
	switch {
	case f.MasterUser != "" && masterPassword == "":
		f.Errors["master_password"] = i18n.T(l, "web.master.password_required")
	case f.MasterUser == "" && masterPassword != "":
		f.Errors["master_user"] = i18n.T(l, "web.master.user_required")
	case masterUserProblem(preset, f.MasterUser):
		f.Errors["master_user"] = i18n.T(l, "web.master.exchange_form")
	}
	sc, schedErrs := parseSchedule(l, f.FirstRunAt, f.SecondRunAt, c.Loc, s.Now())
	for k, v := range schedErrs {
		f.Errors[k] = v
	}
	s.checkAhead(l, sc, f.Errors)
	file, _, err := r.FormFile("csv")
	switch {
	case errors.Is(err, http.ErrMissingFile):
		f.Errors["csv"] = i18n.T(l, "web.csv.required")
	case err != nil:
		s.serverError(w, r, err)
		return
	default:
		defer file.Close()
	}
	if len(f.Errors) > 0 {
		// The browser won't fill the file input again: say so.
		f.ChooseFileAgain = file != nil
		f.FormError = i18n.T(l, "web.form.has_errors")
		s.renderForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}

	res, problem, err := s.parseUpload(r, file, f.MasterUser != "" || s.oauthTakesEmptyPassword(preset))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if problem != "" {
		f.FileProblems, f.ChooseFileAgain = []string{problem}, true
		f.FormError = i18n.T(l, "web.form.has_errors")
		s.renderForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if probs := wholeFileRefused(l, res); len(probs) > 0 {
		// No line is usable: the file itself is wrong (another separator,
		// another format). It stays on the form rather than becoming a
		// migration that is red at once.
		f.FileProblems, f.ChooseFileAgain = probs, true
		f.FormError = i18n.T(l, "web.form.has_errors")
		s.renderForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	lines, fileProblems, err := s.newLines(c.Tenant.ID, res)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	nm := store.NewMigration{
		Name:        f.Name,
		Preset:      string(preset),
		Status:      store.MigrationValidating,
		InsecureTLS: f.InsecureTLS,
		MasterUser:  f.MasterUser,
		FirstRunAt:  sc.First,
		SecondRunAt: sc.Second,
		Error:       fileProblemsMsg(fileProblems),
		CreatedBy:   c.User.ID,
		Lines:       lines,
	}
	if f.MasterUser != "" {
		nm.MasterPasswordEnc, err = s.Box.Seal([]byte(masterPassword), jobs.MasterSecretAD(c.Tenant.ID, f.MasterUser))
		if err != nil {
			s.serverError(w, r, fmt.Errorf("seal master password: %w", err))
			return
		}
	}

	var m store.Migration
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if m, err = store.CreateMigration(ctx, tx, c.Tenant.ID, nm); err != nil {
			return err
		}
		if err := store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventCreated); err != nil {
			return err
		}
		_, err = s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil)
		return err
	})
	if err != nil {
		s.serverError(w, r, fmt.Errorf("create migration: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "migration created", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "lines", len(lines))
	s.audit(r, store.AuditMigrationCreated, m.ID, fmt.Sprintf("%q, %d", m.Name, len(lines)))
	if n := notesText(l, res); n != "" {
		s.flash(r, i18n.T(l, "web.new.created_with_notes", n), false)
	} else {
		s.flash(r, i18n.T(l, "web.new.created"), false)
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}

// maxFormProblems is how many line refusals a refused file lists on the form.
const maxFormProblems = 10

// wholeFileRefused returns the reasons to refuse the file as a whole when
// the parser accepted none of its lines and every refusal is about the
// shape of a line (not four fields, another separator): then the file is
// not in our format at all. nil otherwise.
// When every line has the same wrong separator, one sentence says so.
func wholeFileRefused(l i18n.Lang, res *csvimport.Result) []string {
	if len(res.Lines) > 0 || len(res.Problems) == 0 {
		return nil
	}
	for _, p := range res.Problems {
		if p.Code != "csv.fields" && p.Code != "csv.fields.separator" {
			return nil // a line's own problem (a field's value): shown on its line
		}
	}
	sameSep := true
	for _, p := range res.Problems {
		if p.Code != "csv.fields.separator" || fmt.Sprint(p.Args) != fmt.Sprint(res.Problems[0].Args) {
			sameSep = false
			break
		}
	}
	if sameSep {
		return []string{i18n.T(l, "web.csv.all_separator", res.Problems[0].Args...)}
	}
	var out []string
	for i, p := range res.Problems {
		if i == maxFormProblems {
			out = append(out, i18n.T(l, "web.migrations.more_problems", len(res.Problems)-i))
			break
		}
		out = append(out, p.Message(l))
	}
	return out
}

// checkAhead refuses a first run more than MaxScheduleAhead from now:
// the passwords are kept until the runs, not for years.
func (s *server) checkAhead(l i18n.Lang, sc schedule, errs map[string]string) {
	if !sc.First.IsZero() && sc.First.Sub(s.Now()) > s.MaxScheduleAhead {
		errs["first_run_at"] = i18n.T(l, "web.schedule.first_too_far", int(s.MaxScheduleAhead.Hours()/24))
	}
}

// megabytesText shows a size limit the way csvimport's messages do.
func megabytesText(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	return fmt.Sprintf("%d MB", (n+(1<<20)-1)>>20)
}
