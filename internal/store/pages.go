package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Paging is one page of a list: Page is 1-based, PerPage its length.
// Lists fetch one row more than a page to know whether another follows, so
// no page ever counts every row.
type Paging struct {
	Page    int
	PerPage int
}

func (p Paging) norm() (limit, offset int) {
	if p.PerPage <= 0 {
		p.PerPage = 50
	}
	if p.Page < 1 {
		p.Page = 1
	}
	return p.PerPage, (p.Page - 1) * p.PerPage
}

// likePattern is q as a case-insensitive substring pattern for ILIKE, its
// own wildcards escaped; "" when q is blank.
func likePattern(q string) string {
	q = strings.TrimSpace(q)
	if q == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// prefixRange is the range of lower-cased text that starts with q,
// lower-cased: [lo, hi) in byte order (the indexes of migration 021).
func prefixRange(q string) (lo, hi string) {
	lo = strings.ToLower(strings.TrimSpace(q))
	return lo, lo + "\U0010FFFF"
}

// MigrationFilter narrows Migrazioni.
type MigrationFilter struct {
	// Query matches the migration's name (a case-insensitive substring) or
	// the beginning of the address of one of its mailboxes (local or
	// remote, any case).
	Query string
	// Status keeps only migrations in this status; "" keeps all.
	Status MigrationStatus
	// TenantID keeps only one tenant's migrations in the operators' list of
	// every tenant (ListAllMigrationsPage); 0 keeps all.
	TenantID int64
	Paging
}

// MigrationsPage is one page of migrations, newest first.
type MigrationsPage struct {
	Rows    []TenantMigration
	HasNext bool
}

// ListMigrationsPage returns one page of the tenant's migrations, newest
// first, narrowed by f (f.TenantID is ignored: the tenant is tenantID).
func ListMigrationsPage(ctx context.Context, db DBTX, tenantID int64, f MigrationFilter) (MigrationsPage, error) {
	f.TenantID = tenantID
	p, err := listMigrationsPage(ctx, db, f)
	if err != nil {
		return MigrationsPage{}, fmt.Errorf("list migrations page: %w", err)
	}
	return p, nil
}

// ListAllMigrationsPage is ListMigrationsPage over every tenant (or the one
// of f.TenantID), with the tenant's name: for operators only.
func ListAllMigrationsPage(ctx context.Context, db DBTX, f MigrationFilter) (MigrationsPage, error) {
	p, err := listMigrationsPage(ctx, db, f)
	if err != nil {
		return MigrationsPage{}, fmt.Errorf("list all migrations page: %w", err)
	}
	return p, nil
}

func listMigrationsPage(ctx context.Context, db DBTX, f MigrationFilter) (MigrationsPage, error) {
	limit, offset := f.norm()
	// A search finds its few migrations through indexes first (the name's
	// trigrams, migration 100; the addresses' prefixes, migration 021) and
	// sorts only those. It is a query text of its own: under "$3 = '' OR …"
	// the planner walks every migration of the tenant, newest first,
	// testing each name (EXPLAIN ANALYZE on the big tenant of make
	// bench-panel: 5.7 ms for 10,010 rows read, against 0.2 ms this way).
	where := `true`
	args := []any{f.TenantID, string(f.Status), limit + 1, offset}
	if q := likePattern(f.Query); q != "" {
		// An array of ids, looked up by primary key: the plan stays the
		// same whatever the planner guesses of the matches.
		lo, hi := prefixRange(f.Query)
		where = `m.id = ANY(ARRAY(SELECT id FROM migrations WHERE name ILIKE $5
			UNION SELECT l.migration_id FROM migration_lines l
			WHERE (lower(l.local_user) COLLATE "C" >= $6 AND lower(l.local_user) COLLATE "C" < $7)
				OR (lower(l.remote_user) COLLATE "C" >= $6 AND lower(l.remote_user) COLLATE "C" < $7)))`
		args = append(args, q, lo, hi)
	}
	// Filters left out are left out of the text too: under a generic plan
	// (pgx prepares, PostgreSQL may reuse a plan for any values) "$1 = 0 OR
	// m.tenant_id = $1" reads every migration of every tenant.
	if f.TenantID != 0 {
		where += ` AND m.tenant_id = $1`
	} else {
		where += ` AND $1::bigint = 0`
	}
	if f.Status != "" {
		where += ` AND m.status = $2`
	} else {
		where += ` AND $2::text = ''`
	}
	rows, err := db.Query(ctx, `SELECT `+migrationColumns+`, t.name FROM migrations m JOIN tenants t ON t.id = m.tenant_id
		WHERE `+where+`
		ORDER BY m.created_at DESC, m.id DESC
		LIMIT $3 OFFSET $4`, args...)
	if err != nil {
		return MigrationsPage{}, err
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TenantMigration, error) {
		var tm TenantMigration
		err := scanMigrationInto(r, &tm.Migration, &tm.TenantName)
		return tm, err
	})
	if err != nil {
		return MigrationsPage{}, err
	}
	p := MigrationsPage{Rows: ms}
	if len(ms) > limit {
		p.Rows, p.HasNext = ms[:limit], true
	}
	return p, nil
}

// MigrationKey names a migration with its tenant.
type MigrationKey struct {
	TenantID, ID int64
}

// FailedReasons returns, for each of the given migrations, the reasons of
// its first perLine failed lines in line order, in one query whatever the
// number of migrations. Each key is looked up within its own tenant.
func FailedReasons(ctx context.Context, db DBTX, keys []MigrationKey, perMigration int) (map[int64][]StoredReason, error) {
	out := make(map[int64][]StoredReason, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	tenants, ids := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		tenants[i], ids[i] = k.TenantID, k.ID
	}
	rows, err := db.Query(ctx, `
		SELECT k.id, COALESCE(e.error_text, ''), COALESCE(e.error_code, ''), e.error_args FROM unnest($1::bigint[], $2::bigint[]) AS k(tenant_id, id)
		CROSS JOIN LATERAL (
			SELECT l.error_text, l.error_code, l.error_args FROM migration_lines l
			WHERE l.tenant_id = k.tenant_id AND l.migration_id = k.id AND l.status = 'failed'
				AND (l.error_text IS NOT NULL OR l.error_code IS NOT NULL)
			ORDER BY l.line_no LIMIT $3) e`, tenants, ids, perMigration)
	if err != nil {
		return nil, fmt.Errorf("failed reasons: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r StoredReason
		var code string
		var args []byte
		if err := rows.Scan(&id, &r.Text, &code, &args); err != nil {
			return nil, fmt.Errorf("failed reasons: %w", err)
		}
		m, err := reasonOf(code, args)
		if err != nil {
			return nil, fmt.Errorf("failed reasons: %w", err)
		}
		r.Msg = m
		out[id] = append(out[id], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed reasons: %w", err)
	}
	return out, nil
}

// LineFilter narrows the mailboxes (lines) of a migration.
type LineFilter struct {
	// Query matches the local or the remote address, as a case-insensitive
	// substring.
	Query string
	// OnlyOK keeps only the lines that passed validation (Risorse).
	OnlyOK bool
	Paging
}

// LinesPage is one page of a migration's lines, in line order.
type LinesPage struct {
	Lines   []Line
	HasNext bool
}

// ListLinesPage returns one page of the lines of the tenant's migration.
func ListLinesPage(ctx context.Context, db DBTX, tenantID, migrationID int64, f LineFilter) (LinesPage, error) {
	limit, offset := f.norm()
	rows, err := db.Query(ctx, `SELECT `+lineColumns+` FROM migration_lines l
		WHERE l.tenant_id = $1 AND l.migration_id = $2
			AND (NOT $3 OR l.status = 'ok')
			AND ($4::text = '' OR l.local_user ILIKE $4 OR l.remote_user ILIKE $4)
		ORDER BY l.line_no LIMIT $5 OFFSET $6`, tenantID, migrationID, f.OnlyOK, likePattern(f.Query), limit+1, offset)
	if err != nil {
		return LinesPage{}, fmt.Errorf("list lines page: %w", err)
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) { return scanLine(r) })
	if err != nil {
		return LinesPage{}, fmt.Errorf("list lines page: %w", err)
	}
	p := LinesPage{Lines: ls}
	if len(ls) > limit {
		p.Lines, p.HasNext = ls[:limit], true
	}
	return p, nil
}

// ListLinesMailboxes returns the mailbox runs of the given lines of the
// tenant's migration, in every run, by line then run: what one page of
// lines shows, in one query.
func ListLinesMailboxes(ctx context.Context, db DBTX, tenantID, migrationID int64, lineIDs []int64) ([]MailboxRun, error) {
	if len(lineIDs) == 0 {
		return nil, nil
	}
	ms, err := collectMailboxRuns(db.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
		WHERE b.tenant_id = $1 AND r.migration_id = $2 AND b.line_id = ANY($3) ORDER BY l.line_no, r.run_no`,
		tenantID, migrationID, lineIDs))
	if err != nil {
		return nil, fmt.Errorf("list lines mailboxes: %w", err)
	}
	return ms, nil
}

// ListSkippedOfMailboxes returns the skipped messages of the given mailbox
// runs of the tenant, by folder and date, in one query.
func ListSkippedOfMailboxes(ctx context.Context, db DBTX, tenantID int64, mailboxRunIDs []int64) ([]SkippedMessage, error) {
	if len(mailboxRunIDs) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
		SELECT mailbox_run_id, folder, uid, size, date, sender, subject, reason, detail FROM skipped_messages
		WHERE tenant_id = $1 AND mailbox_run_id = ANY($2) ORDER BY folder, date NULLS LAST, uid`, tenantID, mailboxRunIDs)
	if err != nil {
		return nil, fmt.Errorf("list skipped of mailboxes: %w", err)
	}
	ss, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SkippedMessage, error) {
		var s SkippedMessage
		var uid int64
		err := r.Scan(&s.MailboxRunID, &s.Folder, &uid, &s.Size, &s.Date, &s.Sender, &s.Subject, &s.Reason, &s.Detail)
		s.UID = uint32(uid)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list skipped of mailboxes: %w", err)
	}
	return ss, nil
}

// RunTotals adds up the mailboxes of one run.
type RunTotals struct {
	RunID     int64
	Mailboxes int
	Ended     int // mailboxes whose copy has ended, however it ended
	Failed    int // mailboxes that failed
	// Retryable counts the failed mailboxes whose password (or the
	// master user's) is still kept, so they can be copied again.
	Retryable    int
	Done         int
	Total        int
	Copied       int
	AlreadyThere int
	TooLarge     int
	FailedMsgs   int // messages that failed, across the mailboxes
	Bytes        int64
	// Shown adds up each mailbox's total as the pages show it: never below
	// what the mailbox has already done, nor, while it is copied, below the
	// messages its test login counted (the line's preview).
	Shown int
	// StartedAt is the first mailbox's start; LastEndedAt the last one's
	// end, set only once every mailbox has ended.
	StartedAt, LastEndedAt *time.Time
}

// MigrationRunTotals returns the totals of every run of the tenant's
// migration that has mailboxes, keyed by run id, at a cost that does not
// grow with the number of mailboxes: the counters each run keeps of its
// mailboxes not being copied (migrations 101, 103-105) plus a sum over the few being
// copied, and index look-ups for the retryable ones, the first start and
// the last end. It equals SumRunTotals.
func MigrationRunTotals(ctx context.Context, db DBTX, tenantID, migrationID int64) (map[int64]RunTotals, error) {
	rows, err := db.Query(ctx, `
		SELECT r.id, r.tot_mailboxes + lv.n, r.tot_ended, r.tot_failed,
			(SELECT count(*) FROM mailbox_runs b
				WHERE b.run_id = r.id AND b.tenant_id = r.tenant_id
					AND b.status IN ('failed', 'completed_with_errors')
					AND (b.status = 'failed' OR b.failed > 0 OR b.verify_missing > 0 OR b.verify_duplicates > 0 OR b.verify_flags_behind > 0)
					AND (m.master_password_enc IS NOT NULL OR EXISTS (SELECT 1 FROM migration_lines l
						WHERE l.id = b.line_id AND l.tenant_id = b.tenant_id AND l.remote_password_enc IS NOT NULL))),
			r.tot_done + lv.done, r.tot_total + lv.total, r.tot_copied + lv.copied, r.tot_already_there + lv.already_there,
			r.tot_too_large + lv.too_large, r.tot_failed_msgs + lv.failed, r.tot_bytes + lv.bytes, r.tot_shown + lv.shown,
			(SELECT min(b.started_at) FROM mailbox_runs b WHERE b.run_id = r.id),
			CASE WHEN lv.n = 0 AND r.tot_ended = r.tot_mailboxes THEN (SELECT max(b.ended_at) FROM mailbox_runs b WHERE b.run_id = r.id) END
		FROM runs r
		JOIN migrations m ON m.id = r.migration_id AND m.tenant_id = r.tenant_id
		CROSS JOIN LATERAL (
			SELECT count(*) AS n, coalesce(sum(b.done), 0) AS done, coalesce(sum(b.total), 0) AS total,
				coalesce(sum(b.copied), 0) AS copied, coalesce(sum(b.already_there), 0) AS already_there,
				coalesce(sum(b.too_large), 0) AS too_large, coalesce(sum(b.failed), 0) AS failed,
				coalesce(sum(b.bytes), 0) AS bytes, coalesce(sum(greatest(b.total, b.done, b.preview_messages, 0)), 0) AS shown
			FROM mailbox_runs b WHERE b.run_id = r.id AND b.tenant_id = r.tenant_id AND b.status = 'running') lv
		WHERE r.tenant_id = $1 AND r.migration_id = $2 AND r.tot_mailboxes + lv.n > 0`, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("migration run totals: %w", err)
	}
	return collectRunTotals(rows, "migration run totals")
}

func collectRunTotals(rows pgx.Rows, what string) (map[int64]RunTotals, error) {
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RunTotals, error) {
		var t RunTotals
		err := r.Scan(&t.RunID, &t.Mailboxes, &t.Ended, &t.Failed, &t.Retryable, &t.Done, &t.Total, &t.Copied,
			&t.AlreadyThere, &t.TooLarge, &t.FailedMsgs, &t.Bytes, &t.Shown, &t.StartedAt, &t.LastEndedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make(map[int64]RunTotals, len(ts))
	for _, t := range ts {
		out[t.RunID] = t
	}
	return out, nil
}

// SumRunTotals is MigrationRunTotals computed the long way, by one sum
// over every mailbox of the migration: the reference the counters must
// equal (tests compare them after real runs; an operator may too).
func SumRunTotals(ctx context.Context, db DBTX, tenantID, migrationID int64) (map[int64]RunTotals, error) {
	// Only a retryable mailbox (see MailboxRun.Retryable) looks its line up
	// (for the kept password), so the sum reads mailbox_runs alone.
	rows, err := db.Query(ctx, `
		SELECT b.run_id, count(*),
			count(*) FILTER (WHERE b.status NOT IN ('pending', 'running')),
			count(*) FILTER (WHERE b.status = 'failed'),
			count(*) FILTER (WHERE (b.status = 'failed' OR b.status = 'completed_with_errors' AND (b.failed > 0 OR b.verify_missing > 0 OR b.verify_duplicates > 0 OR b.verify_flags_behind > 0)) AND (
				EXISTS (SELECT 1 FROM migrations m WHERE m.id = $2 AND m.tenant_id = $1 AND m.master_password_enc IS NOT NULL)
				OR EXISTS (SELECT 1 FROM migration_lines l WHERE l.id = b.line_id AND l.tenant_id = b.tenant_id
					AND l.remote_password_enc IS NOT NULL))),
			sum(b.done), sum(b.total), sum(b.copied), sum(b.already_there), sum(b.too_large), sum(b.failed), sum(b.bytes),
			sum(CASE WHEN b.status IN ('pending', 'running') THEN greatest(b.total, b.done, (
					SELECT (l.preview->>'messages')::int FROM migration_lines l
					WHERE l.id = b.line_id AND l.tenant_id = b.tenant_id AND NOT coalesce((l.preview->>'partial')::boolean, false)), 0)
				ELSE greatest(b.total, b.done) END),
			min(b.started_at),
			CASE WHEN bool_and(b.status NOT IN ('pending', 'running')) THEN max(b.ended_at) END
		FROM mailbox_runs b
		WHERE b.tenant_id = $1 AND b.run_id IN (SELECT r.id FROM runs r WHERE r.tenant_id = $1 AND r.migration_id = $2)
		GROUP BY b.run_id`, tenantID, migrationID)
	if err != nil {
		return nil, fmt.Errorf("sum run totals: %w", err)
	}
	return collectRunTotals(rows, "sum run totals")
}

// CountSkipped counts the distinct messages the tenant's migration left on
// the old server (a message skipped in run 1 and again in run 2 counts
// once).
func CountSkipped(ctx context.Context, db DBTX, tenantID, migrationID int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `
		SELECT count(DISTINCT (b.line_id, s.folder, s.uid)) FROM skipped_messages s
		JOIN mailbox_runs b ON b.id = s.mailbox_run_id AND b.tenant_id = s.tenant_id
		JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
		WHERE s.tenant_id = $1 AND r.migration_id = $2`, tenantID, migrationID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count skipped: %w", err)
	}
	return n, nil
}

// PreviewTotals adds up, in SQL, what the test logins of the tenant's
// migration measured (migration_lines.preview) over its validated lines.
type PreviewTotals struct {
	Lines, Folders, Messages, TooLarge int
	Bytes, TooLargeBytes               int64
	Partial                            bool
}

// MigrationPreviewTotals returns the sum of the previews of the tenant's
// migration; Lines is 0 when no line has one. The sums are kept on the
// migration's row as its lines change (migration 105): one row read at any
// size. It equals SumPreviewTotals.
func MigrationPreviewTotals(ctx context.Context, db DBTX, tenantID, migrationID int64) (PreviewTotals, error) {
	var t PreviewTotals
	err := db.QueryRow(ctx, `
		SELECT preview_lines, preview_folders, preview_messages, preview_too_large, preview_bytes,
			preview_too_large_bytes, preview_partial_lines > 0
		FROM migrations WHERE tenant_id = $1 AND id = $2`,
		tenantID, migrationID).Scan(&t.Lines, &t.Folders, &t.Messages, &t.TooLarge, &t.Bytes, &t.TooLargeBytes, &t.Partial)
	if errors.Is(err, pgx.ErrNoRows) {
		return PreviewTotals{}, nil // no such migration: no lines, as the sum says
	}
	if err != nil {
		return PreviewTotals{}, fmt.Errorf("migration preview totals: %w", err)
	}
	return t, nil
}

// SumPreviewTotals is MigrationPreviewTotals the long way, summing every
// line: the reference the counters must equal.
func SumPreviewTotals(ctx context.Context, db DBTX, tenantID, migrationID int64) (PreviewTotals, error) {
	var t PreviewTotals
	err := db.QueryRow(ctx, `
		SELECT count(*), coalesce(sum((preview->>'folders')::int), 0), coalesce(sum((preview->>'messages')::int), 0),
			coalesce(sum((preview->>'too_large')::int), 0), coalesce(sum((preview->>'bytes')::bigint), 0),
			coalesce(sum((preview->>'too_large_bytes')::bigint), 0), coalesce(bool_or((preview->>'partial')::boolean), false)
		FROM migration_lines
		WHERE tenant_id = $1 AND migration_id = $2 AND status = 'ok' AND preview IS NOT NULL`,
		tenantID, migrationID).Scan(&t.Lines, &t.Folders, &t.Messages, &t.TooLarge, &t.Bytes, &t.TooLargeBytes, &t.Partial)
	if err != nil {
		return PreviewTotals{}, fmt.Errorf("sum preview totals: %w", err)
	}
	return t, nil
}
