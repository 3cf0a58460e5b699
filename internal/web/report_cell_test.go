package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A cell from the old server (a sender, a subject, a folder) that a
// spreadsheet would evaluate is defused however it begins: after spaces
// (which some spreadsheets skip before a formula), with a fullwidth sign (which
// some take for its ASCII form), or with the ASCII signs themselves.
func TestReportCellDefusesFormulas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+39 06 1234", "'+39 06 1234"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"  =HYPERLINK(\"http://evil.test\")", "'  =HYPERLINK(\"http://evil.test\")"},
		{"\u00a0=1+1", "'\u00a0=1+1"},
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"", ""},
		{"   ", "   "},
		{"Fatture 2024", "Fatture 2024"},
		{"anna@acme.test", "anna@acme.test"},
		{"Re: =?utf-8?", "Re: =?utf-8?"},
	} {
		require.Equal(t, tc.want, reportCell(tc.in), "%q", tc.in)
	}
}
