package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/trasloco/trasloco/internal/i18n"
)

// maxHeader bounds what is kept of the identifying header fields of one
// message.
const maxHeader = 64 << 10

// keyFields are the header fields that identify a message across servers.
var keyFields = []string{"Message-ID", "Date", "From", "Subject"}

// header is what the engine reads of a message's header.
type header struct {
	uid      uint32
	size     int64     // RFC822.SIZE
	internal time.Time // INTERNALDATE
	flags    []string
	key      string
	// fields are the identifying fields as the server sent them, kept
	// when the caller shows the message to the customer (see shown);
	// empty otherwise.
	fields string
}

// shown is what the customer reads of the message: its sender, subject
// and the date of its header, decoded from fields now (for the few
// messages shown, not for every message read).
func (h header) shown() (from, subject string, date time.Time) {
	if h.fields == "" {
		return "", "", time.Time{}
	}
	f, _ := scanFields([]byte(h.fields))
	return f.shown()
}

// fetchHeaders fetches the identifying header fields of uids (all messages
// when uids is nil) of the folder selected on s. With shown, each header
// keeps its fields for header.shown; else only their key.
func (r *runner) fetchHeaders(s fetcher, uids []uint32, shown bool) ([]header, error) {
	var set imap.UIDSet
	if uids == nil {
		set.AddRange(1, 0)
	} else {
		if len(uids) == 0 {
			return nil, nil
		}
		for _, u := range uids {
			set.AddNum(imap.UID(u))
		}
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: keyFields, Peek: true}
	wd := s.watchdog(r.job.Timeouts.Command)
	defer wd.Stop()
	cmd := s.fetch(set, &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}})
	var out []header
	var buf []byte // one message's fields at a time
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		wd.Reset(r.job.Timeouts.Command)
		var h header
		read := false
		buf = buf[:0]
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				h.uid = uint32(it.UID)
			case imapclient.FetchItemDataFlags:
				h.flags = flagStrings(it.Flags)
			case imapclient.FetchItemDataRFC822Size:
				h.size = it.Size
			case imapclient.FetchItemDataInternalDate:
				h.internal = it.Time
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil || read {
					continue
				}
				read = true
				// A few header fields: what a server sends beyond
				// maxHeader is not kept (go-imap discards it).
				var err error
				if buf, err = readUpTo(buf, it.Literal, min(it.Literal.Size(), maxHeader)); err != nil {
					cmd.Close()
					return nil, r.netErr(s, "FETCH", err)
				}
			}
		}
		raw := bytes.TrimRight(buf, "\r\n")
		f, _ := scanFields(raw)
		h.key = f.key()
		if shown {
			h.fields = string(raw)
		}
		out = append(out, h)
	}
	if err := cmd.Close(); err != nil {
		return nil, r.netErr(s, "FETCH", err)
	}
	return out, nil
}

// readUpTo reads n bytes of rd (fewer if it ends first) into buf, reusing
// its memory.
func readUpTo(buf []byte, rd io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		n = 0
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:n]
	m := 0
	for m < len(buf) {
		k, err := rd.Read(buf[m:])
		m += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf[:m], err
		}
	}
	return buf[:m], nil
}

// sameMessage returns which of the destination messages cands (which share
// the key of source message m) is m, or -1: the same RFC822.SIZE, and for a
// key hashed from the header (no Message-ID) the same INTERNALDATE too, so
// two different messages that share a Message-ID, or a Date, From and
// Subject, are both copied.
func sameMessage(m meta, key string, cands []header) int {
	for i, h := range cands {
		if h.size != m.size {
			continue
		}
		if strings.HasPrefix(key, "h:") && !sameInstant(h.internal, m.date) {
			continue
		}
		return i
	}
	return -1
}

// sameInstant compares two INTERNALDATEs to the second (their precision).
func sameInstant(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Second && d > -time.Second
}

func uidsOf(ms []meta) []uint32 {
	out := make([]uint32, len(ms))
	for i, m := range ms {
		out[i] = m.uid
	}
	return out
}

// matchExisting looks at the destination messages that the checkpoint does
// not account for and drops from todo the source messages already there,
// recording them. It returns what is left to copy.
func (r *runner) matchExisting(ctx context.Context, p FolderPlan, dst *session, st *FolderState, todo []meta) ([]meta, error) {
	to := r.job.Timeouts
	if err := dst.do("EXAMINE", to.Command, func() error {
		_, err := dst.c.Select(p.Dest, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	}); err != nil {
		return nil, asFolderError(err)
	}
	defer dst.do("UNSELECT", to.Command, func() error { return unselect(dst) })

	known := make(map[uint32]bool, len(st.Messages))
	for _, c := range st.Messages {
		known[c.DestUID] = true
	}
	var dstUIDs []uint32
	var all imap.UIDSet
	all.AddRange(1, 0)
	err := dst.do("UID SEARCH", to.Command, func() error {
		data, err := dst.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{all}}, nil).Wait()
		if err != nil {
			return err
		}
		for _, u := range data.AllUIDs() {
			if !known[uint32(u)] {
				dstUIDs = append(dstUIDs, uint32(u))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(dstUIDs) == 0 {
		return todo, nil
	}
	dstHeaders, err := r.fetchHeaders(dst, dstUIDs, false)
	if err != nil {
		return nil, err
	}
	avail := map[string][]header{}
	for _, h := range dstHeaders {
		avail[h.key] = append(avail[h.key], h)
	}
	srcHeaders, err := r.fetchHeaders(r.c.src, uidsOf(todo), false)
	if err != nil {
		return nil, err
	}
	keyOf := make(map[uint32]string, len(srcHeaders))
	for _, h := range srcHeaders {
		keyOf[h.uid] = h.key
	}
	rec := map[uint32]Copied{}
	rest := todo[:0:0]
	var found []meta
	for _, m := range todo {
		k, ok := keyOf[m.uid]
		if i := sameMessage(m, k, avail[k]); ok && i >= 0 {
			hs := avail[k]
			rec[m.uid] = Copied{DestUID: hs[i].uid, Flags: hs[i].flags}
			avail[k] = append(hs[:i:i], hs[i+1:]...)
			st.Messages[m.uid] = rec[m.uid]
			found = append(found, m)
			continue
		}
		rest = append(rest, m)
	}
	if len(rec) > 0 {
		r.t.event(slog.LevelInfo, p.Source, "log.dedup.recognised", len(rec))
		if !r.job.DryRun {
			if err := r.job.Checkpoints.RecordMessages(ctx, p.Source, rec); err != nil {
				return nil, fmt.Errorf("record checkpoint: %w", err)
			}
		}
		for _, m := range found {
			r.t.settle(m, fateAlready, 0)
		}
	}
	return rest, nil
}

// reportLarge logs every message skipped for its size, with what the
// customer needs to find it.
func (r *runner) reportLarge(src *source, folder string, large []meta) {
	hs, err := r.fetchHeaders(src, uidsOf(large), true)
	byUID := map[uint32]header{}
	if err == nil {
		for _, h := range hs {
			byUID[h.uid] = h
		}
	}
	for _, m := range large {
		h := byUID[m.uid]
		from, subject, date := h.shown()
		sk := &SkippedMessage{Folder: folder, UID: m.uid, Size: m.size, Date: date, From: from, Subject: subject, Reason: ReasonTooLarge}
		if sk.Date.IsZero() {
			sk.Date = m.date
		}
		r.t.log(LogEntry{Time: time.Now(), Level: slog.LevelWarn, Folder: folder, Skipped: sk,
			Event: i18n.New("log.message.too_large",
				m.uid, i18n.Size(m.size), i18n.Size(r.job.MaxMessageSize), sk.From, sk.Subject, i18n.Day(sk.Date))})
	}
}

// listFailed lists, for the customer, every message of folder that this
// Run decided not to copy and has not listed yet, with its sender, subject
// and date when the source still tells them.
func (r *runner) listFailed(folder string) {
	vs := r.t.unlisted(folder)
	if len(vs) == 0 {
		return
	}
	byUID := map[uint32]header{}
	if r.c.src != nil {
		uids := make([]uint32, len(vs))
		for i, v := range vs {
			uids[i] = v.m.uid
		}
		if hs, err := r.fetchHeaders(r.c.src, uids, true); err == nil {
			for _, h := range hs {
				byUID[h.uid] = h
			}
		}
	}
	for _, v := range vs {
		from, subject, date := byUID[v.m.uid].shown()
		sk := &SkippedMessage{Folder: folder, UID: v.m.uid, Size: v.m.size, Date: date, From: from, Subject: subject, Reason: v.code, Detail: v.detail}
		if sk.Date.IsZero() {
			sk.Date = v.m.date
		}
		r.t.log(LogEntry{Time: time.Now(), Level: slog.LevelWarn, Folder: folder, Skipped: sk,
			Event: i18n.New("log.message.listed",
				v.m.uid, reasonMsg(v.code), detailSuffix(v.detail), sk.From, sk.Subject, i18n.Day(sk.Date))})
	}
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return ": " + clip(d)
}

// scrub takes the passwords of the job out of a server's words.
func (r *runner) scrub(s string) string {
	for _, pw := range []string{r.job.Source.Password, r.job.Dest.Password, r.job.Source.OAuth2Token, r.job.Dest.OAuth2Token} {
		if len(pw) >= 3 {
			s = strings.ReplaceAll(s, pw, "***")
		}
	}
	return s
}

// rememberLabelled notes the keys of a Gmail label folder's messages.
func (r *runner) rememberLabelled(src *source, metas []meta) error {
	if len(metas) == 0 {
		return nil
	}
	hs, err := r.fetchHeaders(src, nil, false)
	if err != nil {
		return err
	}
	for _, h := range hs {
		r.labelled[h.key]++
	}
	return nil
}

// dropLabelled keeps, of Gmail's All Mail, the messages in no label folder.
func (r *runner) dropLabelled(src *source, folder string, todo []meta) ([]meta, error) {
	if len(todo) == 0 {
		return todo, nil
	}
	hs, err := r.fetchHeaders(src, uidsOf(todo), false)
	if err != nil {
		return nil, err
	}
	inLabel := map[uint32]bool{}
	for _, h := range hs {
		if r.labelled[h.key] > 0 {
			inLabel[h.uid] = true
		}
	}
	rest := todo[:0:0]
	for _, m := range todo {
		if !inLabel[m.uid] {
			rest = append(rest, m)
			continue
		}
		r.t.settle(m, fateAlready, 0)
	}
	if n := len(todo) - len(rest); n > 0 {
		r.t.event(slog.LevelInfo, folder, "log.dedup.all_mail", n)
	}
	return rest, nil
}
