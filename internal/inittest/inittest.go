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

// RegexpsAtInit returns the positions of the package-level regexp
// compilations in the non-test Go files of the directories dirs.
func RegexpsAtInit(t testing.TB, dirs ...string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if !strings.HasSuffix(path, "_test.go") {
				out = append(out, regexpsAtInit(t, fset, path)...)
			}
		}
	}
	return out
}

func regexpsAtInit(t testing.TB, fset *token.FileSet, path string) []string {
	t.Helper()
	var out []string
	f, err := parser.ParseFile(fset, path, nil, 0)
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
					out = append(out, fset.Position(sel.Pos()).String())
				}
			}
			return true
		})
	}
	return out
}
