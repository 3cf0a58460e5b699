package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

// deleteRunJobs deletes the River jobs that would start runs, in tx; a job
// already running means its run has started: errRunStarted, and the caller
// rolls back.
func (s *server) deleteRunJobs(ctx context.Context, tx pgx.Tx, ids []int64) error {
	for _, id := range ids {
		_, err := s.River.JobDeleteTx(ctx, tx, id)
		switch {
		case err == nil, errors.Is(err, river.ErrNotFound):
		case errors.Is(err, rivertype.ErrJobRunning):
			return errRunStarted
		default:
			return fmt.Errorf("delete river job %d: %w", id, err)
		}
	}
	return nil
}

// scheduleRunJob inserts the River job that starts run rn at `at` (at once
// when at is zero) and records it on the run, in tx.
func (s *server) scheduleRunJob(ctx context.Context, tx pgx.Tx, tenantID int64, rn store.Run, at time.Time) error {
	var opts *river.InsertOpts
	if !at.IsZero() {
		opts = &river.InsertOpts{ScheduledAt: at}
	}
	res, err := s.River.InsertTx(ctx, tx, jobs.RunArgs{TenantID: tenantID, RunID: rn.ID}, opts)
	if err != nil {
		return fmt.Errorf("insert run %d job: %w", rn.RunNo, err)
	}
	if at.IsZero() {
		at = s.Now()
	}
	return store.RescheduleRun(ctx, tx, tenantID, rn.ID, at, res.Job.ID)
}

// moveRun moves a run that has not started to `at`: its old job goes, a
// new one comes, in tx.
func (s *server) moveRun(ctx context.Context, tx pgx.Tx, tenantID int64, rn store.Run, at time.Time) error {
	if rn.RiverJobID != 0 {
		if err := s.deleteRunJobs(ctx, tx, []int64{rn.RiverJobID}); err != nil {
			return err
		}
	}
	return s.scheduleRunJob(ctx, tx, tenantID, rn, at)
}

// actor is who is signed in, for a migration's history.
func actor(c *current) store.Actor {
	return store.Actor{UserID: c.User.ID, Email: c.User.Email, Operator: c.User.Operator}
}
