package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Waking the jobs that wait for a slot.
//
// A mailbox job that finds its host, its tenant or its destination mailbox
// at the limit snoozes for Deps.Poll or longer (see waitAgain), and records
// in its River metadata what it waits for. A job that lets go of its locks
// makes the oldest job waiting for each of them due at once (River's
// JobRetry), so a freed slot is taken within River's fetch interval rather
// than after the waiter's poll; the poll stays, for waiters whose wake-up
// was lost (a worker killed, a woken job that found the slot taken by
// another). Waking never grants a slot: the woken job takes the advisory
// locks as any job does, so the caps hold across processes as before.

// waitsForKey is the metadata key of what a snoozed job waits for.
const waitsForKey = "trasloco_waits_for"

// transferFetchPoll is how often a process looks for transfer jobs made
// due without a notification (a woken waiter).
const transferFetchPoll = 250 * time.Millisecond

// transferFetchCooldown is the least time between two fetches of transfer
// jobs by one process (River's default is 100 ms).
const transferFetchCooldown = 10 * time.Millisecond

// waitRemote is what waits for a count of the remote host's caps (its
// host, its tenant or its account on that host: remoteCounts).
// The count's id separates its parts with NULs, which neither River's
// jsonb metadata nor a text parameter takes.
func waitRemote(c *remoteCount) string { return "remote:" + strings.ReplaceAll(c.id, "\x00", "|") }

func waitRemotes(counts []remoteCount) []string {
	out := make([]string, len(counts))
	for i := range counts {
		out[i] = waitRemote(&counts[i])
	}
	return out
}

func waitTenant(tenantID int64) string       { return fmt.Sprintf("tenant:%d", tenantID) }
func waitMailbox(localUser string) string    { return "mailbox:" + strings.ToLower(localUser) }
func waitValidation(tenantID int64) string   { return fmt.Sprintf("validate:%d", tenantID) }
func noWait(ctx context.Context)             { _ = river.MetadataSet(ctx, waitsForKey, "") }
func setWait(ctx context.Context, on string) { _ = river.MetadataSet(ctx, waitsForKey, on) }

// snoozeOn snoozes a mailbox job for its next poll, waiting for on.
func snoozeOn(ctx context.Context, job *river.Job[MailboxArgs], poll time.Duration, on string) error {
	setWait(ctx, on)
	return river.JobSnooze(waitAgain(job, poll))
}

// wakeWaiting makes the oldest job of kind waiting for each of keys due
// now. It is best effort: a failure leaves the waiters to their poll.
func wakeWaiting(ctx context.Context, d Deps, kind string, keys ...string) {
	if len(keys) == 0 {
		return
	}
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return // not under a River client (a test's direct Work)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rows, err := d.Pool.Query(ctx, `
		SELECT DISTINCT ON (metadata->>'`+waitsForKey+`') id FROM river_job
		WHERE kind = $1 AND state IN ('scheduled', 'available') AND scheduled_at > now()
			AND metadata->>'`+waitsForKey+`' = ANY($2)
		ORDER BY metadata->>'`+waitsForKey+`', id`, kind, keys)
	if err != nil {
		d.Logger.Debug("jobs: cannot look for waiting jobs", "error", err)
		return
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		d.Logger.Debug("jobs: cannot look for waiting jobs", "error", err)
		return
	}
	for _, id := range ids {
		if _, err := c.JobRetry(ctx, id); err != nil {
			d.Logger.Debug("jobs: cannot wake a waiting job", "job_id", id, "error", err)
		}
	}
}
