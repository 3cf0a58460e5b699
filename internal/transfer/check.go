package transfer

import (
	"context"

	"github.com/emersion/go-imap/v2"

	"github.com/trasloco/trasloco/internal/i18n"
)

// CheckResult is what a test login found.
type CheckResult struct {
	// RemoteAddr is the "ip:port" the login reached; the panel pins it so
	// that later runs reach the same server whatever DNS says then.
	RemoteAddr string
	// Notes are remarks worth showing (an unverified certificate, no TLS).
	Notes []string
	// Folders is the folder plan against an empty destination with "/" as
	// delimiter, when listing was asked for.
	Folders []FolderPlan
	// Messages counts the messages of each copied folder, by source name.
	Messages map[string]uint32
	// Rules and RulesReason are, when listing was asked for, whose folder
	// rules the plan follows and why (see Result).
	Rules       Preset
	RulesWhy    RulesWhy
	RulesReason string
}

// Check logs in to an endpoint (with the preset's defaults) and, when list is
// set, plans the folders and counts their messages. It is the test the panel
// runs for every CSV line. Errors are *ConnError for connection and login
// failures.
func Check(ctx context.Context, p Preset, e Endpoint, to Timeouts, list bool) (*CheckResult, error) {
	res := &CheckResult{}
	s, err := dial(ctx, SideSource, p, e, to, func(n i18n.Msg) { res.Notes = append(res.Notes, n.Text(i18n.English)) })
	if err != nil {
		return nil, err
	}
	defer s.Close()
	res.RemoteAddr = s.remote
	if !list {
		return res, nil
	}
	l, err := s.listing()
	if err != nil {
		return nil, classifyDial(SideSource, s.addr, err)
	}
	res.Rules, res.RulesWhy = effectivePreset(p, s.says(), l)
	res.RulesReason = res.RulesWhy.English(res.Rules)
	res.Folders = PlanFolders(res.Rules, l, Listing{Personal: Namespace{Delim: '/'}})
	res.Messages = map[string]uint32{}
	for _, f := range res.Folders {
		if f.Excluded != "" {
			continue
		}
		err := s.do("STATUS", s.timeouts.Command, func() error {
			st, err := s.c.Status(f.Source, &imap.StatusOptions{NumMessages: true}).Wait()
			if err == nil && st.NumMessages != nil {
				res.Messages[f.Source] = *st.NumMessages
			}
			return err
		})
		if err != nil {
			if _, ok := err.(*imap.Error); !ok {
				return nil, classifyDial(SideSource, s.addr, err)
			}
		}
	}
	return res, nil
}

// Preview is what a copy of a mailbox would take, measured by a test
// login: the folders it copies and their messages, as the copy counts them
// (those over the size limit apart), and what it leaves behind.
type Preview struct {
	Folders       int      `json:"folders"`         // folders to copy
	Messages      int      `json:"messages"`        // messages to copy (under the size limit)
	Bytes         int64    `json:"bytes"`           // their size
	TooLarge      int      `json:"too_large"`       // messages over the limit: they stay behind
	TooLargeBytes int64    `json:"too_large_bytes"` // their size
	Excluded      []string `json:"excluded"`        // folders never copied (Trash, Junk, …), by source name
	// Partial says Gmail's All Mail was not counted: only its messages in
	// no other label are copied, which a listing cannot tell.
	Partial bool `json:"partial,omitempty"`
	// Rules are the folder rules the copy will follow, and why (see
	// effectivePreset); empty in a preview stored before they were kept.
	Rules    Preset    `json:"rules,omitempty"`
	RulesWhy *RulesWhy `json:"rules_why,omitempty"`
}

// CheckPreview logs in like Check and measures what a copy would take
// (Preview), with maxSize the size over which a message is not copied
// (DefaultMaxMessageSize when 0). The source is only EXAMINEd: nothing
// there changes. Errors are *ConnError for connection and login failures.
func CheckPreview(ctx context.Context, p Preset, e Endpoint, to Timeouts, maxSize int64) (*Preview, error) {
	s, err := dial(ctx, SideSource, p, e, to, func(i18n.Msg) {})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.preview(p, maxSize)
}

// CheckWithPreview is Check without listing followed, on the same
// connection (one login, one token), by CheckPreview's measure: res and
// err are Check's; pv is nil and previewErr says why when the login
// succeeded but the measure did not.
func CheckWithPreview(ctx context.Context, p Preset, e Endpoint, to Timeouts, maxSize int64) (res *CheckResult, pv *Preview, previewErr, err error) {
	res = &CheckResult{}
	s, err := dial(ctx, SideSource, p, e, to, func(n i18n.Msg) { res.Notes = append(res.Notes, n.Text(i18n.English)) })
	if err != nil {
		return nil, nil, nil, err
	}
	defer s.Close()
	res.RemoteAddr = s.remote
	pv, previewErr = s.preview(p, maxSize)
	return res, pv, previewErr, nil
}

// preview measures, on a logged-in source session, what a copy under
// preset p would take (see CheckPreview).
func (s *session) preview(p Preset, maxSize int64) (*Preview, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	l, err := s.listing()
	if err != nil {
		return nil, classifyDial(SideSource, s.addr, err)
	}
	rules, why := effectivePreset(p, s.says(), l)
	pv := &Preview{Rules: rules, RulesWhy: &why}
	for _, f := range PlanFolders(rules, l, Listing{Personal: Namespace{Delim: '/'}}) {
		if f.Excluded != "" {
			if f.Excluded != ExclNoSelect && f.Excluded != ExclParentSkip {
				pv.Excluded = append(pv.Excluded, f.Source)
			}
			continue
		}
		pv.Folders++
		if f.OnlyUnlabelled {
			pv.Partial = true
			continue
		}
		var n uint32
		err := s.do("EXAMINE", s.timeouts.Command, func() error {
			sel, err := s.c.Select(f.Source, &imap.SelectOptions{ReadOnly: true}).Wait()
			if err == nil {
				n = sel.NumMessages
			}
			return err
		})
		if _, ok := err.(*imap.Error); ok {
			continue // a folder the server will not open: the copy logs it too
		}
		if err != nil {
			return nil, classifyDial(SideSource, s.addr, err)
		}
		if n == 0 {
			continue
		}
		err = s.do("FETCH", s.timeouts.Command, func() error {
			var set imap.SeqSet
			set.AddRange(1, 0)
			cmd := s.c.Fetch(set, &imap.FetchOptions{RFC822Size: true})
			for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
				buf, err := msg.Collect()
				if err != nil {
					cmd.Close()
					return err
				}
				if buf.RFC822Size > maxSize {
					pv.TooLarge++
					pv.TooLargeBytes += buf.RFC822Size
				} else {
					pv.Messages++
					pv.Bytes += buf.RFC822Size
				}
			}
			return cmd.Close()
		})
		if err != nil {
			if _, ok := err.(*imap.Error); ok {
				continue
			}
			return nil, classifyDial(SideSource, s.addr, err)
		}
	}
	return pv, nil
}
