package transfer

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The old server is never written to, by construction: the engine reaches
// the source only through the source type, whose go-imap calls (all in
// source.go) are commands that read. A new call there, or a reach past the
// type from another file, fails here and asks for a look.
func TestSourceOnlyReads(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	past := regexp.MustCompile(`\bsrc\.s\b`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "source.go" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.False(t, past.Match(b), "%s reaches the source's session past the source type", f)
	}
	b, err := os.ReadFile("source.go")
	require.NoError(t, err)
	var calls []string
	for _, m := range regexp.MustCompile(`\bs\.c\.([A-Za-z]+)\(`).FindAllStringSubmatch(string(b), -1) {
		calls = append(calls, m[1])
	}
	sort.Strings(calls)
	require.Equal(t, []string{"Fetch", "Select", "Status", "UIDSearch"}, calls, "the source's commands")
	require.Contains(t, string(b), "Select(name, &imap.SelectOptions{ReadOnly: true})", "folders are opened with EXAMINE")
	require.Contains(t, string(b), "bs.Peek = true", "bodies are fetched with BODY.PEEK")
}
