package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/i18n"
)

// LogLine is one line of a mailbox run's log. It never holds a password:
// the engine's messages are built from endpoints without theirs.
type LogLine struct {
	ID     int64
	At     time.Time
	Level  string // debug, info, warn, error
	Folder string
	// Event is what happened, a key and its arguments: a line stores it,
	// never its rendered text (see Text).
	Event i18n.Msg
	// Message is the text of a line stored before events, shown as it is;
	// empty for a newer one.
	Message string
}

// Text is the line in l: its event rendered, or an older line's text.
func (l LogLine) Text(lang i18n.Lang) string { return i18n.Render(lang, l.Event, l.Message) }

// AppendMailboxLogs adds lines to the log of the tenant's mailbox run.
func AppendMailboxLogs(ctx context.Context, db DBTX, tenantID, mailboxRunID int64, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	ats := make([]time.Time, len(lines))
	levels := make([]string, len(lines))
	folders := make([]string, len(lines))
	msgs := make([]string, len(lines))
	codes := make([]string, len(lines))
	args := make([]string, len(lines))
	for i, l := range lines {
		ats[i], levels[i], folders[i], msgs[i], codes[i] = l.At, l.Level, l.Folder, l.Message, l.Event.Code
		if l.Event.Code == "" && l.Message == "" {
			return fmt.Errorf("append mailbox logs: line %d has neither an event nor a text", i)
		}
		if len(l.Event.Args) > 0 {
			b, err := json.Marshal(l.Event.Args)
			if err != nil {
				return fmt.Errorf("append mailbox logs: %w", err)
			}
			args[i] = string(b)
		}
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO mailbox_logs (mailbox_run_id, tenant_id, at, level, folder, message, code, args)
		SELECT b.id, b.tenant_id, u.at, u.level, NULLIF(u.folder, ''), NULLIF(u.message, ''), NULLIF(u.code, ''), NULLIF(u.args, '')::jsonb
		FROM mailbox_runs b, unnest($3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS u(at, level, folder, message, code, args, n)
		WHERE b.tenant_id = $1 AND b.id = $2
		ORDER BY u.n`, tenantID, mailboxRunID, ats, levels, folders, msgs, codes, args)
	if err != nil {
		return fmt.Errorf("append mailbox logs: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("append mailbox logs: %w", ErrNotFound)
	}
	return nil
}

// ListMailboxLogs returns the log of the tenant's mailbox run, oldest first.
func ListMailboxLogs(ctx context.Context, db DBTX, tenantID, mailboxRunID int64) ([]LogLine, error) {
	rows, err := db.Query(ctx, `
		SELECT id, at, level, COALESCE(folder, ''), COALESCE(message, ''), COALESCE(code, ''), args FROM mailbox_logs
		WHERE tenant_id = $1 AND mailbox_run_id = $2 ORDER BY id`, tenantID, mailboxRunID)
	if err != nil {
		return nil, fmt.Errorf("list mailbox logs: %w", err)
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LogLine, error) {
		var l LogLine
		var args []byte
		if err := r.Scan(&l.ID, &l.At, &l.Level, &l.Folder, &l.Message, &l.Event.Code, &args); err != nil {
			return l, err
		}
		if len(args) > 0 {
			if err := json.Unmarshal(args, &l.Event.Args); err != nil {
				return l, fmt.Errorf("line %d: %w", l.ID, err)
			}
		}
		return l, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list mailbox logs: %w", err)
	}
	return ls, nil
}

// SkippedMessage is a message a run did not copy (over the size limit, or
// failed for a reason of its own), listed so the customer can move it by
// hand.
type SkippedMessage struct {
	MailboxRunID int64
	Folder       string
	UID          uint32
	Size         int64
	Date         *time.Time
	Sender       string
	Subject      string
	Reason       string // a code: too_large, not_delivered, refused_by_source, … (transfer.Reason*)
	Detail       string // what goes with the reason: the server's words, sizes
}

// AddSkippedMessage lists a skipped message of the tenant's mailbox run,
// once however often it is reported.
func AddSkippedMessage(ctx context.Context, db DBTX, tenantID int64, s SkippedMessage) error {
	if s.Reason == "" {
		s.Reason = "too_large"
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO skipped_messages (mailbox_run_id, tenant_id, folder, uid, size, date, sender, subject, reason, detail)
		SELECT b.id, b.tenant_id, $3, $4, $5, $6, $7, $8, $9, $10 FROM mailbox_runs b WHERE b.tenant_id = $1 AND b.id = $2
		ON CONFLICT (mailbox_run_id, folder, uid) DO NOTHING`,
		tenantID, s.MailboxRunID, s.Folder, int64(s.UID), s.Size, s.Date, s.Sender, s.Subject, s.Reason, s.Detail)
	if err != nil {
		return fmt.Errorf("add skipped message: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := GetMailboxRun(ctx, db, tenantID, s.MailboxRunID); err != nil {
			return fmt.Errorf("add skipped message: %w", err)
		}
	}
	return nil
}

// ListSkippedMessages returns the skipped messages of the tenant's mailbox
// run by folder and date.
func ListSkippedMessages(ctx context.Context, db DBTX, tenantID, mailboxRunID int64) ([]SkippedMessage, error) {
	rows, err := db.Query(ctx, `
		SELECT mailbox_run_id, folder, uid, size, date, sender, subject, reason, detail FROM skipped_messages
		WHERE tenant_id = $1 AND mailbox_run_id = $2 ORDER BY folder, date NULLS LAST, uid`, tenantID, mailboxRunID)
	if err != nil {
		return nil, fmt.Errorf("list skipped messages: %w", err)
	}
	ss, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SkippedMessage, error) {
		var s SkippedMessage
		var uid int64
		err := r.Scan(&s.MailboxRunID, &s.Folder, &uid, &s.Size, &s.Date, &s.Sender, &s.Subject, &s.Reason, &s.Detail)
		s.UID = uint32(uid)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list skipped messages: %w", err)
	}
	return ss, nil
}
