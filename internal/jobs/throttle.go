package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// Defaults of a throttled account's back-off (Deps.ThrottleWait,
// Deps.ThrottleMax).
const (
	DefaultThrottleWait = 2 * time.Minute
	DefaultThrottleMax  = time.Hour
	minThrottleWait     = time.Second
)

// throttleWait is how long an account waits after its server asked to
// slow down: the back-off it suggested, else ThrottleWait (ThrottleMax for
// a daily limit), at least a second and at most ThrottleMax.
func (d Deps) throttleWait(te *transfer.ThrottledError) time.Duration {
	w := te.Wait
	if w <= 0 {
		w = d.ThrottleWait
		if te.Daily {
			w = d.ThrottleMax
		}
	}
	return min(max(w, minThrottleWait), d.ThrottleMax)
}

// backOff records that the tenant's copies from the account wait for w,
// in every process; it returns when they may go on.
func (d Deps) backOff(ctx context.Context, tenantID int64, remoteHost, account string, w time.Duration) (time.Time, error) {
	until := d.Now().Add(w)
	return until, store.BackOffRemote(context.WithoutCancel(ctx), d.Pool, tenantID, hostKey(remoteHost), account, until)
}

// backedOff reports how long a mailbox of the tenant copied from account
// on remoteHost must still wait because its server asked to slow down;
// ok=false when it need not.
func (d Deps) backedOff(ctx context.Context, tenantID int64, remoteHost, account string) (wait time.Duration, ok bool, err error) {
	now := d.Now()
	until, ok, err := store.RemoteBackOff(ctx, d.Pool, tenantID, hostKey(remoteHost), account, now)
	if err != nil || !ok {
		return 0, false, err
	}
	return until.Sub(now), true, nil
}

// waitBackOff snoozes a mailbox job whose account is backed off; nil when
// it may go on.
func (w *MailboxWorker) waitBackOff(ctx context.Context, mb store.MailboxRun, log *slog.Logger) error {
	wait, ok, err := w.d.backedOff(ctx, mb.TenantID, mb.RemoteHost, mb.RemoteUser)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	log.Debug("mailbox: the source account is backed off, waiting", "wait", wait.Round(time.Millisecond))
	return river.JobSnooze(wait)
}

// throttled ends an attempt whose source asked to slow down: the account
// backs off (every mailbox of the tenant from it waits), the customer's
// log says so, and the mailbox goes on from its checkpoints once the wait
// is over. It does not count as a failure.
func (c *mailboxCopy) throttled(ctx context.Context, te *transfer.ThrottledError, rep *dbReporter) error {
	d := c.w.d
	wait := d.throttleWait(te)
	if _, err := d.backOff(ctx, c.mb.TenantID, c.mb.RemoteHost, c.mb.RemoteUser, wait); err != nil {
		return err
	}
	d.Metrics.BackOff()
	said := clip(c.scrub.text(te.Text), 200)
	c.log.Info("mailbox: the source asks to slow down, backing off", "remote_host", c.mb.RemoteHost, "wait", wait, "server_said", said)
	rep.event(slog.LevelWarn, "log.throttle.waiting", said, wait)
	rep.flush(context.WithoutCancel(ctx))
	return river.JobSnooze(wait)
}
