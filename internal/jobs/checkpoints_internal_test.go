package jobs

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// commitCounter counts the transactions a pool's connections commit.
type commitCounter struct{ begins, commits, statements atomic.Int64 }

func (c *commitCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	switch strings.ToLower(strings.TrimSpace(d.SQL)) {
	case "begin":
		c.begins.Add(1)
	case "commit":
		c.commits.Add(1)
	}
	return ctx
}

func (c *commitCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// checkpointLine is a line of a fresh tenant's migration and a pool on
// its database whose statements are counted.
func checkpointLine(t *testing.T) (store.MailboxRun, store.Checkpoints, *pgxpool.Pool, *commitCounter) {
	t.Helper()
	ctx := context.Background()
	pool := testenv.NewTestDB(t)
	tenant, err := store.CreateTenant(ctx, pool, store.NewTenant{Name: "Acme", NotifyEmail: "it@acme.test", Domains: []string{"acme.test"}})
	require.NoError(t, err)
	m, err := store.CreateMigration(ctx, pool, tenant.ID, store.NewMigration{Name: "m", Preset: string(transfer.PresetStandardSSL),
		FirstRunAt: time.Now().Add(time.Hour), Lines: []store.NewLine{{LineNo: 1, LocalUser: "anna@acme.test", RemoteHost: "old.test", RemoteUser: "anna"}}})
	require.NoError(t, err)
	lines, err := store.ListLines(ctx, pool, tenant.ID, m.ID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE migration_lines SET status = 'ok' WHERE id = $1`, lines[0].ID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE migrations SET status = 'scheduled' WHERE id = $1`, m.ID)
	require.NoError(t, err)
	r, err := store.CreateRun(ctx, pool, tenant.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: time.Now()})
	require.NoError(t, err)
	mbs, err := store.CreateMailboxRuns(ctx, pool, tenant.ID, r.ID)
	require.NoError(t, err)
	require.Len(t, mbs, 1)
	mb, err := store.StartMailboxRun(ctx, pool, tenant.ID, mbs[0].ID)
	require.NoError(t, err)

	cc := &commitCounter{}
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Tracer = cc
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(traced.Close)
	return mb, store.Checkpoints{DB: traced, TenantID: tenant.ID, LineID: lines[0].ID}, traced, cc
}

// Until a flush, the checkpoints the engine makes are in memory and read
// back from there; a flush that fails keeps them under what came after.
func TestBatchedCheckpointsReadBackAndSurviveAFailedFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, db, _, _ := checkpointLine(t)
	b := newBatchedCheckpoints(db)

	st, err := b.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.Zero(t, st.UIDValidity)
	require.NoError(t, b.ResetFolder(ctx, "INBOX", transfer.FolderState{UIDValidity: 7, DestFolder: "INBOX", DestUIDValidity: 70}))
	require.NoError(t, b.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{1: {DestUID: 11}, 2: {DestUID: 12}}))
	written, err := db.LoadFolders(ctx)
	require.NoError(t, err)
	require.Empty(t, written, "nothing written before a flush")
	st, err = b.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.Equal(t, uint32(7), st.UIDValidity)
	require.Len(t, st.Messages, 2)

	// A flush takes the batch; a record arrives meanwhile; the flush fails.
	batch := b.take()
	require.NoError(t, b.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{2: {DestUID: 12, Flags: []string{`\Seen`}}, 3: {DestUID: 13}}))
	st, err = b.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.Len(t, st.Messages, 3, "in flight and pending both read back")
	b.done(batch, false)
	batch = b.take()
	require.NoError(t, db.WriteBatch(ctx, batch))
	b.done(batch, true)
	require.Nil(t, b.take(), "nothing left")
	recs, err := db.LoadRecords(ctx, "INBOX")
	require.NoError(t, err)
	require.Equal(t, map[uint32]transfer.Copied{1: {DestUID: 11, Flags: []string{}}, 2: {DestUID: 12, Flags: []string{`\Seen`}}, 3: {DestUID: 13, Flags: []string{}}}, recs,
		"the reset and every record, the later flags winning")
	st, err = b.LoadFolder(ctx, "INBOX")
	require.NoError(t, err)
	require.Equal(t, uint32(7), st.UIDValidity)
	require.Len(t, st.Messages, 3)

	// A reset made while a failing flush was in flight supersedes it.
	require.NoError(t, b.RecordMessages(ctx, "INBOX", map[uint32]transfer.Copied{4: {DestUID: 14}}))
	batch = b.take()
	require.NoError(t, b.ResetFolder(ctx, "INBOX", transfer.FolderState{UIDValidity: 8, DestFolder: "INBOX", DestUIDValidity: 80}))
	b.done(batch, false)
	batch = b.take()
	require.NoError(t, db.WriteBatch(ctx, batch))
	b.done(batch, true)
	recs, err = db.LoadRecords(ctx, "INBOX")
	require.NoError(t, err)
	require.Empty(t, recs)
	written, err = db.LoadFolders(ctx)
	require.NoError(t, err)
	require.Equal(t, uint32(8), written["INBOX"].UIDValidity)
}

// One flush writes the log, the counters and the checkpoints of every
// folder the engine touched since the last one in one transaction.
func TestReporterFlushIsOneCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mb, db, pool, cc := checkpointLine(t)
	r := newDBReporter(Deps{Pool: pool, FlushInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)}, mb)
	defer r.close()
	cp := r.batchCheckpoints(db)
	for i, folder := range []string{"INBOX", "Sent", "Archive", "Drafts", "Clienti"} {
		_, err := cp.LoadFolder(ctx, folder)
		require.NoError(t, err)
		require.NoError(t, cp.ResetFolder(ctx, folder, transfer.FolderState{UIDValidity: uint32(i + 1), DestFolder: folder}))
		for uid := range uint32(20) {
			require.NoError(t, cp.RecordMessages(ctx, folder, map[uint32]transfer.Copied{uid + 1: {DestUID: uid + 1}}))
			r.Progress(transfer.Progress{Folder: folder, Counters: transfer.Counters{Copied: i*20 + int(uid) + 1}})
		}
		r.event(0, "log.text", "folder "+folder+" done")
	}
	cc.begins.Store(0)
	cc.commits.Store(0)
	cc.statements.Store(0)
	require.NoError(t, r.flushOnce(ctx))
	require.Equal(t, int64(1), cc.commits.Load(), "one commit for 100 messages in 5 folders, their log and counters")
	require.LessOrEqual(t, cc.statements.Load(), int64(7), "begin, log, counters, 3 checkpoint statements, commit")
	folders, err := db.LoadFolders(ctx)
	require.NoError(t, err)
	require.Len(t, folders, 5)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM copied_messages WHERE line_id = $1`, db.LineID).Scan(&n))
	require.Equal(t, 100, n)
	got, err := store.GetMailboxRun(ctx, pool, mb.TenantID, mb.ID)
	require.NoError(t, err)
	require.Equal(t, 100, got.Copied)
	logs, err := store.ListMailboxLogs(ctx, pool, mb.TenantID, mb.ID)
	require.NoError(t, err)
	require.Len(t, logs, 5)

	cc.commits.Store(0)
	require.NoError(t, r.flushOnce(ctx))
	require.Zero(t, cc.commits.Load(), "nothing to write, nothing written")
}
