package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// requireTotalsEqualSum checks the counters' totals against the sum over
// every mailbox.
func requireTotalsEqualSum(t *testing.T, f fixture, tenantID, migrationID int64) map[int64]store.RunTotals {
	t.Helper()
	got, err := store.MigrationRunTotals(f.ctx, f.db, tenantID, migrationID)
	require.NoError(t, err)
	want, err := store.SumRunTotals(f.ctx, f.db, tenantID, migrationID)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	for id, w := range want {
		g := got[id]
		// Times are compared to the microsecond PostgreSQL keeps.
		require.Equal(t, w.StartedAt == nil, g.StartedAt == nil)
		require.Equal(t, w.LastEndedAt == nil, g.LastEndedAt == nil)
		if w.StartedAt != nil {
			require.True(t, w.StartedAt.Equal(*g.StartedAt))
		}
		if w.LastEndedAt != nil {
			require.True(t, w.LastEndedAt.Equal(*g.LastEndedAt))
		}
		w.StartedAt, w.LastEndedAt, g.StartedAt, g.LastEndedAt = nil, nil, nil, nil
		require.Equal(t, w, g, "run %d", id)
	}
	return got
}

// TestRunTotalsCountersUnderConcurrentWorkers drives forty mailboxes of one
// run through their lives from concurrent goroutines, as workers do (start,
// progress per message, finish with the run's end in one transaction), and
// checks at each stage that the counters the trigger keeps equal the sum
// over every mailbox; then a retry, a second run and the deletion.
func TestRunTotalsCountersUnderConcurrentWorkers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const n = 40
	var lines []store.NewLine
	for i := 1; i <= n; i++ {
		lines = append(lines, line(i, fmt.Sprintf("box%d@acme.test", i)))
	}
	m := f.newMigration(t, f.acme.ID, lines...)
	ls, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	for i, l := range ls {
		preview := []byte(fmt.Sprintf(`{"folders": 2, "messages": %d, "bytes": 1000}`, 10+i))
		if i%7 == 0 {
			preview = []byte(`{"folders": 1, "messages": 99, "partial": true}`)
		}
		require.NoError(t, store.SetLineResult(f.ctx, f.db, f.acme.ID, l.ID, store.LineResult{Status: store.LineOK, Preview: preview}))
	}
	require.NoError(t, store.SetMigrationStatus(f.ctx, f.db, f.acme.ID, m.ID, store.MigrationScheduled, store.MigrationValidating))
	run, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: m.FirstRunAt})
	require.NoError(t, err)
	run2, err := store.CreateRun(f.ctx, f.db, f.acme.ID, store.NewRun{MigrationID: m.ID, RunNo: 2, ScheduledAt: m.FirstRunAt.Add(time.Hour)})
	require.NoError(t, err)
	var boxes []store.MailboxRun
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		if _, err := store.StartRun(f.ctx, tx, f.acme.ID, run.ID); err != nil {
			return err
		}
		boxes, err = store.CreateMailboxRuns(f.ctx, tx, f.acme.ID, run.ID)
		return err
	}))
	require.Len(t, boxes, n)
	tot := requireTotalsEqualSum(t, f, f.acme.ID, m.ID)[run.ID]
	require.Equal(t, n, tot.Mailboxes)
	require.Equal(t, 0, tot.Ended)
	require.Positive(t, tot.Shown) // the previews, but the partial ones

	// Every mailbox at once: start, progress, finish.
	statuses := []store.MailboxStatus{store.MailboxCompleted, store.MailboxCompletedWithErrors, store.MailboxFailed, store.MailboxCancelled}
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	proceed := make(chan struct{})
	errs := make(chan error, n)
	for i, b := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				if _, err := store.StartMailboxRun(f.ctx, f.db, f.acme.ID, b.ID); err != nil {
					return err
				}
				c := store.MailboxCounters{Folders: 2, Found: 20 + i, Total: 20 + i}
				for k := 1; k <= 5; k++ {
					c.Copied, c.Done, c.Bytes = k, k, int64(k*1000)
					if err := store.SetMailboxProgress(f.ctx, f.db, f.acme.ID, b.ID, c, "INBOX"); err != nil {
						return err
					}
				}
				started <- struct{}{}
				<-proceed
				st := statuses[i%len(statuses)]
				if st == store.MailboxCompletedWithErrors {
					c.Failed = 2
				}
				c.Done, c.Copied, c.AlreadyThere, c.TooLarge = 20+i, 15+i, 3, 1
				return pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
					if err := store.FinishMailboxRun(f.ctx, tx, f.acme.ID, b.ID, st, c, i18n.New("log.text", "reason")); err != nil {
						return err
					}
					_, _, _, err := store.EndRunIfDone(f.ctx, tx, f.acme.ID, run.ID)
					return err
				})
			}()
		}()
	}
	for range n {
		<-started
	}
	// All running: the counters hold nothing of them, the live part all.
	tot = requireTotalsEqualSum(t, f, f.acme.ID, m.ID)[run.ID]
	require.Equal(t, n, tot.Mailboxes)
	require.Equal(t, n*5, tot.Done)
	close(proceed)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	tot = requireTotalsEqualSum(t, f, f.acme.ID, m.ID)[run.ID]
	require.Equal(t, n, tot.Ended)
	require.Equal(t, n/4, tot.Failed)
	require.Equal(t, n/4+n/4, tot.Retryable) // failed, and completed with errors with failed messages
	require.NotNil(t, tot.LastEndedAt)
	r, err := store.GetRun(f.ctx, f.db, f.acme.ID, run.ID)
	require.NoError(t, err)
	require.Equal(t, store.RunCompletedWithErrors, r.Status)

	// Riprova: the failed go back to pending, then end again.
	again, err := func() (ms []store.MailboxRun, err error) {
		err = pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
			ms, err = store.ReopenFailedMailboxes(f.ctx, tx, f.acme.ID, run.ID)
			return err
		})
		return ms, err
	}()
	require.NoError(t, err)
	require.Len(t, again, n/2)
	tot = requireTotalsEqualSum(t, f, f.acme.ID, m.ID)[run.ID]
	require.Equal(t, n/2, tot.Ended)
	require.Nil(t, tot.LastEndedAt)
	for _, b := range again {
		require.NoError(t, store.FinishMailboxRun(f.ctx, f.db, f.acme.ID, b.ID, store.MailboxCompleted, store.MailboxCounters{Done: 7, Total: 7, Copied: 7}, i18n.Msg{}))
	}
	requireTotalsEqualSum(t, f, f.acme.ID, m.ID)

	// Run 2 starts: its own counters, run 1's untouched.
	require.NoError(t, pgx.BeginFunc(f.ctx, f.db, func(tx pgx.Tx) error {
		if _, _, _, err := store.EndRunIfDone(f.ctx, tx, f.acme.ID, run.ID); err != nil {
			return err
		}
		if _, err := store.StartRun(f.ctx, tx, f.acme.ID, run2.ID); err != nil {
			return err
		}
		_, err := store.CreateMailboxRuns(f.ctx, tx, f.acme.ID, run2.ID)
		return err
	}))
	all := requireTotalsEqualSum(t, f, f.acme.ID, m.ID)
	require.Len(t, all, 2)
	require.Equal(t, n, all[run2.ID].Mailboxes)

	// Another tenant sees none of it.
	other, err := store.MigrationRunTotals(f.ctx, f.db, f.beta.ID, m.ID)
	require.NoError(t, err)
	require.Empty(t, other)

	// Deleting the mailboxes' lines with the migration takes the counters'
	// trigger through the cascade without an error.
	_, err = f.db.Exec(f.ctx, `UPDATE migrations SET status = 'cancelled' WHERE id = $1`, m.ID)
	require.NoError(t, err)
	require.NoError(t, store.DeleteMigration(f.ctx, f.db, f.acme.ID, m.ID))
}

// TestPreviewTotalsFollowTheLines checks the preview sums kept on the
// migration's row against the sum over its lines through a line's life:
// checked (concurrently), removed, added, the file replaced.
func TestPreviewTotalsFollowTheLines(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const n = 30
	var lines []store.NewLine
	for i := 1; i <= n; i++ {
		lines = append(lines, line(i, fmt.Sprintf("box%d@acme.test", i)))
	}
	m := f.newMigration(t, f.acme.ID, lines...)
	requireEqual := func() store.PreviewTotals {
		t.Helper()
		got, err := store.MigrationPreviewTotals(f.ctx, f.db, f.acme.ID, m.ID)
		require.NoError(t, err)
		want, err := store.SumPreviewTotals(f.ctx, f.db, f.acme.ID, m.ID)
		require.NoError(t, err)
		require.Equal(t, want, got)
		return got
	}
	require.Zero(t, requireEqual().Lines)
	ls, err := store.ListLines(f.ctx, f.db, f.acme.ID, m.ID)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := store.LineResult{Status: store.LineOK, Preview: []byte(fmt.Sprintf(`{"folders": 3, "messages": %d, "bytes": %d, "too_large": 1, "too_large_bytes": 40000000}`, i, i*1000))}
			switch {
			case i%10 == 0:
				res = store.LineResult{Status: store.LineFailed, Error: i18n.New("log.text", "no")}
			case i%7 == 0:
				res.Preview = []byte(`{"folders": 1, "messages": 5, "partial": true}`)
			case i%9 == 0:
				res.Preview = nil
			}
			errs <- store.SetLineResult(f.ctx, f.db, f.acme.ID, l.ID, res)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := requireEqual()
	require.Equal(t, n-3-3, got.Lines) // 3 failed, 3 without a preview
	require.True(t, got.Partial)

	_, err = store.DeleteLine(f.ctx, f.db, f.acme.ID, m.ID, 8) // a partial one
	require.NoError(t, err)
	require.Equal(t, got.Messages-5, requireEqual().Messages)
	_, err = store.AddLines(f.ctx, f.db, f.acme.ID, m.ID, []store.NewLine{line(1, "new@acme.test")})
	require.NoError(t, err)
	requireEqual()

	// Another tenant reads nothing.
	other, err := store.MigrationPreviewTotals(f.ctx, f.db, f.beta.ID, m.ID)
	require.NoError(t, err)
	require.Zero(t, other)
}
