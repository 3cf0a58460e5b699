package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// errNoPasswords refuses a run no mailbox could log in for.
var errNoPasswords = errors.New("no password kept")

// migrationRunAdd ("Aggiungi un'esecuzione") schedules another run after
// the last one of an ended migration, at a time in the future, to copy
// what arrived since. Its passwords are those still kept (failed
// mailboxes', the Master User's); when they are gone the customer uploads
// the CSV again with the form, and its passwords go on the same mailboxes.
// The run and its River job are written in one transaction.
func (s *server) migrationRunAdd(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	back := func(msg string) {
		s.flash(r, msg, true)
		http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxCSVBytes+formOverhead)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		back(i18n.T(l, "web.upload.bad_form"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	sc, errs := parseSchedule(l, r.PostFormValue("run_at"), "", c.Loc, s.Now())
	if msg := errs["first_run_at"]; msg != "" {
		back(msg)
		return
	}
	var pws []store.LinePassword
	if file, _, err := r.FormFile("csv"); err == nil {
		defer file.Close()
		res, problem, err := s.parseUpload(r, file, m.MasterUser != "")
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if problem != "" {
			back(problem)
			return
		}
		if len(res.Problems) > 0 {
			back(res.Problems[0].Message(l))
			return
		}
		for _, ln := range res.Lines {
			if ln.RemotePassword == "" {
				continue
			}
			enc, err := s.Box.Seal([]byte(ln.RemotePassword), jobs.LineSecretAD(c.Tenant.ID, ln.LocalUser, ln.RemoteHost, ln.RemoteUser))
			if err != nil {
				s.serverError(w, r, fmt.Errorf("seal line %d password: %w", ln.No, err))
				return
			}
			pws = append(pws, store.LinePassword{LocalUser: ln.LocalUser, RemoteHost: ln.RemoteHost, RemoteUser: ln.RemoteUser, RemotePasswordEnc: enc})
		}
	} else if !errors.Is(err, http.ErrMissingFile) {
		s.serverError(w, r, err)
		return
	}
	var rn store.Run
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := store.RefreshPasswords(ctx, tx, c.Tenant.ID, m.ID, pws); err != nil {
			return err
		}
		if n, err := store.UsableLines(ctx, tx, c.Tenant.ID, m.ID); err != nil {
			return err
		} else if n == 0 {
			return errNoPasswords
		}
		var err error
		if rn, err = store.AddRun(ctx, tx, c.Tenant.ID, m.ID, sc.First); err != nil {
			return err
		}
		if err := s.scheduleRunJob(ctx, tx, c.Tenant.ID, rn, sc.First); err != nil {
			return err
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventRunAdded, strconv.Itoa(rn.RunNo))
	})
	switch {
	case err == nil:
	case errors.Is(err, errNoPasswords):
		back(i18n.T(l, "web.addrun.no_passwords"))
		return
	case errors.Is(err, store.ErrWrongState):
		back(i18n.T(l, "web.addrun.not_ended"))
		return
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	default:
		s.serverError(w, r, fmt.Errorf("add run: %w", err))
		return
	}
	s.Logger.InfoContext(ctx, "run added", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "migration_id", m.ID,
		"run_no", rn.RunNo, "passwords_given", len(pws), "user_id", c.User.ID)
	s.audit(r, store.AuditRunAdded, m.ID, strconv.Itoa(rn.RunNo))
	s.flash(r, i18n.T(l, "web.addrun.done", rn.RunNo, strings.TrimSpace(formatTime(l, sc.First, c.Loc))), false)
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
