package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/store"
)

// Mailer sends a run's completion email; *notify.Mailer is one. messageID
// is the same for every attempt of one run's email, so that a resend after
// a crash is recognisably the same message.
type Mailer interface {
	Send(ctx context.Context, to string, r notify.RunReport, messageID string) error
}

// RunEmailArgs sends the email of a run that has ended. It is inserted by
// whoever ends the run, in that transaction, so there is one per end of a
// run however many workers there are.
type RunEmailArgs struct {
	TenantID int64 `json:"tenant_id" river:"unique"`
	RunID    int64 `json:"run_id" river:"unique"`
}

// Kind is the River job kind.
func (RunEmailArgs) Kind() string { return "run_email" }

// InsertOpts puts the job on QueueEmail, unique while live.
func (RunEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueEmail,
		MaxAttempts: runEmailAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// runEmailAttempts bounds the retries of an email the SMTP server refuses
// (River's back-off spreads them over about a day).
const runEmailAttempts = 12

// RunEmailWorker sends the completion email of a run.
type RunEmailWorker struct {
	river.WorkerDefaults[RunEmailArgs]
	d Deps
}

// NewRunEmailWorker returns the email worker.
func NewRunEmailWorker(d Deps) *RunEmailWorker { return &RunEmailWorker{d: d.withDefaults()} }

// Timeout bounds one attempt.
func (w *RunEmailWorker) Timeout(*river.Job[RunEmailArgs]) time.Duration { return 2 * time.Minute }

// Work sends the email unless it was sent already. The run row stays
// locked while sending, so two attempts cannot send it both; a crash
// between the send and the commit is the one case that sends it again
// (with the same Message-ID).
func (w *RunEmailWorker) Work(ctx context.Context, job *river.Job[RunEmailArgs]) error {
	a := job.Args
	d := w.d
	log := d.Logger.With("job_id", job.ID, "tenant_id", a.TenantID, "run_id", a.RunID, "attempt", job.Attempt)
	if d.Mailer == nil {
		return errors.New("run email: no mailer configured")
	}
	var sendErr error
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		r, err := store.LockRun(ctx, tx, a.TenantID, a.RunID)
		if err != nil {
			return err
		}
		log = log.With("migration_id", r.MigrationID)
		if r.EmailSentAt != nil {
			log.Info("run email: sent already")
			return nil
		}
		if r.Status != store.RunCompleted && r.Status != store.RunCompletedWithErrors && r.Status != store.RunCancelled {
			log.Info("run email: run has not ended, nothing to send", "status", r.Status)
			return nil
		}
		tenant, err := store.GetTenant(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		report, err := w.report(ctx, tx, tenant, r)
		if err != nil {
			return err
		}
		msgID := fmt.Sprintf("run-%d-%d-%d@trasloco", r.ID, r.RunNo, r.EndedAt.Unix())
		// Every notification address of the tenant, in one message.
		addrs, err := store.NotifyAddresses(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		to := strings.Join(addrs, ", ")
		report.Recipient = to // named in the footer
		sendErr = d.Mailer.Send(ctx, to, report, msgID)
		if sendErr != nil {
			return nil // recorded below, outside this transaction
		}
		log.Info("run email: sent", "to", to)
		return store.SetRunEmail(ctx, tx, a.TenantID, a.RunID, nil)
	})
	if err != nil {
		return fmt.Errorf("run email: %w", err)
	}
	if sendErr != nil {
		log.Warn("run email: not sent, will retry", "error", sendErr)
		if err := store.SetRunEmail(ctx, d.Pool, a.TenantID, a.RunID, sendErr); err != nil {
			return err
		}
		return sendErr
	}
	return nil
}

// report gathers what the email says.
func (w *RunEmailWorker) report(ctx context.Context, db store.DBTX, tenant store.Tenant, r store.Run) (notify.RunReport, error) {
	m, err := store.GetMigration(ctx, db, r.TenantID, r.MigrationID)
	if err != nil {
		return notify.RunReport{}, err
	}
	mbs, err := store.ListRunMailboxes(ctx, db, r.TenantID, r.ID)
	if err != nil {
		return notify.RunReport{}, err
	}
	loc, err := time.LoadLocation(tenant.Timezone)
	if err != nil {
		loc = time.UTC
	}
	rep := notify.RunReport{
		Lang:          tenant.Language,
		TenantName:    tenant.Name,
		MigrationID:   m.ID,
		MigrationName: m.Name,
		RunNo:         r.RunNo,
		Location:      loc,
		Status:        string(r.Status),
		ResourcesURL:  w.d.BaseURL.JoinPath("migrations", strconv.FormatInt(m.ID, 10), "resources").String(),
	}
	if r.RunNo == 1 && m.SecondRunAt != nil {
		rep.NextRunAt = m.SecondRunAt
	}
	if r.StartedAt != nil {
		rep.StartedAt = *r.StartedAt
	}
	if r.EndedAt != nil {
		rep.EndedAt = *r.EndedAt
	}
	for _, mb := range mbs {
		rep.Mailboxes = append(rep.Mailboxes, notify.MailboxOutcome{
			LocalUser:       mb.LocalUser,
			RemoteUser:      mb.RemoteUser,
			Status:          string(mb.Status),
			Copied:          mb.Copied,
			AlreadyThere:    mb.AlreadyThere,
			TooLarge:        mb.TooLarge,
			Failed:          mb.Failed,
			ExcludedFolders: mb.ExcludedFolders,
			Bytes:           mb.Bytes,
			Error:           mb.Reason(i18n.Parse(tenant.Language)),
			Verdict:         VerdictOf(mb),
		})
	}
	return rep, nil
}
