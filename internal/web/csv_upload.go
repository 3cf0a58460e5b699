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
// with their passwords sealed; refused lines failed, with their reasons in
// the user's language. Problems about the file rather than a line come
// back in fileProblems.
func (s *server) newLines(l i18n.Lang, tenantID int64, res *csvimport.Result) (lines []store.NewLine, fileProblems []string, err error) {
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
	failed := map[int][]string{}
	for _, p := range res.Problems {
		if p.Line <= 0 {
			fileProblems = append(fileProblems, p.Message(l))
			continue
		}
		failed[p.Line] = append(failed[p.Line], p.Message(l))
	}
	for no, msgs := range failed {
		lines = append(lines, store.NewLine{LineNo: no, Status: store.LineFailed, ErrorText: strings.Join(msgs, "; ")})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].LineNo < lines[j].LineNo })
	return lines, fileProblems, nil
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
