package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// keyCalls are the functions and methods whose string arguments are
// message keys: i18n's T, N, Has and New, the views' t, the engine's and
// the mailbox reporter's event, the validation's fail, and the others that
// take a key to render later.
var keyCalls = map[string]bool{
	"T": true, "N": true, "Has": true, "New": true, "t": true, "tn": true,
	"event": true, "fail": true, "errNoToken": true, "reasonMsg": true,
}

var keyShape = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z0-9_]+)+$`)

// TestEveryUsedKeyIsInTheCatalogs scans the Go source of the panel (every
// package of internal/ and the generated views of web/views) for the
// message keys it uses: a string argument of a call of keyCalls shaped
// like a key, and every literal starting with "log.". Each must be in a
// catalog, where TestEveryCatalogComplete checks it has both languages:
// so no code the engine, the jobs, the store or the web can emit lacks its
// Italian or its English text. Keys built at run time (a prefix and a
// code) are checked by the tests of their families.
func TestEveryUsedKeyIsInTheCatalogs(t *testing.T) {
	t.Parallel()
	prefixes := map[string]bool{}
	for _, c := range catalogs {
		for k := range c.msgs {
			p, _, _ := strings.Cut(k, ".")
			prefixes[p] = true
		}
	}
	used := map[string][]string{} // key → where
	fset := token.NewFileSet()
	for _, root := range []string{"..", filepath.Join("..", "..", "web", "views")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				return err
			}
			add := func(lit *ast.BasicLit) {
				if lit.Kind != token.STRING {
					return
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !keyShape.MatchString(s) {
					return
				}
				p, _, _ := strings.Cut(s, ".")
				if !prefixes[p] {
					return
				}
				used[s] = append(used[s], fset.Position(lit.Pos()).String())
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if keyCalls[callName(n.Fun)] {
						for _, a := range n.Args {
							if lit, ok := a.(*ast.BasicLit); ok {
								add(lit)
							}
						}
					}
				case *ast.CompositeLit: // errNoToken{key: "oauth.…"}
					if keyCalls[callName(n.Type)] {
						for _, e := range n.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								e = kv.Value
							}
							if lit, ok := e.(*ast.BasicLit); ok {
								add(lit)
							}
						}
					}
				case *ast.BasicLit:
					if strings.HasPrefix(n.Value, `"log.`) {
						add(n)
					}
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	require.Greater(t, len(used), 200, "the scan finds the keys the code uses")
	for _, k := range []string{"log.folder.done", "log.run.attempt", "check.failed", "web.log.title", "run.dest_full"} {
		require.Contains(t, used, k, "the scan sees the engine, the jobs and the views")
	}
	var missing []string
	for k, where := range used {
		if !Has(k) {
			missing = append(missing, k+" ("+where[0]+")")
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "keys used in the code but in no catalog")
}

func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return callName(e.X)
	}
	return ""
}
