package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/transfer"
)

// Checkpoints is the transfer engine's checkpoint store for one migration
// line (one mailbox), on the checkpoints and copied_messages tables. It
// carries the tenant id, so every query stays scoped like the rest of the
// store. The same line's checkpoints serve run 1 and run 2: that is how run
// 2 copies only what is new.
type Checkpoints struct {
	DB       DBTX
	TenantID int64
	LineID   int64
	// MailboxRunID is the mailbox run recording: a message recorded by
	// another (an earlier run of the line) loads as Copied.Earlier. 0 when
	// unknown: nothing is earlier.
	MailboxRunID int64
}

var _ transfer.CheckpointStore = Checkpoints{}

// With is c on db (a transaction, say).
func (c Checkpoints) With(db DBTX) Checkpoints {
	c.DB = db
	return c
}

// LoadFolder implements transfer.CheckpointStore.
func (c Checkpoints) LoadFolder(ctx context.Context, folder string) (transfer.FolderState, error) {
	var st transfer.FolderState
	var uv, duv *int64
	err := c.DB.QueryRow(ctx, `
		SELECT uid_validity, dest_folder, dest_uid_validity FROM checkpoints
		WHERE tenant_id = $1 AND line_id = $2 AND folder = $3`, c.TenantID, c.LineID, folder).Scan(&uv, &st.DestFolder, &duv)
	if errors.Is(err, pgx.ErrNoRows) {
		return transfer.FolderState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("load checkpoint: %w", err)
	}
	if uv != nil {
		st.UIDValidity = uint32(*uv)
	}
	if duv != nil {
		st.DestUIDValidity = uint32(*duv)
	}
	st.Messages, err = c.LoadRecords(ctx, folder)
	return st, err
}

// LoadFolders returns the checkpoint of every folder of the line that has
// one, without its records (Messages nil): one query for the whole line,
// where LoadFolder takes one or two per folder.
func (c Checkpoints) LoadFolders(ctx context.Context) (map[string]transfer.FolderState, error) {
	rows, err := c.DB.Query(ctx, `
		SELECT folder, COALESCE(uid_validity, 0), dest_folder, COALESCE(dest_uid_validity, 0) FROM checkpoints
		WHERE tenant_id = $1 AND line_id = $2`, c.TenantID, c.LineID)
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]transfer.FolderState{}
	for rows.Next() {
		var folder, dest string
		var uv, duv int64
		if err := rows.Scan(&folder, &uv, &dest, &duv); err != nil {
			return nil, fmt.Errorf("load checkpoints: %w", err)
		}
		out[folder] = transfer.FolderState{UIDValidity: uint32(uv), DestFolder: dest, DestUIDValidity: uint32(duv)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	return out, nil
}

// LoadRecords returns the records of the folder's copied messages.
func (c Checkpoints) LoadRecords(ctx context.Context, folder string) (map[uint32]transfer.Copied, error) {
	rows, err := c.DB.Query(ctx, `
		SELECT src_uid, COALESCE(dst_uid, 0), flags, $4::bigint <> 0 AND mailbox_run_id IS DISTINCT FROM $4::bigint FROM copied_messages
		WHERE tenant_id = $1 AND line_id = $2 AND folder = $3`, c.TenantID, c.LineID, folder, c.MailboxRunID)
	if err != nil {
		return nil, fmt.Errorf("load copied messages: %w", err)
	}
	defer rows.Close()
	msgs := map[uint32]transfer.Copied{}
	for rows.Next() {
		var src, dst int64
		var flags []string
		var earlier bool
		if err := rows.Scan(&src, &dst, &flags, &earlier); err != nil {
			return nil, fmt.Errorf("load copied messages: %w", err)
		}
		msgs[uint32(src)] = transfer.Copied{DestUID: uint32(dst), Flags: flags, Earlier: earlier}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load copied messages: %w", err)
	}
	return msgs, nil
}

// ResetFolder implements transfer.CheckpointStore: in one transaction, the
// folder's records go and its validity values are replaced.
func (c Checkpoints) ResetFolder(ctx context.Context, folder string, st transfer.FolderState) error {
	return c.WriteBatch(ctx, CheckpointBatch{folder: {Reset: &st}})
}

// RecordMessages implements transfer.CheckpointStore with one statement per
// batch.
func (c Checkpoints) RecordMessages(ctx context.Context, folder string, msgs map[uint32]transfer.Copied) error {
	if len(msgs) == 0 {
		return nil
	}
	return c.WriteBatch(ctx, CheckpointBatch{folder: {Records: msgs}})
}

// CheckpointBatch is what a copy has to write of its folders' checkpoints
// at once, by source folder.
type CheckpointBatch map[string]*FolderWrite

// FolderWrite is one folder's part of a CheckpointBatch: a reset (its
// records go, its validity values are replaced) when Reset is set, then
// records added or replaced.
type FolderWrite struct {
	Reset   *transfer.FolderState
	Records map[uint32]transfer.Copied
}

// WriteBatch writes b in one transaction (c.DB, when it is one) with
// at most three statements whatever the folders and messages: the resets'
// deletions and upserts, then every record. A record of a folder never
// reset is ErrNotFound, and nothing of b is written.
func (c Checkpoints) WriteBatch(ctx context.Context, b CheckpointBatch) error {
	var (
		resetFolders, destFolders []string
		uvs, duvs                 []int64
		folders                   []string
		srcs, dsts                []int64
		flags                     []string // joined by spaces: IMAP flags hold none
	)
	for folder, w := range b {
		if w.Reset != nil {
			resetFolders = append(resetFolders, folder)
			destFolders = append(destFolders, w.Reset.DestFolder)
			uvs = append(uvs, int64(w.Reset.UIDValidity))
			duvs = append(duvs, int64(w.Reset.DestUIDValidity))
		}
		for uid, m := range w.Records {
			folders = append(folders, folder)
			srcs = append(srcs, int64(uid))
			dsts = append(dsts, int64(m.DestUID))
			flags = append(flags, strings.Join(m.Flags, " "))
		}
	}
	if len(resetFolders) == 0 && len(srcs) == 0 {
		return nil
	}
	tx, inTx := c.DB.(pgx.Tx) // the caller's transaction: no savepoint
	if !inTx {
		var err error
		if tx, err = c.DB.Begin(ctx); err != nil {
			return fmt.Errorf("write checkpoints: %w", err)
		}
		defer tx.Rollback(ctx)
	}
	if len(resetFolders) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM copied_messages WHERE tenant_id = $1 AND line_id = $2 AND folder = ANY($3)`,
			c.TenantID, c.LineID, resetFolders); err != nil {
			return fmt.Errorf("reset checkpoint: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO checkpoints (line_id, tenant_id, folder, uid_validity, dest_folder, dest_uid_validity)
			SELECT l.id, l.tenant_id, u.folder, u.uv, u.dest, u.duv
			FROM migration_lines l, unnest($3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS u(folder, uv, dest, duv)
			WHERE l.tenant_id = $1 AND l.id = $2
			ON CONFLICT (line_id, folder) DO UPDATE SET uid_validity = EXCLUDED.uid_validity,
				dest_folder = EXCLUDED.dest_folder, dest_uid_validity = EXCLUDED.dest_uid_validity,
				last_uid = 0, updated_at = now()`,
			c.TenantID, c.LineID, resetFolders, uvs, destFolders, duvs)
		if err != nil {
			return fmt.Errorf("reset checkpoint: %w", err)
		}
		if tag.RowsAffected() < int64(len(resetFolders)) {
			return fmt.Errorf("reset checkpoint: line %d: %w", c.LineID, ErrNotFound)
		}
	}
	if len(srcs) > 0 {
		tag, err := tx.Exec(ctx, `
			INSERT INTO copied_messages (line_id, tenant_id, folder, src_uid, dst_uid, flags, mailbox_run_id)
			SELECT c.line_id, c.tenant_id, c.folder, u.src, NULLIF(u.dst, 0), COALESCE(string_to_array(NULLIF(u.flags, ''), ' '), '{}'), NULLIF($7::bigint, 0)
			FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS u(folder, src, dst, flags)
			JOIN checkpoints c ON c.tenant_id = $1 AND c.line_id = $2 AND c.folder = u.folder
			ON CONFLICT (line_id, folder, src_uid) DO UPDATE SET dst_uid = EXCLUDED.dst_uid, flags = EXCLUDED.flags`,
			c.TenantID, c.LineID, folders, srcs, dsts, flags, c.MailboxRunID)
		if err != nil {
			return fmt.Errorf("record copied messages: %w", err)
		}
		if tag.RowsAffected() < int64(len(srcs)) {
			return fmt.Errorf("record copied messages: a folder of line %d was never reset: %w", c.LineID, ErrNotFound)
		}
	}
	if inTx {
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	return nil
}

var _ transfer.CheckpointForgetter = Checkpoints{}

// ForgetMessages implements transfer.CheckpointForgetter: the records of
// uids that this mailbox run made go (never an earlier run's: those the
// customer deleted at the destination stay recorded, so they are not
// copied back).
func (c Checkpoints) ForgetMessages(ctx context.Context, folder string, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	ids := make([]int64, len(uids))
	for i, u := range uids {
		ids[i] = int64(u)
	}
	_, err := c.DB.Exec(ctx, `
		DELETE FROM copied_messages WHERE tenant_id = $1 AND line_id = $2 AND folder = $3 AND src_uid = ANY($4)
			AND ($5::bigint = 0 OR mailbox_run_id = $5::bigint)`,
		c.TenantID, c.LineID, folder, ids, c.MailboxRunID)
	if err != nil {
		return fmt.Errorf("forget copied messages: %w", err)
	}
	return nil
}
