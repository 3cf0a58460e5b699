package transfer

import (
	"context"

	"github.com/emersion/go-imap/v2"
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
}

// Check logs in to an endpoint (with the preset's defaults) and, when list is
// set, plans the folders and counts their messages. It is the test the panel
// runs for every CSV line. Errors are *ConnError for connection and login
// failures.
func Check(ctx context.Context, p Preset, e Endpoint, to Timeouts, list bool) (*CheckResult, error) {
	res := &CheckResult{}
	s, err := dial(ctx, SideSource, p, e, to, func(n string) { res.Notes = append(res.Notes, n) })
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
	res.Folders = PlanFolders(p, l, Listing{Personal: Namespace{Delim: '/'}})
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
