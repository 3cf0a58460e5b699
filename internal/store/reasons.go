package store

import (
	"encoding/json"
	"fmt"

	"github.com/trasloco/trasloco/internal/i18n"
)

// A reason kept for a person to read (a failed line's validation, a mailbox
// run's failure, a problem with the upload as a whole) is stored as a
// message key in error_code and its arguments in error_args, and rendered
// in the reader's language when a page, a download or an email is made.
// error_text holds the text of reasons stored before, shown as stored.

// reasonSQL are the values of error_code and error_args for m: NULLs for
// no reason.
func reasonSQL(m i18n.Msg) (code, args any) {
	if m.Code == "" {
		return nil, nil
	}
	if len(m.Args) == 0 {
		return m.Code, nil
	}
	b, err := json.Marshal(m.Args)
	if err != nil {
		return m.Code, nil // cannot happen: Args hold strings and integers
	}
	return m.Code, string(b)
}

// reasonOf is the message stored as code and args (a NULL code scans as "").
func reasonOf(code string, args []byte) (i18n.Msg, error) {
	m := i18n.Msg{Code: code}
	if code == "" || len(args) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(args, &m.Args); err != nil {
		return i18n.Msg{}, fmt.Errorf("stored reason %s: %w", code, err)
	}
	return m, nil
}

// reasonText is a reason in l: the stored message, or an older row's text.
func reasonText(l i18n.Lang, m i18n.Msg, text string) string { return i18n.Render(l, m, text) }

// Reason is why the mailbox run failed (or its last attempt did), in l; ""
// when there is none.
func (m MailboxRun) Reason(l i18n.Lang) string { return reasonText(l, m.Error, m.ErrorText) }

// Reason is why the line was refused, in l; "" when it was not.
func (l Line) Reason(lang i18n.Lang) string { return reasonText(lang, l.Error, l.ErrorText) }

// Reason is the problem with the upload as a whole, in l; "" when none.
func (m Migration) Reason(l i18n.Lang) string { return reasonText(l, m.Error, m.ErrorText) }

// HasReason reports whether the migration has a problem with the upload
// as a whole, of either form.
func (m Migration) HasReason() bool { return m.Error.Code != "" || m.ErrorText != "" }

// StoredReason is a reason as stored: its message, or the text of a row
// written before codes.
type StoredReason struct {
	Msg  i18n.Msg
	Text string
}

// In is the reason in l.
func (r StoredReason) In(l i18n.Lang) string { return reasonText(l, r.Msg, r.Text) }
