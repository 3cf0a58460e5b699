package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/trasloco/trasloco/internal/testenv"
)

// fingerprint is what must survive a copy unchanged: the exact bytes, the
// flags and keywords (without \Recent) and the INTERNALDATE (as an instant;
// Dovecot keeps no time zone for it).
type fingerprint struct {
	Sum   [32]byte
	Flags string
	Date  int64
}

// folderPrints maps a Message-ID to the fingerprints of the messages that
// carry it (more than one means a duplicate).
type folderPrints map[string][]fingerprint

// mailboxPrints maps a relative folder name ("Clienti/Società") to its
// messages.
type mailboxPrints map[string]folderPrints

// diff counts how a destination mailbox differs from the source, over the
// folders that should have been copied.
type diff struct {
	Missing, Extra, Body, Flags, Date int
	// ExcludedCopied counts messages found in destination folders that
	// should not exist or should be empty (Trash, Junk, Bulk …).
	ExcludedCopied int
	// Compared is the number of source messages checked.
	Compared int
}

// exact reports whether the copy was exact.
func (d diff) exact() bool {
	return d.Missing == 0 && d.Extra == 0 && d.Body == 0 && d.Flags == 0 && d.Date == 0 && d.ExcludedCopied == 0
}

// add sums two diffs.
func (d diff) add(o diff) diff {
	return diff{Missing: d.Missing + o.Missing, Extra: d.Extra + o.Extra, Body: d.Body + o.Body,
		Flags: d.Flags + o.Flags, Date: d.Date + o.Date, ExcludedCopied: d.ExcludedCopied + o.ExcludedCopied,
		Compared: d.Compared + o.Compared}
}

// String says "exact" or lists what differed.
func (d diff) String() string {
	if d.exact() {
		return "exact"
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{d.Body, "body"}, {d.Flags, "flags"}, {d.Date, "date"}, {d.Missing, "missing"}, {d.Extra, "extra"}, {d.ExcludedCopied, "excluded copied"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return "NO: " + strings.Join(parts, ", ")
}

// sourcePrints fingerprints the folders of user's source mailbox that
// should be copied.
func sourcePrints(src *testenv.Dovecot, user, password string) (mailboxPrints, error) {
	c, err := src.Connect(user, password)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := mailboxPrints{}
	for _, f := range corpusFolders {
		if !f.Copied {
			continue
		}
		fp, err := fetchPrints(c, f.Name)
		if err != nil {
			return nil, fmt.Errorf("fingerprint source %s of %s: %w", f.Name, user, err)
		}
		out[relName(f.Name)] = fp
	}
	return out, nil
}

// verify compares user's destination mailbox with the source fingerprints:
// every message of every copied folder, by Message-ID; and every other
// non-empty destination folder counts as excluded messages copied.
func verify(dst *testenv.Dovecot, user string, want mailboxPrints) (diff, error) {
	var d diff
	c, err := dst.Connect(user+"*"+dst.MasterUser(), dst.MasterPassword())
	if err != nil {
		return d, err
	}
	defer c.Close()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return d, fmt.Errorf("list destination of %s: %w", user, err)
	}
	present := map[string]bool{}
	for _, l := range list {
		present[l.Mailbox] = true
		if _, ok := want[l.Mailbox]; ok || slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) {
			continue
		}
		// Not a folder the copy should fill: Trash, Junk, Drafts … must
		// stay empty.
		st, err := c.Status(l.Mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			return d, fmt.Errorf("status %s of %s: %w", l.Mailbox, user, err)
		}
		if st.NumMessages != nil {
			d.ExcludedCopied += int(*st.NumMessages)
		}
	}
	for name, wantF := range want {
		got := folderPrints{}
		if present[name] {
			if got, err = fetchPrints(c, name); err != nil {
				return d, fmt.Errorf("fingerprint destination %s of %s: %w", name, user, err)
			}
		}
		d = d.add(compareFolder(wantF, got))
	}
	return d, nil
}

// compareFolder matches messages by Message-ID.
func compareFolder(want, got folderPrints) diff {
	var d diff
	for id, ws := range want {
		gs := got[id]
		d.Compared += len(ws)
		for i, w := range ws {
			if i >= len(gs) {
				d.Missing++
				continue
			}
			g := gs[i]
			if g.Sum != w.Sum {
				d.Body++
			}
			if g.Flags != w.Flags {
				d.Flags++
			}
			if g.Date != w.Date {
				d.Date++
			}
		}
		if len(gs) > len(ws) {
			d.Extra += len(gs) - len(ws)
		}
	}
	for id, gs := range got {
		if _, ok := want[id]; !ok {
			d.Extra += len(gs)
		}
	}
	return d
}

// fetchPrints fingerprints every message of folder, streaming the bodies.
func fetchPrints(c *imapclient.Client, folder string) (folderPrints, error) {
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine: %w", err)
	}
	out := folderPrints{}
	if sel.NumMessages == 0 {
		return out, nil
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var body bytes.Buffer
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var fp fingerprint
		var id string
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataFlags:
				fp.Flags = flagKey(it.Flags)
			case imapclient.FetchItemDataInternalDate:
				fp.Date = it.Time.Unix()
			case imapclient.FetchItemDataBodySection:
				body.Reset()
				if _, err := io.Copy(&body, it.Literal); err != nil {
					cmd.Close()
					return nil, fmt.Errorf("fetch: %w", err)
				}
				fp.Sum = sha256.Sum256(body.Bytes())
				id = messageID(body.Bytes())
			}
		}
		out[id] = append(out[id], fp)
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return out, nil
}

// flagKey is a canonical form of a flag list: sorted, system flags in lower
// case, \Recent dropped, keywords as they are.
func flagKey(flags []imap.Flag) string {
	var fs []string
	for _, f := range flags {
		s := string(f)
		if strings.HasPrefix(s, `\`) {
			s = strings.ToLower(s)
			if s == `\recent` {
				continue
			}
		}
		fs = append(fs, s)
	}
	slices.Sort(fs)
	return strings.Join(fs, " ")
}

// messageID returns the Message-ID header of a raw message ("" if none).
func messageID(raw []byte) string {
	header := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		header = raw[:i+2]
	}
	for line := range bytes.SplitSeq(header, []byte("\r\n")) {
		if len(line) > 11 && bytes.EqualFold(line[:11], []byte("message-id:")) {
			return string(bytes.TrimSpace(line[11:]))
		}
	}
	return ""
}
