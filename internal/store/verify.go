package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Verdict is what the verification after a mailbox's copy found, summed
// over its folders (mailbox_runs.verified and verify_*).
type Verdict struct {
	// Verified is nil while the mailbox run is not verified, else the
	// messages found at the destination of the Expected ones this run had
	// to bring.
	Verified          *int
	Expected          int
	Missing           int // copied, but not at the destination (not the failed ones)
	Duplicates        int // twice at the destination, not removed
	DeletedByCustomer int // copied by an earlier run, deleted at the destination since
	StillThere        int // copied by an earlier run, still at the destination
	ExcludedCopied    int // left on the old server by the rules, yet at the destination
	FlagsBehind       int
}

// Done reports whether the mailbox run was verified.
func (v Verdict) Done() bool { return v.Verified != nil }

// OK reports whether the verification found nothing wrong.
func (v Verdict) OK() bool {
	return v.Done() && v.Missing == 0 && v.Duplicates == 0 && v.ExcludedCopied == 0 && v.FlagsBehind == 0
}

// Repairable reports whether "Riprova" can mend what the verification
// found: copy what is missing, remove duplicates, bring flags.
func (v Verdict) Repairable() bool { return v.Missing > 0 || v.Duplicates > 0 || v.FlagsBehind > 0 }

// FolderRow is one folder of a mailbox run: its figures at the end of its
// copy and what its verification found.
type FolderRow struct {
	Source, Dest string
	// Excluded is why the folder was not copied, a code; "" when it was.
	Excluded     string
	Messages     int
	Bytes        int64
	Copied       int
	AlreadyThere int
	TooLarge     int
	Failed       int
	Gone         int
	// Verified is nil while the folder is not verified.
	Verified          *int
	Expected          int
	Missing           int
	Duplicates        int
	Removed           int
	DeletedByCustomer int
	StillThere        int
	ExcludedCopied    int
	FlagsBehind       int
}

// SaveFolderFigures writes a folder's figures at the end of its copy in an
// attempt of the mailbox run; a later attempt writes them again. An
// attempt sees what earlier ones copied as already there, so copied is
// what the checkpoint records this mailbox run put there (never fewer
// than this attempt counted, never more than copied and already there
// together): right after a crash, a retry or Riprova alike.
func SaveFolderFigures(ctx context.Context, db DBTX, tenantID, mailboxRunID int64, position int, f FolderRow) error {
	return SaveFoldersFigures(ctx, db, tenantID, mailboxRunID, []PositionedFolder{{Position: position, Row: f}})
}

// PositionedFolder is a folder's figures and its place in the order the
// copy ended the folders (see SaveFolderFigures).
type PositionedFolder struct {
	Position int
	Row      FolderRow
}

// SaveFoldersFigures is SaveFolderFigures for several folders, in one
// statement; their sources must differ.
func SaveFoldersFigures(ctx context.Context, db DBTX, tenantID, mailboxRunID int64, fs []PositionedFolder) error {
	if len(fs) == 0 {
		return nil
	}
	n := len(fs)
	src, dest, excl := make([]string, n), make([]string, n), make([]string, n)
	msgs, copied, already, large, failed, gone, pos := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	bytes := make([]int64, n)
	for i, f := range fs {
		r := f.Row
		src[i], dest[i], excl[i] = r.Source, r.Dest, r.Excluded
		msgs[i], copied[i], already[i], large[i], failed[i], gone[i], pos[i] = int32(r.Messages), int32(r.Copied), int32(r.AlreadyThere),
			int32(r.TooLarge), int32(r.Failed), int32(r.Gone), int32(f.Position)
		bytes[i] = r.Bytes
	}
	_, err := db.Exec(ctx, `
		INSERT INTO mailbox_run_folders AS x (mailbox_run_id, tenant_id, source, dest, excluded, messages, bytes,
			copied, already_there, too_large, failed, gone, position)
		SELECT b.id, b.tenant_id, u.source, u.dest, u.excluded, u.messages, u.bytes, c.copied, u.copied + u.already - c.copied,
			u.too_large, u.failed, u.gone, u.position
		FROM mailbox_runs b,
			unnest($3::text[], $4::text[], $5::text[], $6::integer[], $7::bigint[], $8::integer[], $9::integer[],
				$10::integer[], $11::integer[], $12::integer[], $13::integer[])
				AS u(source, dest, excluded, messages, bytes, copied, already, too_large, failed, gone, position),
			LATERAL (SELECT least(u.copied + u.already, greatest(u.copied, (SELECT count(*) FROM copied_messages cm
				WHERE cm.tenant_id = b.tenant_id AND cm.line_id = b.line_id AND cm.folder = u.source AND cm.mailbox_run_id = b.id)))::integer AS copied) c
		WHERE b.tenant_id = $1 AND b.id = $2
		ON CONFLICT (mailbox_run_id, source) DO UPDATE SET dest = EXCLUDED.dest, excluded = EXCLUDED.excluded,
			messages = EXCLUDED.messages, bytes = EXCLUDED.bytes, copied = EXCLUDED.copied,
			already_there = EXCLUDED.already_there, too_large = EXCLUDED.too_large, failed = EXCLUDED.failed,
			gone = x.gone + EXCLUDED.gone, position = EXCLUDED.position, updated_at = now()`,
		tenantID, mailboxRunID, src, dest, excl, msgs, bytes, copied, already, large, failed, gone, pos)
	if err != nil {
		return fmt.Errorf("save folder figures: %w", err)
	}
	return nil
}

// FolderCheck is a folder's verification and its findings (see
// SaveFolderCheck).
type FolderCheck struct {
	Row      FolderRow
	Findings []Finding
}

// SaveFolderChecks is SaveFolderCheck for several folders, in three
// statements at most; their sources must differ. Given a transaction it
// writes in it, else in one of its own.
func SaveFolderChecks(ctx context.Context, db DBTX, tenantID, mailboxRunID int64, cs []FolderCheck) error {
	if len(cs) == 0 {
		return nil
	}
	n := len(cs)
	src, dest := make([]string, n), make([]string, n)
	var verified []*int32
	exp, miss, dup, rem, del, still, exc, flags := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n),
		make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	var fFolder, fKind, fSender, fSubject, fReason []string
	var fUID, fSize []int64
	var fDate []*time.Time
	for i, c := range cs {
		r := c.Row
		src[i], dest[i] = r.Source, r.Dest
		var v *int32
		if r.Verified != nil {
			x := int32(*r.Verified)
			v = &x
		}
		verified = append(verified, v)
		exp[i], miss[i], dup[i], rem[i], del[i], still[i], exc[i], flags[i] = int32(r.Expected), int32(r.Missing), int32(r.Duplicates),
			int32(r.Removed), int32(r.DeletedByCustomer), int32(r.StillThere), int32(r.ExcludedCopied), int32(r.FlagsBehind)
		for _, x := range c.Findings {
			fFolder, fKind, fSender, fSubject, fReason = append(fFolder, r.Source), append(fKind, x.Kind), append(fSender, x.Sender),
				append(fSubject, x.Subject), append(fReason, x.Reason)
			fUID, fSize, fDate = append(fUID, int64(x.UID)), append(fSize, x.Size), append(fDate, x.Date)
		}
	}
	write := func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO mailbox_run_folders AS x (mailbox_run_id, tenant_id, source, dest, verified, expected, missing,
				duplicates, removed, deleted_by_customer, still_there, excluded_copied, flags_behind)
			SELECT b.id, b.tenant_id, u.*
			FROM mailbox_runs b,
				unnest($3::text[], $4::text[], $5::integer[], $6::integer[], $7::integer[], $8::integer[], $9::integer[],
					$10::integer[], $11::integer[], $12::integer[], $13::integer[])
					AS u(source, dest, verified, expected, missing, duplicates, removed, deleted, still, excluded, flags)
			WHERE b.tenant_id = $1 AND b.id = $2
			ON CONFLICT (mailbox_run_id, source) DO UPDATE SET dest = EXCLUDED.dest, verified = EXCLUDED.verified,
				expected = EXCLUDED.expected, missing = EXCLUDED.missing, duplicates = EXCLUDED.duplicates,
				removed = EXCLUDED.removed, deleted_by_customer = EXCLUDED.deleted_by_customer,
				still_there = EXCLUDED.still_there, excluded_copied = EXCLUDED.excluded_copied,
				flags_behind = EXCLUDED.flags_behind, updated_at = now()`,
			tenantID, mailboxRunID, src, dest, verified, exp, miss, dup, rem, del, still, exc, flags); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM verify_findings WHERE tenant_id = $1 AND mailbox_run_id = $2 AND folder = ANY($3)`,
			tenantID, mailboxRunID, src); err != nil {
			return err
		}
		if len(fFolder) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO verify_findings (mailbox_run_id, tenant_id, folder, kind, uid, size, date, sender, subject, reason)
			SELECT b.id, b.tenant_id, u.*
			FROM mailbox_runs b,
				unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
					AS u(folder, kind, uid, size, date, sender, subject, reason)
			WHERE b.tenant_id = $1 AND b.id = $2
			ON CONFLICT DO NOTHING`,
			tenantID, mailboxRunID, fFolder, fKind, fUID, fSize, fDate, fSender, fSubject, fReason)
		return err
	}
	var err error
	if tx, ok := db.(pgx.Tx); ok {
		err = write(tx)
	} else {
		err = pgx.BeginFunc(ctx, db, write)
	}
	if err != nil {
		return fmt.Errorf("save folder checks: %w", err)
	}
	return nil
}

// Finding is a message the verification points at: missing, twice or
// excluded yet at the destination (Kind), with its reason code.
type Finding struct {
	MailboxRunID int64
	Folder       string
	Kind         string // missing, duplicate, excluded_copied
	UID          uint32 // at the source
	Size         int64
	Date         *time.Time
	Sender       string
	Subject      string
	Reason       string
}

// SaveFolderCheck writes a folder's verification and replaces its findings,
// in one transaction: the latest verification of the folder is what stays.
func SaveFolderCheck(ctx context.Context, db DBTX, tenantID, mailboxRunID int64, f FolderRow, findings []Finding) error {
	return SaveFolderChecks(ctx, db, tenantID, mailboxRunID, []FolderCheck{{Row: f, Findings: findings}})
}

// ListFolderRows returns the folders of the tenant's mailbox runs ids, by
// mailbox run: the copied ones in the order they were copied, then those
// not copied.
func ListFolderRows(ctx context.Context, db DBTX, tenantID int64, ids []int64) (map[int64][]FolderRow, error) {
	out := map[int64][]FolderRow{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `
		SELECT mailbox_run_id, source, dest, excluded, messages, bytes, copied, already_there, too_large, failed, gone,
			verified, expected, missing, duplicates, removed, deleted_by_customer, still_there, excluded_copied, flags_behind
		FROM mailbox_run_folders WHERE tenant_id = $1 AND mailbox_run_id = ANY($2)
		ORDER BY mailbox_run_id, excluded <> '', position, source`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("list folder rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var f FolderRow
		if err := rows.Scan(&id, &f.Source, &f.Dest, &f.Excluded, &f.Messages, &f.Bytes, &f.Copied, &f.AlreadyThere,
			&f.TooLarge, &f.Failed, &f.Gone, &f.Verified, &f.Expected, &f.Missing, &f.Duplicates, &f.Removed,
			&f.DeletedByCustomer, &f.StillThere, &f.ExcludedCopied, &f.FlagsBehind); err != nil {
			return nil, fmt.Errorf("list folder rows: %w", err)
		}
		out[id] = append(out[id], f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list folder rows: %w", err)
	}
	return out, nil
}

// ListFindings returns what the verification of the tenant's mailbox runs
// ids points at, by mailbox run, folder, kind and UID.
func ListFindings(ctx context.Context, db DBTX, tenantID int64, ids []int64) ([]Finding, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
		SELECT mailbox_run_id, folder, kind, uid, size, date, sender, subject, reason FROM verify_findings
		WHERE tenant_id = $1 AND mailbox_run_id = ANY($2) ORDER BY mailbox_run_id, folder, kind, uid`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Finding, error) {
		var f Finding
		var uid int64
		err := r.Scan(&f.MailboxRunID, &f.Folder, &f.Kind, &uid, &f.Size, &f.Date, &f.Sender, &f.Subject, &f.Reason)
		f.UID = uint32(uid)
		return f, err
	})
}

// VerifiedFolders are the source folders of the tenant's mailbox run whose
// verification found nothing wrong: a resumed attempt need not verify them
// again unless it writes there.
func VerifiedFolders(ctx context.Context, db DBTX, tenantID, mailboxRunID int64) (map[string]bool, error) {
	rows, err := db.Query(ctx, `
		SELECT source FROM mailbox_run_folders WHERE tenant_id = $1 AND mailbox_run_id = $2 AND verified IS NOT NULL
			AND missing = 0 AND duplicates = removed AND excluded_copied = 0 AND flags_behind = 0`, tenantID, mailboxRunID)
	if err != nil {
		return nil, fmt.Errorf("verified folders: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("verified folders: %w", err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// SaveVerdict sums the verification of the tenant's mailbox run's copied
// folders into mailbox_runs.verified and verify_*, and returns it; a
// copied folder not verified leaves the mailbox run not verified (NULL).
func SaveVerdict(ctx context.Context, db DBTX, tenantID, mailboxRunID int64) (Verdict, error) {
	var v Verdict
	err := db.QueryRow(ctx, `
		UPDATE mailbox_runs b SET verified = s.verified, verify_expected = s.expected, verify_missing = s.missing,
			verify_duplicates = s.duplicates, verify_deleted_by_customer = s.deleted, verify_excluded_copied = s.excluded,
			verify_flags_behind = s.flags, verify_still_there = s.still, updated_at = now()
		FROM (SELECT CASE WHEN bool_and(f.verified IS NOT NULL) THEN coalesce(sum(f.verified), 0) END AS verified,
				coalesce(sum(f.expected), 0) AS expected, coalesce(sum(f.missing), 0) AS missing,
				coalesce(sum(f.duplicates - f.removed), 0) AS duplicates, coalesce(sum(f.deleted_by_customer), 0) AS deleted,
				coalesce(sum(f.excluded_copied), 0) AS excluded, coalesce(sum(f.flags_behind), 0) AS flags,
				coalesce(sum(f.still_there), 0) AS still
			FROM mailbox_run_folders f WHERE f.tenant_id = $1 AND f.mailbox_run_id = $2 AND f.excluded = '') s
		WHERE b.tenant_id = $1 AND b.id = $2
		RETURNING b.verified, b.verify_expected, b.verify_missing, b.verify_duplicates, b.verify_deleted_by_customer,
			b.verify_excluded_copied, b.verify_flags_behind, b.verify_still_there`, tenantID, mailboxRunID).Scan(
		&v.Verified, &v.Expected, &v.Missing, &v.Duplicates, &v.DeletedByCustomer, &v.ExcludedCopied, &v.FlagsBehind, &v.StillThere)
	if err != nil {
		return v, fmt.Errorf("save verdict: %w", notFound(err))
	}
	return v, nil
}
