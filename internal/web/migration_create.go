package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

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
	}
	sc, schedErrs := parseSchedule(l, f.FirstRunAt, f.SecondRunAt, c.Loc, s.Now())
	for k, v := range schedErrs {
		f.Errors[k] = v
	}
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
	lines, fileProblems, err := s.newLines(l, c.Tenant.ID, res)
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
		ErrorText:   strings.Join(fileProblems, " "),
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
		_, err = s.River.InsertTx(ctx, tx, jobs.ValidateMigrationArgs{TenantID: c.Tenant.ID, MigrationID: m.ID}, nil)
		return err
	})
	if err != nil {
		s.serverError(w, r, fmt.Errorf("create migration: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "migration created", "request_id", requestID(r), "tenant_id", c.Tenant.ID,
		"migration_id", m.ID, "lines", len(lines))
	if n := notesText(l, res); n != "" {
		s.flash(r, i18n.T(l, "web.new.created_with_notes", n), false)
	} else {
		s.flash(r, i18n.T(l, "web.new.created"), false)
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}

// megabytesText shows a size limit the way csvimport's messages do.
func megabytesText(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
	return fmt.Sprintf("%d MiB", (n+(1<<20)-1)>>20)
}
