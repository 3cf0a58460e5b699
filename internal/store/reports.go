package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// reportBatch is how many rows a report reads per query: a report of any
// size is read in pages (keyset, never OFFSET), so neither the process nor
// a held connection carries the whole migration while the file is written.
const reportBatch = 500

// EachReportMailbox calls fn for every mailbox run of the tenant's
// migration, by line then run, in pages of reportBatch rows: only run runNo's
// when runNo > 0. It stops at fn's first error and returns it. A migration
// of another tenant has no rows.
func EachReportMailbox(ctx context.Context, db DBTX, tenantID, migrationID int64, runNo int, fn func(MailboxRun) error) error {
	lineNo, lastRun := 0, 0
	for {
		ms, err := collectMailboxRuns(db.Query(ctx, `SELECT `+mailboxRunColumns+mailboxRunFrom+`
			WHERE b.tenant_id = $1 AND r.migration_id = $2 AND ($3 = 0 OR r.run_no = $3)
				AND (l.line_no, r.run_no) > ($4, $5)
			ORDER BY l.line_no, r.run_no LIMIT $6`, tenantID, migrationID, runNo, lineNo, lastRun, reportBatch))
		if err != nil {
			return fmt.Errorf("report mailboxes: %w", err)
		}
		for _, m := range ms {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(ms) < reportBatch {
			return nil
		}
		last := ms[len(ms)-1]
		lineNo, lastRun = last.LineNo, last.RunNo
	}
}

// ReportSkipped is a message a run did not copy, with its mailbox named.
type ReportSkipped struct {
	SkippedMessage
	LineNo    int
	RunNo     int
	LocalUser string
}

// EachReportSkipped calls fn for every message the runs of the tenant's
// migration skipped or failed (only run runNo's when runNo > 0), by line,
// run, folder and UID, in pages of reportBatch rows. It stops at fn's
// first error and returns it.
func EachReportSkipped(ctx context.Context, db DBTX, tenantID, migrationID int64, runNo int, fn func(ReportSkipped) error) error {
	var cur ReportSkipped
	for {
		// Driven by the migration's mailbox runs, each probing its own
		// skipped messages by the (mailbox_run_id, folder, uid) index: a
		// plan the planner cannot turn into a product of every skipped
		// message with every line, as it did with the four tables joined
		// flat and statistics not yet gathered after a large insert (2.7 s
		// for a page of nothing, TestReportsCSV).
		rows, err := db.Query(ctx, `
			SELECT s.mailbox_run_id, s.folder, s.uid, s.size, s.date, s.sender, s.subject, s.reason, s.detail,
				m.line_no, m.run_no, m.local_user
			FROM (SELECT b.id, l.line_no, r.run_no, l.local_user
				FROM mailbox_runs b
				JOIN runs r ON r.id = b.run_id AND r.tenant_id = b.tenant_id
				JOIN migration_lines l ON l.id = b.line_id AND l.tenant_id = b.tenant_id
				WHERE b.tenant_id = $1 AND r.migration_id = $2 AND ($3 = 0 OR r.run_no = $3)
					AND (l.line_no, r.run_no) >= ($4, $5)
				OFFSET 0) m
			CROSS JOIN LATERAL (
				SELECT * FROM skipped_messages s
				WHERE s.mailbox_run_id = m.id AND s.tenant_id = $1
					AND ((m.line_no, m.run_no) > ($4, $5) OR (s.folder, s.uid) > ($6, $7))
				ORDER BY s.folder, s.uid LIMIT $8) s
			ORDER BY m.line_no, m.run_no, s.folder, s.uid LIMIT $8`,
			tenantID, migrationID, runNo, cur.LineNo, cur.RunNo, cur.Folder, int64(cur.UID), reportBatch)
		if err != nil {
			return fmt.Errorf("report skipped: %w", err)
		}
		ss, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportSkipped, error) {
			var s ReportSkipped
			var uid int64
			err := r.Scan(&s.MailboxRunID, &s.Folder, &uid, &s.Size, &s.Date, &s.Sender, &s.Subject, &s.Reason, &s.Detail,
				&s.LineNo, &s.RunNo, &s.LocalUser)
			s.UID = uint32(uid)
			return s, err
		})
		if err != nil {
			return fmt.Errorf("report skipped: %w", err)
		}
		for _, s := range ss {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(ss) < reportBatch {
			return nil
		}
		cur = ss[len(ss)-1]
	}
}
