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
	rows, err := c.DB.Query(ctx, `
		SELECT src_uid, COALESCE(dst_uid, 0), flags, $4 <> 0 AND mailbox_run_id IS DISTINCT FROM $4 FROM copied_messages
		WHERE tenant_id = $1 AND line_id = $2 AND folder = $3`, c.TenantID, c.LineID, folder, c.MailboxRunID)
	if err != nil {
		return st, fmt.Errorf("load copied messages: %w", err)
	}
	defer rows.Close()
	st.Messages = map[uint32]transfer.Copied{}
	for rows.Next() {
		var src, dst int64
		var flags []string
		var earlier bool
		if err := rows.Scan(&src, &dst, &flags, &earlier); err != nil {
			return st, fmt.Errorf("load copied messages: %w", err)
		}
		st.Messages[uint32(src)] = transfer.Copied{DestUID: uint32(dst), Flags: flags, Earlier: earlier}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("load copied messages: %w", err)
	}
	return st, nil
}

// ResetFolder implements transfer.CheckpointStore: in one transaction, the
// folder's records go and its validity values are replaced.
func (c Checkpoints) ResetFolder(ctx context.Context, folder string, st transfer.FolderState) error {
	tx, err := c.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("reset checkpoint: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM copied_messages WHERE tenant_id = $1 AND line_id = $2 AND folder = $3`,
		c.TenantID, c.LineID, folder); err != nil {
		return fmt.Errorf("reset checkpoint: %w", err)
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO checkpoints (line_id, tenant_id, folder, uid_validity, dest_folder, dest_uid_validity)
		SELECT l.id, l.tenant_id, $3, $4, $5, $6 FROM migration_lines l WHERE l.tenant_id = $1 AND l.id = $2
		ON CONFLICT (line_id, folder) DO UPDATE SET uid_validity = EXCLUDED.uid_validity,
			dest_folder = EXCLUDED.dest_folder, dest_uid_validity = EXCLUDED.dest_uid_validity,
			last_uid = 0, updated_at = now()`,
		c.TenantID, c.LineID, folder, int64(st.UIDValidity), st.DestFolder, int64(st.DestUIDValidity))
	if err != nil {
		return fmt.Errorf("reset checkpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("reset checkpoint: line %d: %w", c.LineID, ErrNotFound)
	}
	return tx.Commit(ctx)
}

// RecordMessages implements transfer.CheckpointStore with one statement per
// batch.
func (c Checkpoints) RecordMessages(ctx context.Context, folder string, msgs map[uint32]transfer.Copied) error {
	if len(msgs) == 0 {
		return nil
	}
	srcs := make([]int64, 0, len(msgs))
	dsts := make([]int64, 0, len(msgs))
	flags := make([]string, 0, len(msgs)) // flags joined by spaces: IMAP flags hold none
	for uid, m := range msgs {
		srcs = append(srcs, int64(uid))
		dsts = append(dsts, int64(m.DestUID))
		flags = append(flags, strings.Join(m.Flags, " "))
	}
	tag, err := c.DB.Exec(ctx, `
		INSERT INTO copied_messages (line_id, tenant_id, folder, src_uid, dst_uid, flags, mailbox_run_id)
		SELECT c.line_id, c.tenant_id, c.folder, u.src, NULLIF(u.dst, 0), COALESCE(string_to_array(NULLIF(u.flags, ''), ' '), '{}'), NULLIF($7, 0)
		FROM checkpoints c, unnest($4::bigint[], $5::bigint[], $6::text[]) AS u(src, dst, flags)
		WHERE c.tenant_id = $1 AND c.line_id = $2 AND c.folder = $3
		ON CONFLICT (line_id, folder, src_uid) DO UPDATE SET dst_uid = EXCLUDED.dst_uid, flags = EXCLUDED.flags`,
		c.TenantID, c.LineID, folder, srcs, dsts, flags, c.MailboxRunID)
	if err != nil {
		return fmt.Errorf("record copied messages: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("record copied messages: folder %q of line %d was never reset: %w", folder, c.LineID, ErrNotFound)
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
			AND ($5 = 0 OR mailbox_run_id = $5)`,
		c.TenantID, c.LineID, folder, ids, c.MailboxRunID)
	if err != nil {
		return fmt.Errorf("forget copied messages: %w", err)
	}
	return nil
}
