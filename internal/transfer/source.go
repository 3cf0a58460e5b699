package transfer

import (
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// source is the connection to the old server. It offers only commands that
// read, so the engine cannot write there (no STORE, COPY, MOVE, EXPUNGE,
// CREATE, DELETE, RENAME, SUBSCRIBE or APPEND) whatever the server answers:
// folders are opened with EXAMINE and bodies fetched with BODY.PEEK.
type source struct {
	s *session
}

// remote is the "ip:port" reached.
func (src *source) remote() string { return src.s.remote }

// examine opens a folder read-only; EXAMINE never sets \Seen.
func (src *source) examine(name string) (*imap.SelectData, error) {
	var sel *imap.SelectData
	err := src.s.do("EXAMINE", src.s.timeouts.Command, func() error {
		var err error
		sel, err = src.s.c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	})
	return sel, err
}

// caps are the capabilities the old server announced after login.
func (src *source) caps() imap.CapSet { return src.s.caps }

// says is what the old server said about itself: capabilities, greeting.
func (src *source) says() serverSays { return src.s.says() }

// listing lists the namespaces and the folders.
func (src *source) listing() (Listing, error) { return src.s.listing() }

// fetch sends a UID FETCH; every body section is a PEEK.
func (src *source) fetch(set imap.UIDSet, opts *imap.FetchOptions) *imapclient.FetchCommand {
	return src.s.fetch(set, opts)
}

// messages is the number of messages of a folder (STATUS MESSAGES).
func (src *source) messages(name string) (uint32, error) {
	var n uint32
	err := src.s.do("STATUS", src.s.timeouts.Command, func() error {
		st, err := src.s.c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		if err == nil && st.NumMessages != nil {
			n = *st.NumMessages
		}
		return err
	})
	return n, err
}

// uidSearch runs UID SEARCH UID set: which of set are still there.
func (src *source) uidSearch(set imap.UIDSet) ([]imap.UID, error) {
	var uids []imap.UID
	err := src.s.do("UID SEARCH", src.s.timeouts.Command, func() error {
		data, err := src.s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
		if err != nil {
			return err
		}
		uids = data.AllUIDs()
		return nil
	})
	return uids, err
}

func (src *source) watchdog(d time.Duration) *time.Timer { return src.s.watchdog(d) }
func (src *source) wasTimedOut() bool                    { return src.s.wasTimedOut() }
func (src *source) cut()                                 { src.s.cut() }
func (src *source) cause(err error) error                { return src.s.cause(err) }

// Close logs out and closes the connection.
func (src *source) Close() { src.s.Close() }

// fetch sends a UID FETCH of set; a body section is always a PEEK, so that
// reading never changes a message's flags.
func (s *session) fetch(set imap.UIDSet, opts *imap.FetchOptions) *imapclient.FetchCommand {
	for _, bs := range opts.BodySection {
		bs.Peek = true
	}
	return s.c.Fetch(set, opts)
}

// fetcher is a connection a header FETCH runs on: the source, or a
// destination connection.
type fetcher interface {
	fetch(set imap.UIDSet, opts *imap.FetchOptions) *imapclient.FetchCommand
	watchdog(d time.Duration) *time.Timer
	wasTimedOut() bool
	cause(error) error
}
