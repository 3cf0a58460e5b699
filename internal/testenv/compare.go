package testenv

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Stored is one message as a comparison sees it.
type Stored struct {
	UID   imap.UID
	Sum   [32]byte // SHA-256 of the whole message
	Flags string   // sorted, \Recent left out
	Date  time.Time
}

// ReadFolder reads every message of a folder, keyed by Message-ID; a
// second message with the same Message-ID gets "#2", and so on, so a
// duplicate shows as an extra key.
func ReadFolder(c *imapclient.Client, name string) (map[string]Stored, error) {
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", name, err)
	}
	msgs := map[string]Stored{}
	if sel.NumMessages == 0 {
		return msgs, nil
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	body := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	for _, b := range bufs {
		raw := b.FindBodySection(body)
		base := MessageID(raw)
		id := base
		for i := 2; ; i++ {
			if _, dup := msgs[id]; !dup {
				break
			}
			id = fmt.Sprintf("%s#%d", base, i)
		}
		var fl []string
		for _, f := range b.Flags {
			if f != `\Recent` {
				fl = append(fl, string(f))
			}
		}
		slices.Sort(fl)
		msgs[id] = Stored{UID: b.UID, Sum: sha256.Sum256(raw), Flags: strings.Join(fl, " "), Date: b.InternalDate.UTC()}
	}
	return msgs, nil
}

// MessageID returns the Message-ID header of a raw message, or a digest
// of the message when it has none.
func MessageID(raw []byte) string {
	for line := range strings.SplitSeq(string(raw), "\r\n") {
		if line == "" {
			break
		}
		if strings.HasPrefix(strings.ToLower(line), "message-id:") {
			return strings.TrimSpace(line[len("message-id:"):])
		}
	}
	return fmt.Sprintf("no-id-%x", sha256.Sum256(raw))
}

// SameMail compares source folders with destination folders (mapping is
// source name → destination name) message by message: the same messages,
// byte for byte, with the same flags and internal dates, none missing and
// none twice. It returns an error naming the first difference.
func SameMail(src, dst *imapclient.Client, mapping map[string]string) error {
	for _, s := range slices.Sorted(maps.Keys(mapping)) {
		d := mapping[s]
		sm, err := ReadFolder(src, s)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		dm, err := ReadFolder(dst, d)
		if err != nil {
			return fmt.Errorf("destination: %w", err)
		}
		for id, m := range sm {
			got, ok := dm[id]
			switch {
			case !ok:
				return fmt.Errorf("folder %s → %s: message %s missing at the destination", s, d, id)
			case got.Sum != m.Sum:
				return fmt.Errorf("folder %s → %s: message %s differs", s, d, id)
			case got.Flags != m.Flags:
				return fmt.Errorf("folder %s → %s: message %s has flags %q, want %q", s, d, id, got.Flags, m.Flags)
			case !got.Date.Equal(m.Date):
				return fmt.Errorf("folder %s → %s: message %s has internal date %s, want %s", s, d, id, got.Date, m.Date)
			}
		}
		for id := range dm {
			if _, ok := sm[id]; !ok {
				return fmt.Errorf("folder %s → %s: message %s at the destination is not in the source (copied twice?)", s, d, id)
			}
		}
	}
	return nil
}
