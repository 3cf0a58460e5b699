package csvimport

import (
	"strings"
	"testing"

	"github.com/trasloco/trasloco/internal/i18n"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		good, "", "\uFEFF" + good + "\r\n\r\n", "email;host;user;pw\n" + good,
		"a;b;c", ";;;", "a@b.c;[::1]:99999;u;p;q", "x@y.z;h:1;u;\x00", good + "\n" + good,
		"a@acme.test;h;u;\xff", " a@acme.test ; h ; u ; p \r", "a,b,c,d", "\xff\xfe",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, allowEmpty bool) {
		res, err := Parse(strings.NewReader(in), Limits{MaxLines: 50, MaxBytes: 4096, AllowEmptyPassword: allowEmpty})
		if err != nil {
			if _, ok := AsFileError(err); !ok {
				t.Fatalf("error is not a *FileError: %v", err)
			}
			return
		}
		text := strings.TrimPrefix(in, "\uFEFF")
		text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
		physical := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		nonBlank := map[int]bool{}
		for i, l := range physical {
			if strings.TrimSpace(l) != "" {
				nonBlank[i+1] = true
			}
		}
		for _, n := range res.Notes {
			if n.Code == "csv.note.header" {
				delete(nonBlank, n.Line)
			}
			if n.Line < 0 || n.Line > len(physical) {
				t.Fatalf("note names line %d of %d", n.Line, len(physical))
			}
		}
		seen := map[int]string{}
		for _, l := range res.Lines {
			if !nonBlank[l.No] {
				t.Fatalf("line %d is not a data line", l.No)
			}
			if seen[l.No] != "" {
				t.Fatalf("line %d twice", l.No)
			}
			seen[l.No] = "line"
			if l.LocalUser == "" || l.RemoteHost == "" || l.RemoteUser == "" || (l.RemotePassword == "" && !allowEmpty) {
				t.Fatalf("line %d accepted with an empty field: %+v", l.No, l)
			}
		}
		for _, p := range res.Problems {
			if p.Line < 1 || p.Line > len(physical) || !nonBlank[p.Line] {
				t.Fatalf("problem names line %d of %d", p.Line, len(physical))
			}
			if seen[p.Line] == "line" {
				t.Fatalf("line %d both accepted and refused", p.Line)
			}
			seen[p.Line] = "problem"
			// The password (after the third ";") must not be quoted, unless
			// it is also part of the other fields.
			fields := strings.SplitN(physical[p.Line-1], ";", 4)
			if len(fields) == 4 {
				pw := strings.TrimSpace(fields[3])
				if len(pw) >= 4 && !strings.Contains(strings.Join(fields[:3], ";"), pw) {
					for _, l := range []i18n.Lang{i18n.Italian, i18n.English} {
						if m := p.Message(l); strings.Contains(m, pw) {
							t.Fatalf("message %q holds the password %q", m, pw)
						}
					}
				}
			}
		}
		if len(seen) != len(nonBlank) {
			t.Fatalf("%d data lines, %d accounted for", len(nonBlank), len(seen))
		}
	})
}
