package jobs_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// txCounter counts the transactions and statements of a pool's
// connections: a statement outside BEGIN … COMMIT is a transaction of its
// own, as PostgreSQL's xact_commit counts it.
type txCounter struct {
	mu         sync.Mutex
	txs        int
	statements int
	bySQL      map[string]int
	// lockPIDs are the backends that took advisory locks.
	lockPIDs map[uint32]bool
}

// reset forgets what was counted, but the lock backends.
func (c *txCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txs, c.statements, c.bySQL = 0, 0, nil
}

func (c *txCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	sql := strings.ToLower(strings.TrimSpace(d.SQL))
	c.statements++
	if sql == "begin" || conn.PgConn().TxStatus() == 'I' && sql != "commit" && sql != "rollback" {
		c.txs++
	}
	if c.bySQL == nil {
		c.bySQL = map[string]int{}
	}
	c.bySQL[spaces.ReplaceAllString(sql, " ")]++
	if strings.Contains(sql, "pg_try_advisory_lock") {
		if c.lockPIDs == nil {
			c.lockPIDs = map[uint32]bool{}
		}
		c.lockPIDs[conn.PgConn().PID()] = true
	}
	return ctx
}

func (c *txCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

var spaces = regexp.MustCompile(`\s+`)

func (c *txCounter) report(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	type kv struct {
		sql string
		n   int
	}
	var all []kv
	for s, n := range c.bySQL {
		all = append(all, kv{s, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	for _, x := range all {
		t.Logf("%3d  %.150s", x.n, x.sql)
	}
	t.Logf("%d transactions, %d statements", c.txs, c.statements)
}

// smallFolders are a small mailbox's folders, in the bench's layout.
var smallFolders = []string{"INBOX", "INBOX.Sent", "INBOX.Posta inviata", "INBOX.Clienti", "INBOX.Clienti.Società",
	"INBOX.Fatture 2024", "INBOX.Progetti.Attività già svolte", "INBOX.Archivio.2023", "INBOX.Trash", "INBOX.Junk"}

// Small mailboxes (20 messages in 10 folders, the bench's layout) through
// the mailbox worker, one after the other: what each attempt costs the
// database. A flush per folder and a commit per folder's figures made it
// 63 transactions and 153 statements; now the figures go with the
// checkpoints and the log in the flushes, a statement or three for all the
// folders (21 and 36), and the second job takes the first one's lock
// connection instead of opening one.
func TestSmallMailboxDatabaseWork(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.runDeps()
	f.deps.FlushInterval = time.Hour // the flushes a copy makes itself, not the clock's
	var csv strings.Builder
	var users []string
	for range 2 {
		user := f.user(t, "pw-small", true)
		c := f.src.Dial(t, user, "pw-small")
		for i := range 20 {
			testenv.Append(t, c, smallFolders[i%len(smallFolders)], testenv.BuildMessage(7, i, 3000))
		}
		fmt.Fprintf(&csv, "%s;%s;%s;pw-small\n", user, f.src.TLSAddr(), user)
		users = append(users, user)
	}
	m := f.migration(t, csv.String(), migrationOpts{insecureTLS: true})
	ctx := f.ctx
	_, err := f.pool.Exec(ctx, `UPDATE migration_lines SET status = 'ok' WHERE tenant_id = $1 AND migration_id = $2`, f.tenant.ID, m.ID)
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, `UPDATE migrations SET status = 'scheduled' WHERE tenant_id = $1 AND id = $2`, f.tenant.ID, m.ID)
	require.NoError(t, err)
	r, err := store.CreateRun(ctx, f.pool, f.tenant.ID, store.NewRun{MigrationID: m.ID, RunNo: 1, ScheduledAt: time.Now()})
	require.NoError(t, err)
	var mbs []store.MailboxRun
	require.NoError(t, pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := store.StartRun(ctx, tx, f.tenant.ID, r.ID); err != nil {
			return err
		}
		mbs, err = store.CreateMailboxRuns(ctx, tx, f.tenant.ID, r.ID)
		return err
	}))
	require.Len(t, mbs, 2)

	cc := &txCounter{}
	cfg := f.pool.Config().Copy()
	cfg.ConnConfig.Tracer = cc
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(traced.Close)
	d := f.deps
	d.Pool = traced
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewMailboxWorker(d))
	for i, mb := range mbs {
		cc.reset()
		tx, err := f.pool.Begin(ctx)
		require.NoError(t, err)
		res, err := w.Work(ctx, t, tx, jobs.MailboxArgs{TenantID: f.tenant.ID, MailboxRunID: mb.ID}, nil)
		if err != nil {
			_ = tx.Rollback(ctx)
		}
		require.NoError(t, err, "%s", f.logs.String())
		require.NoError(t, tx.Commit(ctx))
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		cc.report(t)
		got, err := store.GetMailboxRun(ctx, f.pool, f.tenant.ID, mb.ID)
		require.NoError(t, err)
		require.Equal(t, store.MailboxCompleted, got.Status, "mailbox %d", i)
		require.Equal(t, 16, got.Copied, "the 20 messages but Trash's and Junk's")
		require.LessOrEqual(t, cc.txs, 22, "mailbox %d: transactions of one small mailbox", i)
		require.LessOrEqual(t, cc.statements, 60, "mailbox %d: statements of one small mailbox", i)
		folders := folderRows(t, f, mb.ID)
		require.Equal(t, 2, folders["INBOX"].Copied, "the figures count the checkpoint's records")
		require.NotNil(t, folders["INBOX"].Verified)
		require.Equal(t, 2, *folders["INBOX"].Verified)
	}
	require.Len(t, cc.lockPIDs, 1, "the second mailbox job's locks on the first one's connection: %v", cc.lockPIDs)
	require.NoError(t, testenv.SameMail(f.src.Dial(t, users[1], "pw-small"),
		f.dst.Dial(t, users[1]+"*"+f.dst.MasterUser(), f.dst.MasterPassword()), map[string]string{"INBOX.Clienti.Società": "Clienti/Società"}))
}
