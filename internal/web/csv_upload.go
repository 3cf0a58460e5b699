package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"

	"github.com/trasloco/trasloco/internal/csvimport"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/store"
)

// formOverhead is what a multipart form may carry beyond the CSV itself:
// the other fields and the part headers.
const formOverhead = 64 << 10

// parseUpload parses the uploaded CSV. A *csvimport.FileError (the file as
// a whole is refused) comes back as a user-facing message in problem; err
// is an internal failure.
func (s *server) parseUpload(r *http.Request, file multipart.File, allowEmptyPassword bool) (res *csvimport.Result, problem string, err error) {
	res, err = csvimport.Parse(file, csvimport.Limits{
		MaxBytes:           s.MaxCSVBytes,
		MaxLines:           s.MaxCSVLines,
		AllowEmptyPassword: allowEmptyPassword,
	})
	var fe *csvimport.FileError
	if errors.As(err, &fe) {
		return nil, fe.Message(lang(r)), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("parse csv: %w", err)
	}
	return res, "", nil
}

// newLines turns a parsed CSV into the rows to store: good lines pending,
// with their passwords sealed; refused lines failed, with their reasons
// (codes, rendered in the reader's language when shown). Problems about
// the file rather than a line come back in fileProblems.
func (s *server) newLines(tenantID int64, res *csvimport.Result) (lines []store.NewLine, fileProblems []i18n.Msg, err error) {
	for _, ln := range res.Lines {
		nl := store.NewLine{LineNo: ln.No, LocalUser: ln.LocalUser, RemoteHost: ln.RemoteHost, RemoteUser: ln.RemoteUser}
		if ln.RemotePassword != "" {
			nl.RemotePasswordEnc, err = s.Box.Seal([]byte(ln.RemotePassword), jobs.LineSecretAD(tenantID, ln.LocalUser, ln.RemoteHost, ln.RemoteUser))
			if err != nil {
				return nil, nil, fmt.Errorf("seal line %d password: %w", ln.No, err)
			}
		}
		lines = append(lines, nl)
	}
	// One failed row per refused line, with all its reasons.
	failed := map[int]i18n.List{}
	for _, p := range res.Problems {
		if p.Line <= 0 {
			fileProblems = append(fileProblems, p.Msg())
			continue
		}
		failed[p.Line] = append(failed[p.Line], p.Msg())
	}
	for no, msgs := range failed {
		reason := msgs[0]
		if len(msgs) > 1 {
			reason = i18n.New("csv.problems", msgs)
		}
		lines = append(lines, store.NewLine{LineNo: no, Status: store.LineFailed, Error: reason})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].LineNo < lines[j].LineNo })
	return lines, fileProblems, nil
}

// texts renders msgs in l.
func texts(l i18n.Lang, msgs []i18n.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text(l)
	}
	return out
}

// notesText joins the parser's notes (a BOM, a header line, … recognised)
// for a flash message.
func notesText(l i18n.Lang, res *csvimport.Result) string {
	msgs := make([]string, 0, len(res.Notes))
	for _, n := range res.Notes {
		msgs = append(msgs, n.Message(l))
	}
	return strings.Join(msgs, " ")
}

// isTooLarge reports whether err comes from http.MaxBytesReader.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// fileProblemsMsg is the stored problem of a file as a whole: none, the
// one, or all of them one after the other.
func fileProblemsMsg(ps []i18n.Msg) i18n.Msg {
	switch len(ps) {
	case 0:
		return i18n.Msg{}
	case 1:
		return ps[0]
	}
	return i18n.New("csv.file.problems", i18n.Sentences(ps))
}
