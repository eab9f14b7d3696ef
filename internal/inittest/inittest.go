// Package inittest checks what a package does at initialisation. Every
// gzdoctor command links every feature package, so their init is paid by
// `check` and `elfcheck` too.
package inittest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// NoRegexpAtInit fails for each regexp compiled at package level in the
// non-test Go files of the current directory (the package under test):
// wrap it in sync.OnceValue, or compile it where it is first needed.
func NoRegexpAtInit(t testing.TB) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			ast.Inspect(gd, func(n ast.Node) bool {
				if _, ok := n.(*ast.FuncLit); ok {
					return false // runs when called, not at init
				}
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "regexp" && strings.HasPrefix(sel.Sel.Name, "MustCompile") {
						t.Errorf("%s: regexp compiled at package initialisation", fset.Position(sel.Pos()))
					}
				}
				return true
			})
		}
	}
}
