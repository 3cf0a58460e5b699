package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// errSecondTooFar means run 2 would be more than 23 hours after a run 1
// started now.
var errSecondTooFar = errors.New("second run too far after now")

// migrationStartNow ("Avvia ora") starts run 1 of a blue migration at once:
// its time becomes now and its River job is replaced by one available now,
// in one transaction. Run 2 keeps its time, which must stay within 23
// hours of now (else the customer moves or removes it first).
func (s *server) migrationStartNow(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	m, ok := s.loadMigration(w, r)
	if !ok {
		return
	}
	now := s.Now()
	err := store.RetryTx(ctx, s.Pool, func(tx pgx.Tx) error {
		cur, err := store.LockMigration(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.MigrationScheduled {
			return store.ErrWrongState
		}
		runs, err := store.ListRuns(ctx, tx, c.Tenant.ID, m.ID)
		if err != nil {
			return err
		}
		if len(runs) == 0 || !store.NotStarted(runs) {
			return store.ErrWrongState
		}
		if cur.SecondRunAt != nil && cur.SecondRunAt.Sub(now) > store.MaxSecondRunDelay {
			return errSecondTooFar
		}
		st := store.MigrationSettings{Name: cur.Name, Preset: cur.Preset, InsecureTLS: cur.InsecureTLS, MasterUser: cur.MasterUser,
			MasterPasswordEnc: cur.MasterPasswordEnc, FirstRunAt: now, SecondRunAt: cur.SecondRunAt}
		if err := store.SetMigrationSettings(ctx, tx, c.Tenant.ID, m.ID, st); err != nil {
			return err
		}
		rn := runs[0]
		if rn.RiverJobID != 0 {
			if err := s.deleteRunJobs(ctx, tx, []int64{rn.RiverJobID}); err != nil {
				return err
			}
		}
		if err := s.scheduleRunJob(ctx, tx, c.Tenant.ID, rn, time.Time{}); err != nil {
			return err
		}
		return store.AddMigrationEvent(ctx, tx, c.Tenant.ID, m.ID, actor(c), store.EventStartedNow)
	})
	switch {
	case err == nil:
		s.Logger.InfoContext(ctx, "migration started now", "request_id", requestID(r), "tenant_id", c.Tenant.ID, "migration_id", m.ID, "user_id", c.User.ID)
		s.audit(r, store.AuditMigrationStarted, m.ID, "")
		s.flash(r, i18n.T(l, "web.start.done"), false)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, errSecondTooFar):
		s.flash(r, i18n.T(l, "web.start.second_too_far"), true)
	case errors.Is(err, store.ErrWrongState), errors.Is(err, errRunStarted):
		s.flash(r, i18n.T(l, "web.start.not_scheduled"), true)
	default:
		s.serverError(w, r, fmt.Errorf("start migration now: %w", err))
		return
	}
	http.Redirect(w, r, views.MigrationPath(m.ID), http.StatusSeeOther)
}
