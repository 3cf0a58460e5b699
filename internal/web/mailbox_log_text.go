package web

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// mailboxLogText is the log of one mailbox in one run as a plain-text
// download, one line per entry: the time (RFC 3339, in the tenant's time
// zone), the level, the folder ("-" when none) and the message, separated
// by tabs; the message in the reader's language.
func (s *server) mailboxLogText(w http.ResponseWriter, r *http.Request) {
	c, l := me(r), lang(r)
	m, mb, ok := s.loadMailboxRun(w, r)
	if !ok {
		return
	}
	logs, err := store.ListMailboxLogs(r.Context(), s.Pool, c.Tenant.ID, mb.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	for _, ln := range logs {
		buf.WriteString(logTextLine(l, ln, c.Loc))
	}
	name := fmt.Sprintf("trasloco-%d-run%d-%s.log", m.ID, mb.RunNo, fileNamePart(mb.LocalUser))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// logTextLine is one entry of the plain-text log, ending in a newline. Line
// breaks and tabs inside the fields become spaces, so an entry stays one line.
func logTextLine(l i18n.Lang, ln store.LogLine, loc *time.Location) string {
	folder := ln.Folder
	if folder == "" {
		folder = "-"
	}
	return strings.Join([]string{
		ln.At.In(loc).Format(time.RFC3339),
		strings.ToUpper(ln.Level),
		oneLine(folder),
		oneLine(ln.Text(l)),
	}, "\t") + "\n"
}

var oneLineReplacer = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

func oneLine(s string) string { return oneLineReplacer.Replace(s) }

// fileNamePart keeps the characters that are safe in a file name on every
// system (letters, digits, ".", "_", "-", "@", "+") and turns the rest into "_".
func fileNamePart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case strings.ContainsRune("._-@+", r):
			return r
		}
		return '_'
	}, s)
}
