package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// A database that refuses a few writes of the log and of the list of
// messages not copied loses none of them: the reporter writes them again.
func TestMailboxLogSurvivesRefusedWrites(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	// The first inserts into each table fail, as a passing database error
	// would (a sequence is not rolled back with the failed statement).
	_, err := f.pool.Exec(f.ctx, `
		CREATE SEQUENCE fail_logs; CREATE SEQUENCE fail_skipped;
		CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval(TG_ARGV[0]) <= TG_ARGV[1]::int THEN
				RAISE EXCEPTION 'injected failure of %', TG_TABLE_NAME;
			END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER fail_logs BEFORE INSERT ON mailbox_logs FOR EACH STATEMENT EXECUTE FUNCTION fail_first('fail_logs', '3');
		CREATE TRIGGER fail_skipped BEFORE INSERT ON skipped_messages FOR EACH STATEMENT EXECUTE FUNCTION fail_first('fail_skipped', '2');`)
	require.NoError(t, err)
	rc := f.client(t, 2)
	anna := f.user(t, "pw-anna", true)
	f.seedMailbox(t, anna, "pw-anna", 10, true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna\n", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true, first: time.Now().Add(time.Hour)})
	runs := f.validate(t, rc, m)
	f.startNow(t, rc, runs[0])
	r := f.waitRun(t, runs[0].ID, 2*time.Minute)
	require.Equal(t, store.RunCompleted, r.Status)

	a := f.mailboxes(t, runs[0].ID)[anna]
	skipped, err := store.ListSkippedMessages(f.ctx, f.pool, f.tenant.ID, a.ID)
	require.NoError(t, err)
	require.Len(t, skipped, 1, "the message over the limit is listed")
	log := f.logText(t, a.ID)
	for _, want := range []string{"attempt 1:", "connecting to the source", "INBOX.Clienti", "finished:", "ended: Completed"} {
		require.Contains(t, log, want)
	}
	require.Equal(t, 1, strings.Count(log, "ended: Completed"), "written once:\n%s", log)
	require.Contains(t, f.logs.String(), "cannot store progress, log and checkpoints, will retry", "the operator's log says so")
}
