package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// A run due already is inserted available, so a worker starts it at once;
// one due later is scheduled. Inserted scheduled, a run due "now" waited
// for River's scheduler (every 5 s, on the leader).
func TestScheduleInsertsADueRunAvailable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	u := f.user(t, "pw", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw\n", u, f.src.TLSAddr(), u), migrationOpts{insecureTLS: true, second: true, first: time.Now().Add(time.Hour)})
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.NoError(t, store.SetLineResult(f.ctx, f.pool, f.tenant.ID, lines[0].ID, store.LineResult{Status: store.LineOK}))
	ins, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{})
	require.NoError(t, err)
	m.FirstRunAt = time.Now().Add(-time.Second) // due
	var runs []store.Run
	require.NoError(t, pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		runs, err = jobs.Schedule(f.ctx, tx, ins, m)
		return err
	}))
	require.Len(t, runs, 2)
	state := func(id int64) string {
		var s string
		require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT state FROM river_job WHERE id = $1`, id).Scan(&s))
		return s
	}
	require.Equal(t, "available", state(runs[0].RiverJobID), "run 1 is due")
	require.Equal(t, "scheduled", state(runs[1].RiverJobID), "run 2 is tomorrow")
}

// A mailbox that waits behind a limit starts as soon as the slot it waits
// for frees, not after its poll: with a poll of an hour, each of these
// migrations would otherwise take hours. The caps still hold.
func TestFreedSlotWakesTheWaitingMailbox(t *testing.T) {
	for _, limit := range []string{"tenant", "host"} {
		t.Run(limit, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.runDeps()
			f.deps.Poll = time.Hour
			if limit == "tenant" {
				f.deps.PerTenantLimit = 1
			} else {
				f.deps.PerHostLimit = 1
			}
			rc := f.client(t, 3)
			slow := slowProxy(t, f.src.TLSAddr(), 200<<10)
			var users []string
			var csv strings.Builder
			for i := range 3 {
				u := f.user(t, "pw", true)
				users = append(users, u)
				testenv.Append(t, f.src.Dial(t, u, "pw"), "INBOX", msgList(int64(300+i), 0, 10, 8000)...)
				fmt.Fprintf(&csv, "%s;%s;%s;pw\n", u, slow, u)
			}
			m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
			runs := f.validate(t, rc, m)
			f.startNow(t, rc, runs[0])
			r := f.waitRun(t, runs[0].ID, 2*time.Minute)
			require.Equal(t, store.RunCompleted, r.Status)

			type span struct{ from, to time.Time }
			var spans []span
			for _, u := range users {
				mb := f.mailboxes(t, runs[0].ID)[u]
				require.Equal(t, store.MailboxCompleted, mb.Status)
				spans = append(spans, span{*mb.StartedAt, *mb.EndedAt})
			}
			require.Equal(t, 1, maxOverlap(spans), "one mailbox at a time under a limit of 1")
			var snoozed int
			require.NoError(t, f.pool.QueryRow(f.ctx, `
				SELECT count(*) FROM river_job WHERE kind = 'mailbox_copy' AND (args->>'tenant_id')::bigint = $1
					AND COALESCE((metadata->>'snoozes')::int, 0) > 0`, f.tenant.ID).Scan(&snoozed))
			require.Positive(t, snoozed, "some mailboxes waited behind the limit")
		})
	}
}
