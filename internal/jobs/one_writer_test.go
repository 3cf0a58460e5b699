package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// A second active migration of the tenant that targets a mailbox already
// in one is refused on that line, saying which migration has it; once the
// first is over, the mailbox is free again.
func TestValidateRefusesAMailboxInAnotherActiveMigration(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	bob := f.user(t, "pw-bob", true)
	a := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	f.work(t, a)
	require.Empty(t, f.lineErrors(t, a))

	csv := fmt.Sprintf("%s;%s;%s;pw-bob\n%s;%s;%s;pw-anna", bob, f.src.TLSAddr(), bob, strings.ToUpper(anna[:1])+anna[1:], f.src.TLSAddr(), anna)
	b := f.migration(t, csv, migrationOpts{insecureTLS: true})
	f.work(t, b)
	require.Equal(t, map[int]string{
		2: "Riga 2: la casella " + strings.ToUpper(anna[:1]) + anna[1:] + " è già nella migrazione «test» (riga 1), ancora attiva: aspetta che finisca o annullala",
	}, f.lineErrors(t, b))

	// Cancelled, the first migration no longer holds it.
	_, err := store.CancelMigration(f.ctx, f.pool, f.tenant.ID, a.ID)
	require.NoError(t, err)
	c := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	f.work(t, c)
	require.Empty(t, f.lineErrors(t, c))
}

// Two migrations copying into one destination mailbox (scheduled before
// the check above existed, or by an operator) never copy at the same
// time: the lock is the destination mailbox's, not the CSV line's. The
// mailbox ends with each message once.
func TestOneWriterPerDestinationMailbox(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	rc := f.client(t, 4)
	anna := f.user(t, "pw", true)
	c := f.src.Dial(t, anna, "pw")
	testenv.Append(t, c, "INBOX", msgList(90, 0, 40, 8000)...)
	slow := slowProxy(t, f.src.TLSAddr(), 200<<10)

	first := time.Now().Add(time.Hour)
	var runs []store.Run
	for range 2 {
		m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw", anna, slow, anna), migrationOpts{insecureTLS: true, first: first})
		// Scheduled by hand, as validation would refuse the second.
		lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
		require.NoError(t, err)
		require.NoError(t, store.SetLineResult(f.ctx, f.pool, f.tenant.ID, lines[0].ID, store.LineResult{Status: store.LineOK}))
		require.NoError(t, pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
			got, err := store.GetMigration(f.ctx, tx, f.tenant.ID, m.ID)
			if err != nil {
				return err
			}
			rs, err := jobs.Schedule(f.ctx, tx, rc, got)
			runs = append(runs, rs...)
			return err
		}))
	}
	require.Len(t, runs, 2)
	f.startNow(t, rc, runs[0])
	f.startNow(t, rc, runs[1])
	f.waitRun(t, runs[0].ID, 3*time.Minute)
	f.waitRun(t, runs[1].ID, 3*time.Minute)

	type span struct{ from, to time.Time }
	var spans []span
	copied := 0
	for _, r := range runs {
		mb := f.mailboxes(t, r.ID)[anna]
		require.Equal(t, store.MailboxCompleted, mb.Status)
		copied += mb.Copied
		spans = append(spans, span{*mb.StartedAt, *mb.EndedAt})
	}
	require.Equal(t, 1, maxOverlap(spans), "the two copies into %s overlapped: %v", anna, spans)
	require.Equal(t, 40, copied, "each message copied once, by one of the two")
	dc := f.dst.Dial(t, anna+"*"+f.dst.MasterUser(), f.dst.MasterPassword())
	require.NoError(t, testenv.SameMail(c, dc, map[string]string{"INBOX": "INBOX"}))
}
